// SwarmNode against a tracker that refuses at first (429, as under a burst of joins from one
// address): the failed announce is retried on its own, so a node kept running still joins.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createLogger } from '../../src/node/log.js';
import { SwarmNode } from '../../src/node/swarm-node.js';
import { waitUntil } from '../helpers/processes.js';

test('an announce the tracker refused is retried with back-off', { timeout: 20_000 }, async () => {
  let announces = 0;
  const tracker = http.createServer((req, res) => {
    if (req.url !== '/api/announce') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no"}');
      return;
    }
    announces++;
    if (announces === 1) res.writeHead(429, { 'content-type': 'application/json' }).end('{"error":"too many requests"}');
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"intervalMs":60000,"yourAddress":"127.0.0.1","peers":[]}');
  });
  await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', () => resolve()));
  const node = new SwarmNode({
    role: 'viewer',
    channelKey: new Uint8Array(32).fill(7),
    host: '127.0.0.1',
    port: 0,
    trackers: [`http://127.0.0.1:${(tracker.address() as AddressInfo).port}`],
    log: createLogger({ level: 'error', format: 'text' }),
  });
  try {
    await node.start();
    await assert.rejects(node.announceNow(), /too many requests/);
    // The tracker answers the second announce; the node counts it once the answer is in.
    await waitUntil('the announce is retried and succeeds', () => announces >= 2 && node.trackerFailures === 0, 5000);
  } finally {
    await node.stop();
    await new Promise<void>((resolve) => tracker.close(() => resolve()));
  }
});
