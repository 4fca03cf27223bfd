/// <reference lib="dom" />
// The player test page: an MsePlayer fed by the HTTP chunk feed at /feed. `?quota=N` makes the
// Nth appendBuffer throw QuotaExceededError once, as a full media buffer would.

import { MsePlayer } from '../../src/browser/player.js';
import { startFeedViewer } from '../../src/browser/ui/feed-viewer.js';

const params = new URLSearchParams(location.search);
const quotaAt = Number(params.get('quota') ?? 0);
if (quotaAt > 0) {
  const original = SourceBuffer.prototype.appendBuffer;
  let calls = 0;
  SourceBuffer.prototype.appendBuffer = function (this: SourceBuffer, data: BufferSource) {
    calls++;
    if (calls === quotaAt) throw new DOMException('test: buffer full', 'QuotaExceededError');
    return original.call(this, data);
  };
}

const player = new MsePlayer(document.getElementById('player') as HTMLElement);
const viewer = await startFeedViewer('/feed');
viewer.onPlay((chunk) => player.append(chunk));
viewer.onSkip((seq) => player.skip(seq));
Object.assign(window, { test: { player, viewer } });
