// What the watch page's notice over the video says for a second's figures (playbackNotice):
// pure, so checked here without a browser; pages.test.ts shows it in Chromium.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMPTY_VIEWER_STATS, type PageStats, playbackNotice } from '../../src/browser/ui/playback-notice.js';

const player: PageStats['player'] = {
  bufferAheadS: 0,
  behindNewestS: 0,
  bufferedBehindS: 0,
  backBufferS: 300,
  atLive: true,
  timeshiftS: 0,
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

test('a tab no peer reaches is told where its stream comes from, or why it has none', () => {
  assert.equal(playbackNotice(page({}, { origin: 'full' }), true)?.text, 'The broadcaster is full: waiting for peers…');
  assert.equal(
    playbackNotice(page({}, { origin: 'unreachable' }), true)?.text,
    "No peers reachable, and the broadcaster's origin does not answer: still trying…",
  );
  const playing = { startupMs: 900, playing: true, bufferAheadS: 0.8 };
  assert.equal(
    playbackNotice(page(playing, { origin: 'streaming', chunksPlayed: 40 }), true)?.text,
    'Playing from the broadcaster: no peers reachable',
  );
  assert.equal(
    playbackNotice(page(playing, { origin: 'streaming', chunksPlayed: 40, webrtc: false }), true)?.text,
    'Playing from the broadcaster: no peers reachable (this browser has no WebRTC)',
  );
  assert.equal(
    playbackNotice(page(playing, { origin: 'streaming', chunksPlayed: 40, peers: 2 }), true)?.text,
    undefined,
    'peers carry it again',
  );
});
