// Hostile peers in the simulator (src/sim/hostile.ts): honest viewers keep playing, the
// attackers that break the protocol are dropped (and banned, so they are not taken back), and
// the report keeps the honest viewers' figures apart. Small deterministic swarms, margins only.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ATTACKS } from '../../src/sim/hostile.js';
import { buildReport } from '../../src/sim/report.js';
import { Simulator } from '../../src/sim/simulator.js';

const base = { peers: 120, durationS: 20, seed: 3 };

for (const attack of ATTACKS) {
  test(`${attack}: 10% hostile peers, honest viewers play on`, () => {
    const result = new Simulator({ ...base, attackers: 0.1, attack }).run();
    const { report } = buildReport(result, 0, 0);
    assert.equal(report.viewersSimulated, base.peers, 'hostile peers counted among the viewers');
    assert.equal(report.neverStarted, 0);
    assert.ok((report.continuity.p5 ?? 0) >= 0.9, `honest continuity p5 ${report.continuity.p5}`);
    assert.equal(report.hostile?.peers, 12);
    if (attack === 'liar' || attack === 'flood') assert.ok((report.hostile?.dropped ?? 0) > 12, `dropped ${report.hostile?.dropped}`);
    // Every drop was of a hostile peer: no honest viewer was taken for one.
    assert.equal(report.misbehaved, report.hostile?.dropped);
  });
}

test('a flooder is banned by each peer that dropped it: it is dropped about once per honest peer, not once per try', () => {
  const result = new Simulator({ ...base, attackers: 0.05, attack: 'flood' }).run();
  const { report } = buildReport(result, 0, 0);
  // 6 flooders, each re-dialling every 5 s for 20 s, against 120 viewers and the source.
  assert.ok((report.hostile?.dropped ?? 0) <= 6 * 121, `dropped ${report.hostile?.dropped} times`);
});
