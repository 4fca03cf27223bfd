// The real-process bench through a tracker restart and a broadcaster restart mid-run: every
// viewer that played before the broadcaster died plays again after it came back, and the swarm
// still spares the broadcaster. In `npm run test:long`; test/e2e/restart.test.ts covers a
// broadcaster's restart within `npm test`.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBench } from '../../src/bench/run.js';

test('the bench survives its tracker and its broadcaster being killed and restarted mid-run', { timeout: 150_000 }, async (t) => {
  const r = await runBench({
    peers: 8,
    durationS: 24,
    rho: 1.5,
    freeRiders: 0,
    churnPerMin: 0,
    hosts: 2,
    restartTrackerAtS: 5,
    restartSourceAtS: 11,
    json: true,
  });
  t.diagnostic(`meshtv: ${JSON.stringify(r.meshtv)}`);
  const restarts = r.meshtv.restarts;
  assert.ok(restarts?.trackerDowntimeMs !== undefined, 'the tracker was not restarted');
  assert.ok(restarts?.sourceDowntimeMs !== undefined, 'the broadcaster was not restarted');
  // Every viewer that was playing before the broadcaster died played again after it came back.
  const [resumed, playing] = (restarts?.resumed ?? '0/0').split('/').map(Number);
  assert.ok((playing ?? 0) >= 6, `only ${playing} viewers were playing before the restart`);
  assert.equal(resumed, playing, `resumed ${restarts?.resumed}`);
  assert.ok(r.meshtv.S < r.httpFanout.S * 0.6, `swarm S ${r.meshtv.S} against the fan-out's ${r.httpFanout.S}`);
});
