// The simulator drives the real PeerCore: small deterministic swarms checked for correctness
// with margins (never for speed). A broken scheduler or relay path shows up as low continuity
// or a source that uploads a copy per viewer. The larger and longer swarms are in
// swarm.slow.test.ts (left out of `npm run test:unit`).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FLAG_KEYFRAME } from '../../src/protocol/chunk.js';
import { encodeMessage, MsgType, PROTOCOL_VERSION, type WireMessage } from '../../src/protocol/codec.js';
import { buildReport, type SimReport } from '../../src/sim/report.js';
import type { SimConfig } from '../../src/sim/sim-config.js';
import { Simulator } from '../../src/sim/simulator.js';
import { messageWireBytes } from '../../src/sim/wire-size.js';
import { encodeFrame } from '../../src/transport/framing.js';

function simulate(config: Partial<SimConfig>): { report: SimReport; result: ReturnType<Simulator['run']> } {
  const result = new Simulator(config).run();
  return { report: buildReport(result, 0, 0).report, result };
}

describe('simulator', () => {
  test('message sizes agree with the codec and the framing', () => {
    const key = new Uint8Array(32).fill(7);
    const chunk = {
      channelKey: key,
      seq: 9,
      captureTimeMs: 1000,
      flags: FLAG_KEYFRAME,
      payload: new Uint8Array(777),
      signature: new Uint8Array(64),
    };
    const messages: WireMessage[] = [
      { type: MsgType.Hello, version: PROTOCOL_VERSION, channelKey: key, peerId: new Uint8Array(16), role: 'viewer' },
      { type: MsgType.BufferMap, firstSeq: 3, count: 21, bits: new Uint8Array(3), newestKeySeq: 8 },
      { type: MsgType.Have, seq: 5, flags: 1 },
      { type: MsgType.Have, seq: 70_000, flags: 0 },
      { type: MsgType.Have, seq: 70_001, flags: 0 },
      { type: MsgType.Request, seq: 5 },
      { type: MsgType.Reject, seq: 5 },
      { type: MsgType.Busy, seq: 5, retryMs: 120 },
      { type: MsgType.Cancel, seq: 5 },
      { type: MsgType.ChunkData, chunk },
    ];
    for (const m of messages) assert.equal(messageWireBytes(m), encodeFrame(encodeMessage(m)).length, `message type ${m.type}`);
    // On a link, in order: short steps where the codec takes them.
    const sizes = { seq: 0 };
    const codec = { seq: 0 };
    let short = 0;
    for (const m of messages) {
      const bytes = messageWireBytes(m, sizes);
      assert.equal(bytes, encodeFrame(encodeMessage(m, codec)).length, `message type ${m.type} on a link`);
      assert.equal(sizes.seq, codec.seq);
      if (bytes < messageWireBytes(m)) short++;
    }
    assert.equal(short, 5);
  });

  test('the same seed gives the same report; another seed a different one', () => {
    const config = { peers: 100, durationS: 30, seed: 7, churnPerMin: 0.2 };
    const a = simulate(config).report;
    const b = simulate(config).report;
    assert.deepEqual(a, b);
    const c = simulate({ ...config, seed: 8 }).report;
    assert.notDeepEqual(c, a);
  });

  test('rho 2 with 20% free riders: continuity p50 >= 0.95', () => {
    const { report } = simulate({ peers: 200, durationS: 40, rho: 2, freeRiders: 0.2, seed: 2 });
    assert.ok((report.continuity.p50 ?? 0) >= 0.95, `continuity p50 ${report.continuity.p50}`);
    assert.ok(report.S < 1.7, `S = ${report.S}`);
  });

  test('with plenty of upload the swarm is near perfect (a broken scheduler or relay path fails this)', () => {
    const { report } = simulate({ peers: 200, durationS: 40, rho: 3, freeRiders: 0, seed: 3 });
    assert.ok((report.continuity.p50 ?? 0) >= 0.999, `continuity p50 ${report.continuity.p50}`);
    assert.ok((report.continuity.p5 ?? 0) >= 0.9, `continuity p5 ${report.continuity.p5}`);
    assert.ok((report.lagMs.p50 ?? Number.POSITIVE_INFINITY) < 4000, `lag p50 ${report.lagMs.p50}`);
    assert.ok((report.startupMs.p95 ?? Number.POSITIVE_INFINITY) < 5000, `startup p95 ${report.startupMs.p95}`);
    assert.ok(report.S < 2.5, `S = ${report.S}`);
    assert.ok(report.duplicates < 0.05, `duplicates ${report.duplicates}`);
    assert.ok(report.overhead < 0.05, `overhead ${report.overhead}`);
  });

  test('a core that never requests anything leaves viewers starving: the measures see it', () => {
    const { report } = simulate({ peers: 50, durationS: 20, rho: 3, freeRiders: 0, seed: 4, core: { maxPendingPerPeer: 0 } });
    assert.ok((report.continuity.p50 ?? 0) < 0.5, `continuity p50 ${report.continuity.p50}`);
  });

  test('churn: leavers are replaced, newcomers start playing', () => {
    const { report, result } = simulate({ peers: 150, durationS: 40, rho: 2, freeRiders: 0.2, churnPerMin: 0.3, seed: 5 });
    const newcomers = result.peers.filter((p) => p.joinedAtMs > 10_000);
    assert.ok(newcomers.length > 10, `${newcomers.length} newcomers`);
    assert.equal(result.peers.filter((p) => p.leftAtMs === undefined).length, 150, 'the audience stays at N');
    // Everyone who arrived at least 10 s before the end and stayed has started.
    const settled = newcomers.filter((p) => p.joinedAtMs < 30_000 && p.leftAtMs === undefined);
    for (const p of settled) assert.ok(p.startupMs !== undefined, `a newcomer joined at ${p.joinedAtMs} ms never started`);
    assert.ok((report.continuity.p50 ?? 0) >= 0.9, `continuity p50 ${report.continuity.p50}`);
  });

  test('lossy, jittery links: messages come late, never lost; the swarm still plays, with more lag', () => {
    const config = { peers: 100, durationS: 30, rho: 2, freeRiders: 0.2, seed: 6 };
    const clean = simulate(config).report;
    assert.equal(clean.path, undefined, 'a run without loss or jitter reports none');
    const lossy = simulate({ ...config, loss: 0.02, jitterMs: 30 }).report;
    assert.deepEqual(lossy.path, { loss: 0.02, jitterMs: 30 });
    assert.ok((lossy.lagMs.p50 as number) > (clean.lagMs.p50 as number), `lag p50 ${lossy.lagMs.p50} vs ${clean.lagMs.p50} ms`);
    assert.ok((lossy.continuity.p50 ?? 0) >= 0.95, `continuity p50 ${lossy.continuity.p50}`);
    assert.equal(lossy.neverStarted, 0);
    assert.equal(lossy.misbehaved, 0, `honest peers reported: ${JSON.stringify(lossy.misbehavedReasons)}`);
    assert.deepEqual(simulate({ ...config, loss: 0.02, jitterMs: 30 }).report, lossy, 'same seed, same report');
  });
});
