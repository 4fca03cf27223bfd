// What the watch page's notice over the video says for a second's figures (playbackNotice):
// pure, so checked here without a browser; pages.test.ts shows it in Chromium.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMPTY_VIEWER_STATS, type PageStats, playbackNotice } from '../../src/browser/ui/watch-page.js';

const player: PageStats['player'] = {
  bufferAheadS: 0,
  behindNewestS: 0,
  stalls: 0,
  longestStallMs: 0,
  totalStallMs: 0,
  playing: false,
  currentTime: 0,
  lagMs: undefined,
  startupMs: undefined,
  chunksAppended: 0,
  chunksSkipped: 0,
  gapJumps: 0,
  liveSeeks: 0,
  quotaEvictions: 0,
  recoveries: 0,
  droppedVideoFrames: 0,
  error: undefined,
  ended: false,
  failed: false,
};

function page(p: Partial<PageStats['player']> = {}, s: Partial<PageStats> = {}): PageStats {
  return {
    ...EMPTY_VIEWER_STATS,
    ...s,
    player: { ...player, ...p },
  };
}

test('until the viewer has joined, the notice is left as it is unless playback failed or ended', () => {
  assert.equal(playbackNotice(page(), false), undefined);
  assert.deepEqual(playbackNotice(page({ failed: true, error: 'no codec' }), false), { text: 'Playback stopped: no codec', kind: 'error' });
  assert.deepEqual(playbackNotice(page({ ended: true }), false), { text: 'The broadcast has ended.', kind: 'info' });
});

test('a joined viewer is told what playback waits for, and the notice goes once it plays', () => {
  assert.equal(playbackNotice(page(), true)?.text, 'Looking for peers…');
  assert.equal(playbackNotice(page({}, { peers: 2 }), true)?.text, 'Buffering…');
  assert.equal(playbackNotice(page({}, { chunksPlayed: 3 }), true)?.text, 'Starting playback…');
  assert.equal(playbackNotice(page({ startupMs: 800 }), true)?.text, 'Waiting for the stream…');
  assert.deepEqual(playbackNotice(page({ startupMs: 800, playing: true, bufferAheadS: 0.5 }), true), {
    text: undefined,
    kind: 'info',
  });
});
