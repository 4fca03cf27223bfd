// AbrSession with stand-in lanes whose counts the test sets: a higher rendition is tried
// before it is played, a try that hurts is given up and held off, the lowest rendition's
// swarm is kept as a relay above it, and an upload cap is shared by the lanes' rates.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AbrLane, type AbrOutput, AbrSession } from '../../src/protocol/abr-session.js';
import { type Chunk, FLAG_KEYFRAME } from '../../src/protocol/chunk.js';
import { type CoreStats, emptyCoreStats } from '../../src/protocol/core-types.js';

const LADDER = [
  { name: 'low', bitrateBps: 600_000 },
  { name: 'high', bitrateBps: 2_400_000 },
];

class FakeLane implements AbrLane {
  stats: CoreStats = { ...emptyCoreStats(), neighbours: 4, started: true };
  peakBps: number | undefined = 20_000_000;
  getStats(): CoreStats {
    return this.stats;
  }
  fetchRate() {
    return { peakBps: this.peakBps, samples: 16 };
  }
  slackMs = 2000;
  playoutSlackMs(): number {
    return this.slackMs;
  }
  supplyShort(nowMs: number): boolean {
    return this.stats.lastMissAtMs !== undefined && nowMs - this.stats.lastMissAtMs < 10_000;
  }
}

function chunk(rendition: number, i: number): Chunk {
  return {
    channelKey: new Uint8Array(32).fill(rendition),
    seq: i,
    captureTimeMs: i * 250,
    flags: i % 4 === 0 ? FLAG_KEYFRAME : 0,
    payload: Uint8Array.of(rendition, i),
    signature: new Uint8Array(64),
  };
}

function setup() {
  const lanes = new Map<number, FakeLane>();
  const opened: number[] = [];
  const closed: number[] = [];
  const out: AbrOutput[] = [];
  const session = new AbrSession(LADDER, 'auto', 0, {
    open: (i) => {
      opened.push(i);
      const lane = new FakeLane();
      lanes.set(i, lane);
      return lane;
    },
    close: (i) => closed.push(i),
    output: (e) => out.push(e),
  });
  return { session, lanes, opened, closed, out };
}

/** Both lanes play chunks i..j-1, the current one first. */
function playBoth(session: AbrSession, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    session.played(0, chunk(0, i), i * 250);
    session.played(1, chunk(1, i), i * 250);
  }
}

describe('AbrSession', () => {
  test('a higher rendition is tried, then played once it played 3 s without a miss; the lowest stays as a relay', () => {
    const { session, lanes, opened, closed, out } = setup();
    session.tick(15_000);
    assert.deepEqual(opened, [0, 1], 'the higher rendition is joined for a try');
    assert.equal(session.current, 0);
    const trial = lanes.get(1) as FakeLane;
    trial.stats = { ...trial.stats, mediaMsPlayed: 2000 };
    session.tick(16_000);
    playBoth(session, 60, 68);
    assert.equal(session.current, 0, 'not before the try has played 3 s');
    trial.stats = { ...trial.stats, mediaMsPlayed: 3000 };
    session.tick(17_000);
    playBoth(session, 68, 73);
    assert.equal(session.current, 1);
    assert.ok(out.some((e) => e.type === 'switched' && e.from === 0 && e.to === 1));
    assert.deepEqual(closed, [], 'the lowest rendition is kept as a relay');
    assert.deepEqual(session.openLanes().sort(), [0, 1]);
    assert.deepEqual(
      [...session.uploadShares()],
      [
        [0, 0.2],
        [1, 0.8],
      ],
    );
  });

  test('a try that makes the current rendition miss is given up and not retried at once', () => {
    const { session, lanes, closed, out } = setup();
    session.tick(15_000);
    const current = lanes.get(0) as FakeLane;
    current.stats = { ...current.stats, lastMissAtMs: 15_500, mediaMsMissed: 250 };
    session.tick(16_000);
    assert.deepEqual(closed, [1]);
    assert.ok(out.some((e) => e.type === 'gave-up' && e.index === 1));
    assert.equal(session.target, undefined);
    // Calm again, fast fetches: still held off for 30 s after the failed try.
    current.stats = { ...current.stats, lastMissAtMs: undefined };
    session.tick(40_000);
    assert.equal(session.target, undefined);
    session.tick(47_000);
    assert.equal(session.target, 1);
  });

  test('a slow download keeps it on the lowest rendition', () => {
    const { session, lanes, opened } = setup();
    (lanes.get(0) as FakeLane).peakBps = 3_000_000;
    for (let t = 1000; t <= 60_000; t += 1000) session.tick(t);
    assert.deepEqual(opened, [0]);
  });

  test('totals count what fed the output, and bytes of every lane', () => {
    const { session, lanes } = setup();
    const low = lanes.get(0) as FakeLane;
    low.stats = { ...low.stats, mediaMsPlayed: 10_000, mediaMsMissed: 250, mediaBytesIn: 1000 };
    session.tick(15_000);
    const high = lanes.get(1) as FakeLane;
    high.stats = { ...high.stats, mediaMsPlayed: 4000, mediaMsMissed: 0, mediaBytesIn: 500 };
    session.tick(16_000);
    playBoth(session, 60, 65);
    assert.equal(session.current, 1);
    high.stats = { ...high.stats, mediaMsPlayed: 9000 };
    const t = session.totals();
    assert.equal(t.mediaMsPlayed, 10_000 + 5000, 'the high lane counts from the switch on');
    assert.equal(t.mediaMsMissed, 250);
    assert.equal(t.mediaBytesIn, 1500);
  });

  test('a chosen rendition is switched to at the next shared keyframe, and the controller stops adapting', () => {
    const { session, lanes, out } = setup();
    session.pin(1, 1000);
    assert.equal(session.target, 1);
    const high = lanes.get(1) as FakeLane;
    high.stats = { ...high.stats, mediaMsPlayed: 500 };
    playBoth(session, 8, 13);
    assert.equal(session.current, 1, 'no 3 s try for a chosen rendition');
    assert.ok(out.some((e) => e.type === 'switched' && e.reason === 'chosen'));
    // Fetches say the line is too slow for high, but the user chose it.
    high.peakBps = 500_000;
    for (let t = 5000; t < 60_000; t += 1000) session.tick(t);
    assert.equal(session.current, 1);
    assert.equal(session.target, undefined);
  });

  test('a chosen rendition that cannot be reached is dropped, and the session adapts again', () => {
    const { session, closed, out } = setup();
    session.pin(1, 1000);
    session.tick(2000);
    session.tick(22_000);
    assert.equal(session.pinnedIndex, undefined);
    assert.deepEqual(closed, [1]);
    assert.ok(out.some((e) => e.type === 'gave-up' && e.index === 1));
    assert.equal(session.current, 0);
  });

  test('choosing the rendition being tried arms the try at once', () => {
    const { session, lanes } = setup();
    session.tick(15_000);
    assert.equal(session.target, 1);
    session.pin(1, 15_500);
    (lanes.get(1) as FakeLane).stats.mediaMsPlayed = 250;
    playBoth(session, 60, 65);
    assert.equal(session.current, 1);
  });

  test('a stall on a higher rendition sends it down before any chunk is given up', () => {
    const { session, lanes, out } = setup();
    session.pin(1, 1000);
    (lanes.get(1) as FakeLane).stats.mediaMsPlayed = 250;
    playBoth(session, 8, 13);
    assert.equal(session.current, 1);
    session.pin(undefined, 4000);
    // Playback stops: nothing more is played and the next chunk is overdue.
    const high = lanes.get(1) as FakeLane;
    high.slackMs = 0;
    session.tick(4000);
    assert.equal(session.target, undefined, 'not yet: 1.5 s without a chunk first');
    session.tick(6500);
    assert.equal(session.target, 0);
    assert.ok(out.some((e) => e.type === 'trying' && e.index === 0 && e.reason === 'stalling'));
  });
});
