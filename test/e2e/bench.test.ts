// A short real-process benchmark in every test run: 10 viewers in two host processes with
// upload caps from rho 1.25 and 20% free riders, against an HTTP fan-out of the same stream
// in the same run. It asserts what must hold whatever the machine's speed: the swarm takes
// far less from the broadcaster than the fan-out does, and viewers play. Figures are printed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBench } from '../../src/bench/run.js';

test('a 10-viewer swarm against an HTTP fan-out of the same stream', { timeout: 120_000 }, async (t) => {
  const r = await runBench({ peers: 10, durationS: 15, rho: 1.25, freeRiders: 0.2, churnPerMin: 0, hosts: 2, json: true });
  t.diagnostic(`meshtv: ${JSON.stringify(r.meshtv)}`);
  t.diagnostic(`HTTP fan-out: ${JSON.stringify(r.httpFanout)}`);
  assert.equal(r.meshtv.viewers, 10);
  assert.equal(r.httpFanout.viewers, 10);
  assert.ok(r.httpFanout.S > 8, `the fan-out sent only ${r.httpFanout.S} copies to 10 clients`);
  assert.ok(r.meshtv.S < r.httpFanout.S * 0.6, `swarm S ${r.meshtv.S} is not well below the fan-out's ${r.httpFanout.S}`);
  assert.ok(r.meshtv.continuity.p50 >= 0.95, `continuity p50 ${r.meshtv.continuity.p50}`);
  assert.ok(r.meshtv.startupMs.p95 > 0, 'no viewer started');
});
