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
  // The test pattern's 800k video + 96k audio, sent at constant rate, and MPEG-TS on top.
  assert.ok(r.streamBps > 850_000 && r.streamBps < 1_100_000, `stream rate ${r.streamBps} bit/s`);
  assert.ok(r.httpFanout.S > 8, `the fan-out sent only ${r.httpFanout.S} copies to 10 clients`);
  assert.ok(r.meshtv.S < r.httpFanout.S * 0.6, `swarm S ${r.meshtv.S} is not well below the fan-out's ${r.httpFanout.S}`);
  // The broadcaster bounds its upload to the swarm (1.8 copies by default); origin fallbacks add a little.
  assert.ok(r.meshtv.S <= 2.2, `the broadcaster sent ${r.meshtv.S} copies`);
  assert.ok(r.meshtv.continuity.p50 >= 0.95, `continuity p50 ${r.meshtv.continuity.p50}`);
  assert.ok(r.meshtv.startupMs.p95 > 0, 'no viewer started');
  // Where the swarm's misses fell is counted per viewer; the fan-out has no playout to miss with.
  const m = r.meshtv.misses;
  assert.ok(m !== undefined && Number.isInteger(m.first10s) && Number.isInteger(m.later) && m.viewers <= 10, JSON.stringify(m));
  assert.equal(r.httpFanout.misses, undefined);
});

// With --netns (root only): the host processes in network namespaces behind a hub namespace,
// their uploads capped by tc tbf. What must hold whatever the speed: every viewer plays, the swarm
// still spares the broadcaster, and nothing of the network is left behind.
import { spawnSync } from 'node:child_process';
import { netnsUnavailable } from '../../src/bench/netns.js';

test('--netns: host processes in network namespaces, their uploads capped by tc tbf', {
  timeout: 90_000,
  skip: netnsUnavailable(),
}, async (t) => {
  const r = await runBench({ peers: 8, durationS: 15, rho: 1.25, freeRiders: 0.2, churnPerMin: 0, hosts: 2, netns: true, json: true });
  t.diagnostic(`meshtv: ${JSON.stringify(r.meshtv)}`);
  t.diagnostic(`HTTP fan-out: ${JSON.stringify(r.httpFanout)}`);
  assert.equal(r.mode, 'netns');
  assert.equal(r.meshtv.played, 8, `only ${r.meshtv.played} of 8 viewers played`);
  assert.equal(r.httpFanout.played, 8);
  assert.ok(r.meshtv.S < r.httpFanout.S * 0.6, `swarm S ${r.meshtv.S} is not well below the fan-out's ${r.httpFanout.S}`);
  // Everything it made is gone: namespaces, the root end of the hub link and its route.
  const prefix = `mtvb${process.pid}`;
  const left = (args: string[]) =>
    spawnSync('ip', args, { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.includes(prefix));
  assert.deepEqual(left(['netns', 'list']), []);
  assert.deepEqual(left(['-o', 'link']), []);
  assert.deepEqual(left(['route']), []);
});
