// The simulator drives the real PeerCore: small deterministic swarms checked for correctness
// with margins (never for speed). A broken scheduler or relay path shows up as low continuity
// or a source that uploads a copy per viewer.

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

  describe('N = 300, rho 1.25, 20% free riders, one minute', () => {
    let run: ReturnType<typeof simulate> | undefined;
    const once = () => {
      run ??= simulate({ peers: 300, durationS: 60, rho: 1.25, freeRiders: 0.2, seed: 1 });
      return run;
    };

    test('free riders upload nothing, contributors relay, the source stays near one copy', () => {
      const { report, result } = once();
      assert.equal(report.misbehaved, 0, `honest peers reported: ${JSON.stringify(report.misbehavedReasons)}`);
      assert.equal(report.neverStarted, 0);
      const freeRiders = result.peers.filter((p) => p.freeRider);
      assert.equal(freeRiders.length, 60);
      for (const p of freeRiders) assert.equal(p.mediaBytesOut, 0);
      assert.equal(report.freeRiderMediaBytesOut, 0);
      const relaying = result.peers.filter((p) => !p.freeRider && p.mediaBytesOut > 0).length;
      assert.ok(relaying > 0.8 * 240, `${relaying} of 240 contributors relayed anything`);
      // The source grants 1.5 r: S far below N = 300 and near one copy.
      assert.ok(report.S < 1.7, `S = ${report.S}`);
      // A floor that catches regressions (the measured p50 is ~0.8; the 0.999 target of the design
      // brief is a benchmark figure, reported by `meshtv sim` and in docs/simulator.md).
      assert.ok((report.continuity.p50 ?? 0) >= 0.7, `continuity p50 ${report.continuity.p50}`);
      assert.ok(report.duplicates < 0.05, `duplicates ${report.duplicates}`);
    });
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

  test('a ladder on a mixed audience: weak lines settle low, strong ones high, and the weak need the strong to relay low', () => {
    const renditions = [
      { name: 'low', bitrateBps: 600_000 },
      { name: 'high', bitrateBps: 2_500_000 },
    ];
    const { report } = simulate({ peers: 100, durationS: 180, renditions, seed: 1 });
    const abr = report.abr;
    assert.ok(abr !== undefined);
    assert.equal(abr.weak.finalOn[0], abr.weak.viewers, 'every weak viewer ends on low');
    assert.equal(abr.weak.switchesUp, 0, 'weak lines never move up (their download cannot carry high)');
    const weakP5 = abr.weak.continuity.p5 ?? 0;
    assert.ok(weakP5 >= 0.98, `weak continuity p5 ${weakP5}`);
    assert.ok((abr.strong.finalOn[1] ?? 0) >= 0.9 * abr.strong.viewers, `strong on high at the end: ${abr.strong.finalOn[1]}`);
    assert.ok((abr.strong.continuity.p5 ?? 0) >= 0.98, `strong continuity p5 ${abr.strong.continuity.p5}`);
    assert.ok(report.S < 2, `S = ${report.S} copies of the ladder`);

    // Strong viewers relaying only what they play leave the low swarm to weak uplinks.
    const alone = simulate({ peers: 100, durationS: 180, renditions, seed: 1, relayLowest: false }).report.abr;
    const aloneP5 = alone?.weak.continuity.p5 ?? 1;
    assert.ok(aloneP5 < weakP5, `weak continuity p5 without relaying ${aloneP5}, with ${weakP5}`);
    // The typical weak viewer misses several times as much media (0.3% against 1.5% here).
    const missed = (c: number | null | undefined) => 1 - (c ?? 0);
    const aloneMissed = missed(alone?.weak.continuity.p50);
    const withMissed = missed(abr.weak.continuity.p50);
    assert.ok(aloneMissed >= 2 * withMissed, `weak viewers' median miss share without relaying ${aloneMissed}, with ${withMissed}`);
  });
});
