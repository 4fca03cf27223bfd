// Playout clock: starts on a keyframe chunk, plays contiguous chunks at once, and skips a
// missing chunk only when it is overdue, something later is already held, and it is not on its
// way (then it is waited for, up to maxLagMs behind capture).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Chunk, FLAG_KEYFRAME } from '../../src/protocol/chunk.js';
import { Playout, type PlayoutAction } from '../../src/protocol/playout.js';

const SLACK = 1500;
const CHUNK_MS = 250;

function chunk(seq: number, captureTimeMs: number, flags = 0): Chunk {
  return { channelKey: new Uint8Array(32), seq, captureTimeMs, flags, payload: Uint8Array.of(seq & 0xff), signature: new Uint8Array(64) };
}

/** Chunks captured every 250 ms from time 0, keyframe every 4th. */
function held(...seqs: number[]): Map<number, Chunk> {
  return new Map(seqs.map((s) => [s, chunk(s, s * CHUNK_MS, s % 4 === 0 ? FLAG_KEYFRAME : 0)]));
}

/** `awaited`: which missing chunks are on their way (none unless given). */
function advance(p: Playout, now: number, store: Map<number, Chunk>, awaited?: (seq: number) => boolean): PlayoutAction[] {
  return p.advance(now, (s) => store.get(s), Math.max(-1, ...store.keys()), awaited);
}

function describeActions(actions: PlayoutAction[]): string[] {
  return actions.map((a) => (a.type === 'play' ? `play ${a.chunk.seq}` : `skip ${a.seq}`));
}

function newPlayout(): Playout {
  return new Playout({ slackMs: SLACK, nominalChunkMs: CHUNK_MS });
}

describe('Playout start', () => {
  test('nothing plays before a start is chosen', () => {
    const p = newPlayout();
    assert.deepEqual(advance(p, 1000, held(0, 1, 2)), []);
    assert.equal(p.isStarted, false);
    assert.equal(p.nextSeq, undefined);
    assert.equal(p.deadlineMs(0), undefined);
    assert.equal(p.slackMs(1000), 0);
  });

  test('does not start until the chosen start chunk is present', () => {
    const p = newPlayout();
    p.chooseStart(4);
    assert.equal(p.nextSeq, 4);
    assert.deepEqual(advance(p, 2000, held(5, 6, 7)), []);
    assert.equal(p.isStarted, false);
    assert.deepEqual(describeActions(advance(p, 2100, held(4, 5, 6, 7))), ['play 4', 'play 5', 'play 6', 'play 7']);
    assert.equal(p.isStarted, true);
    assert.equal(p.startedAtMs, 2100);
  });

  test('does not start on a chunk that is not flagged as a keyframe', () => {
    const p = newPlayout();
    const store = held(1, 2, 3);
    p.chooseStart(2);
    assert.deepEqual(advance(p, 2000, store), []);
    assert.equal(p.isStarted, false);
    // The same seq arriving flagged as a keyframe does start.
    store.set(2, chunk(2, 500, FLAG_KEYFRAME));
    assert.deepEqual(describeActions(advance(p, 2001, store)), ['play 2', 'play 3']);
    assert.equal(p.isStarted, true);
  });

  test('the start can move before playback begins but not after', () => {
    const p = newPlayout();
    p.chooseStart(0);
    p.chooseStart(8);
    assert.equal(p.nextSeq, 8);
    assert.deepEqual(describeActions(advance(p, 3000, held(0, 1, 8))), ['play 8']);
    p.chooseStart(0);
    assert.equal(p.nextSeq, 9);
  });
});

describe('Playout after start', () => {
  test('plays contiguous chunks in order and reports lag = now - captureTimeMs', () => {
    const p = newPlayout();
    const store = held(4, 5, 6);
    p.chooseStart(4);
    const first = advance(p, 1700, store);
    assert.deepEqual(describeActions(first), ['play 4', 'play 5', 'play 6']);
    for (const a of first) {
      assert.equal(a.type, 'play');
      if (a.type === 'play') {
        assert.equal(a.lagMs, 1700 - a.chunk.captureTimeMs);
        assert.equal(a.late, false);
      }
    }
    assert.equal(p.nextSeq, 7);
    assert.deepEqual(advance(p, 1800, store), [], 'nothing new to play');
    store.set(8, chunk(8, 2000, FLAG_KEYFRAME));
    assert.deepEqual(advance(p, 1900, store), [], 'waits for 7 while it is not overdue');
    store.set(7, chunk(7, 1750));
    const next = advance(p, 2050, store);
    assert.deepEqual(describeActions(next), ['play 7', 'play 8']);
    const lags = next.map((a) => (a.type === 'play' ? a.lagMs : Number.NaN));
    assert.deepEqual(lags, [2050 - 1750, 2050 - 2000]);
  });

  test('a missing chunk is skipped only after its deadline and when a later chunk is held', () => {
    const p = newPlayout();
    const store = held(0, 1);
    p.chooseStart(0);
    // Started at 1000 for a chunk captured at 0: offset = 1000 + slack, so chunk 2
    // (captured at 500) is due at 500 + 1000 + 1500 = 3000.
    assert.deepEqual(describeActions(advance(p, 1000, store)), ['play 0', 'play 1']);
    assert.equal(p.deadlineMs(2), 3000);
    assert.equal(p.slackMs(1000), 2000);

    // Overdue, but nothing later is held: wait (a stall, not a skip).
    assert.deepEqual(advance(p, 3500, store), []);
    assert.equal(p.slackMs(3500), 0);

    store.set(3, chunk(3, 750));
    const before = new Playout({ slackMs: SLACK, nominalChunkMs: CHUNK_MS });
    before.chooseStart(0);
    advance(before, 1000, held(0, 1));
    assert.deepEqual(advance(before, 2999, store), [], 'a later chunk held but 2 is not yet due');

    const actions = advance(p, 3500, store);
    assert.deepEqual(describeActions(actions), ['skip 2', 'play 3']);
    const skip = actions[0];
    assert.ok(skip?.type === 'skip');
    assert.equal(skip.mediaMs, CHUNK_MS);
    assert.equal(p.nextSeq, 4);
  });

  test('skips exactly at the deadline', () => {
    const p = newPlayout();
    p.chooseStart(0);
    advance(p, 1000, held(0, 1));
    const store = held(0, 1, 3);
    assert.deepEqual(advance(p, 2999, store), []);
    assert.deepEqual(describeActions(advance(p, 3000, store)), ['skip 2', 'play 3']);
  });

  test('a run of missing chunks is skipped up to the next held one', () => {
    const p = newPlayout();
    p.chooseStart(0);
    advance(p, 1000, held(0));
    assert.deepEqual(describeActions(advance(p, 10_000, held(0, 5))), ['skip 1', 'skip 2', 'skip 3', 'skip 4', 'play 5']);
  });

  test('a chunk played after its deadline is marked late', () => {
    const p = newPlayout();
    p.chooseStart(0);
    advance(p, 1000, held(0));
    assert.equal(p.deadlineMs(1), 2750);
    const [a] = advance(p, 2751, held(0, 1));
    assert.ok(a?.type === 'play');
    assert.equal(a.late, true);
    assert.equal(a.lagMs, 2751 - 250);
  });

  test('an overdue chunk on its way is waited for, and the delay the stall adds stays', () => {
    const p = newPlayout();
    p.chooseStart(0);
    advance(p, 1000, held(0, 1));
    const onItsWay = (s: number) => s === 2;
    // Chunk 2 is due at 3000 (see above); 3 is held, but 2 was asked for: a stall, not a skip.
    assert.deepEqual(advance(p, 3500, held(0, 1, 3), onItsWay), []);
    const actions = advance(p, 3800, held(0, 1, 2, 3), onItsWay);
    assert.deepEqual(describeActions(actions), ['play 2', 'play 3']);
    assert.equal(actions[0]?.type === 'play' && actions[0].late, true);
    // 800 ms late: every later deadline moved back by 800 ms (chunk 4 was due at 3500).
    assert.equal(p.deadlineMs(4), 3500 + 800);
  });

  test('the wait ends at maxLagMs after capture, or at once when nobody offers the chunk', () => {
    const p = new Playout({ slackMs: SLACK, nominalChunkMs: CHUNK_MS, maxLagMs: 3000 });
    p.chooseStart(0);
    advance(p, 1000, held(0, 1));
    const store = held(0, 1, 3);
    // Chunk 2 was captured at 500: waited for until 3500.
    assert.deepEqual(
      advance(p, 3499, store, () => true),
      [],
    );
    assert.deepEqual(describeActions(advance(p, 3500, store, () => true)), ['skip 2', 'play 3']);
    const q = newPlayout();
    q.chooseStart(0);
    advance(q, 1000, held(0, 1));
    assert.deepEqual(describeActions(advance(q, 3000, store, () => false)), ['skip 2', 'play 3']);
  });

  test('the chunk duration is learned from capture times', () => {
    const p = newPlayout();
    const store = new Map<number, Chunk>();
    for (let s = 0; s < 40; s++) store.set(s, chunk(s, s * 500, s === 0 ? FLAG_KEYFRAME : 0));
    p.chooseStart(0);
    assert.equal(advance(p, 100, store).length, 40);
    assert.ok(Math.abs(p.chunkMs - 500) < 10, `estimate ${p.chunkMs}`);
  });

  test('a first chunk fresh from the broadcaster waits until minStartLagMs behind its capture, then plays at once', () => {
    const p = new Playout({ slackMs: SLACK, nominalChunkMs: CHUNK_MS, minStartLagMs: 1500 });
    const store = held(0, 1, 2, 3);
    p.chooseStart(0);
    assert.deepEqual(describeActions(advance(p, 200, store)), [], 'too close to capture');
    assert.equal(p.isStarted, false);
    assert.deepEqual(describeActions(advance(p, 1500, store)), ['play 0', 'play 1', 'play 2', 'play 3']);
    // Its deadlines now leave the swarm 1.5 s + slack after capture.
    assert.equal(p.deadlineMs(4), 4 * CHUNK_MS + 1500 + SLACK);
  });
});
