// Loss and jitter on simulated peer links: reliable, ordered links where a loss is a late
// message, never a missing one; off, the model draws nothing and changes nothing.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../../src/protocol/random.js';
import { MIN_RTO_MS, type OrderedPath, PACKET_PAYLOAD_BYTES, PathModel } from '../../src/sim/path-model.js';

const path = (): OrderedPath => ({ departedAtMs: 0, arrivesAtMs: 0 });

describe('sim path model', () => {
  test('off: one-way latency only, and no random draw (runs without it keep their reports)', () => {
    const model = new PathModel(0, 0, () => {
      throw new Error('drew a number');
    });
    const p = path();
    assert.equal(model.arrival(p, 100, 30, 12_000), 130);
    assert.equal(model.arrival(p, 105, 30, 20), 135);
  });

  test('jitter: exponential delay of the mean asked for', () => {
    const model = new PathModel(0, 40, seededRandom(1));
    let sum = 0;
    const n = 20_000;
    // Each message on its own path, so that ordering does not add to the delay.
    for (let i = 0; i < n; i++) sum += model.arrival(path(), 0, 10, 100) - 10;
    assert.ok(Math.abs(sum / n - 40) < 2, `mean jitter ${sum / n} ms`);
  });

  test('loss: each lost packet costs a retransmission timeout, more packets lose more', () => {
    const model = new PathModel(0.05, 0, seededRandom(2));
    const meanDelay = (bytes: number, latencyMs: number) => {
      let sum = 0;
      for (let i = 0; i < 20_000; i++) sum += model.arrival(path(), 0, latencyMs, bytes) - latencyMs;
      return sum / 20_000;
    };
    // One packet: 5% of one RTO (the 200 ms floor on a short path).
    assert.ok(Math.abs(meanDelay(100, 20) - 0.05 * MIN_RTO_MS) < 2, `${meanDelay(100, 20)}`);
    // Ten packets: ten times that; on a long path the RTO is twice the round trip.
    const ten = meanDelay(10 * PACKET_PAYLOAD_BYTES, 100);
    assert.ok(Math.abs(ten - 10 * 0.05 * 400) < 12, `${ten}`);
  });

  test('ordered: nothing arrives before what left earlier on the same link direction', () => {
    const model = new PathModel(0.1, 30, seededRandom(3));
    const p = path();
    let last = 0;
    let heldBack = 0;
    for (let t = 0; t < 5000; t += 5) {
      const at = model.arrival(p, t, 25, 1500);
      assert.ok(at >= last, `left at ${t}, arrived at ${at} before ${last}`);
      if (at === last) heldBack++;
      last = at;
    }
    // Head-of-line blocking happened: some messages waited behind a late one.
    assert.ok(heldBack > 10, `${heldBack} held back`);
  });

  test('bad settings are refused', () => {
    assert.throws(() => new PathModel(1, 0, Math.random), /loss must be in \[0, 1\)/);
    assert.throws(() => new PathModel(Number.NaN, 0, Math.random), /loss/);
    assert.throws(() => new PathModel(0, -1, Math.random), /jitter must be >= 0/);
  });
});
