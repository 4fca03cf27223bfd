// The web player's timeshift decisions (src/browser/timeshift.ts) on plain buffered ranges:
// where a step back or forward lands, when it snaps back to live, what is evicted, and the
// badge's text, and how playback follows the live edge. Chromium shows them at work in embed.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PLAYER_CONFIG } from '../../src/browser/player-config.js';
import { contiguousAhead, evictionEnd, gapTarget, liveAction, planSeek, type Ranges, timeshiftLabel } from '../../src/browser/timeshift.js';

function ranges(...pairs: [number, number][]): Ranges {
  return { length: pairs.length, start: (i) => (pairs[i] as [number, number])[0], end: (i) => (pairs[i] as [number, number])[1] };
}

test('a step back lands 10 s earlier, never before the oldest media held', () => {
  const b = ranges([100, 400]);
  assert.deepEqual(planSeek(b, 399, -10, 1, 2), { timeS: 389, live: false });
  assert.deepEqual(planSeek(b, 105, -10, 1, 2), { timeS: 100.5, live: false });
  assert.equal(planSeek(ranges(), 0, -10, 1, 2), undefined);
});

test('a step forward that reaches the live edge goes back to live', () => {
  const b = ranges([100, 400]);
  assert.deepEqual(planSeek(b, 370, 10, 1, 2), { timeS: 380, live: false });
  assert.deepEqual(planSeek(b, 388, 10, 1, 2), { timeS: 399, live: true }, 'within 2 s of live');
  assert.deepEqual(planSeek(b, 395, 10, 1, 2), { timeS: 399, live: true }, 'past the newest data');
});

test('the back buffer keeps the newest backBufferS, evicting oldest first in steps', () => {
  assert.equal(evictionEnd(ranges([0, 305]), 300, 10), undefined, 'only 5 s over: not worth a pass yet');
  assert.equal(evictionEnd(ranges([0, 320]), 300, 10), 20);
  assert.equal(evictionEnd(ranges([0, 50], [60, 400]), 300, 10), 100, 'measured from the newest data, across holes');
  assert.equal(evictionEnd(ranges(), 300, 10), undefined);
});

test('gaps are jumped near a range end, or at once when forced', () => {
  const b = ranges([0, 10], [10.5, 20]);
  assert.equal(gapTarget(b, 5, 0.12, false), undefined);
  assert.equal(gapTarget(b, 9.95, 0.12, false), 10.5);
  assert.equal(gapTarget(b, 5, 0.12, true), 10.5);
  assert.equal(gapTarget(b, 10.2, 0.12, false), 10.5, 'in the hole itself');
  assert.equal(gapTarget(b, 19.95, 0.12, false), undefined, 'nothing after the last range');
  assert.equal(contiguousAhead(b, 12), 8);
  assert.equal(contiguousAhead(b, 10.2), 0);
});

test('the badge says LIVE at the edge, else how far behind, as TV apps do', () => {
  assert.equal(timeshiftLabel(true, 0), 'LIVE');
  assert.equal(timeshiftLabel(false, 0.2), '-0:00');
  assert.equal(timeshiftLabel(false, 5.4), '-0:05');
  assert.equal(timeshiftLabel(false, 150), '-2:30');
  assert.equal(timeshiftLabel(false, 3725), '-1:02:05');
  assert.equal(timeshiftLabel(false, -3), '-0:00');
});

test('a player that starts on a backlog jumps to live; once settled it catches up at 1.1x and seeks only far behind', () => {
  const c = DEFAULT_PLAYER_CONFIG;
  // The burst a channel sends as it starts: 5 s behind at the first frame.
  assert.equal(liveAction(5, false, c), 'seek');
  assert.equal(liveAction(1.2, false, c), 'keep');
  // The same backlog after a stall, once playback had been at live: played off faster.
  assert.equal(liveAction(5, true, c), 'catch-up');
  assert.equal(liveAction(c.seekAboveS + 0.5, true, c), 'seek');
  assert.equal(liveAction(0.5, true, c), 'normal');
});
