// The simulator on larger and longer swarms (300 viewers for a minute; a quality ladder for
// three minutes): tens of seconds each, so they run in `npm run test:long`, outside `npm test` (the
// unit suite runs smaller swarms). Checked for correctness with margins, never for speed.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildReport, type SimReport } from '../../src/sim/report.js';
import type { SimConfig } from '../../src/sim/sim-config.js';
import { Simulator } from '../../src/sim/simulator.js';

function simulate(config: Partial<SimConfig>): { report: SimReport; result: ReturnType<Simulator['run']> } {
  const result = new Simulator(config).run();
  return { report: buildReport(result, 0, 0).report, result };
}

describe('simulator, large swarms', () => {
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
