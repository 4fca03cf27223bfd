// SwarmNode against a tracker that refuses at first (429, as under a burst of joins from one
// address): the failed announce is retried on its own, so a node kept running still joins.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { SwarmNode } from '../../src/native/swarm-node.js';
import { announce, TrackerRefused, whileTrackerBusy } from '../../src/native/tracker-client.js';
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

test('a busy tracker is asked again; a refusal or a tracker busy for too long is not', async () => {
  let statuses = [429, 503, 200];
  let asked = 0;
  const tracker = http.createServer((_req, res) => {
    const status = statuses[asked++] ?? 200;
    res
      .writeHead(status, { 'content-type': 'application/json' })
      .end(status === 200 ? '{"intervalMs":60000,"yourAddress":"127.0.0.1","peers":[]}' : '{"error":"not now"}');
  });
  await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}`;
  const ask = () => announce(url, { channelId: 'a'.repeat(64), peerId: 'b'.repeat(40), port: 1, role: 'source' });
  const busy: number[] = [];
  const onBusy = (err: TrackerRefused) => busy.push(err.status);
  try {
    const answer = await whileTrackerBusy(ask, onBusy, { firstPauseMs: 10 });
    assert.equal(answer.intervalMs, 60_000);
    assert.deepEqual(busy, [429, 503]);
    // A refusal is final at once.
    statuses = [400];
    asked = 0;
    await assert.rejects(
      whileTrackerBusy(ask, onBusy, { firstPauseMs: 10 }),
      (err: unknown) => err instanceof TrackerRefused && err.status === 400,
    );
    assert.equal(asked, 1);
    // Busy past the time allowed: the last refusal is thrown.
    statuses = [429, 429, 429, 429, 429, 429];
    asked = 0;
    await assert.rejects(whileTrackerBusy(ask, onBusy, { firstPauseMs: 10, maxMs: 50 }), /not now/);
    assert.ok(asked >= 2 && asked <= 4, `asked ${asked} times`);
  } finally {
    await new Promise<void>((resolve) => tracker.close(() => resolve()));
  }
});

test('a node asks the tracker for peers only while it has room to dial them', { timeout: 20_000 }, async () => {
  const wanted = new Map<string, unknown[]>();
  const tracker = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      if (req.url !== '/api/announce') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no"}');
        return;
      }
      const a = JSON.parse(body) as { peerId: string; numWant?: unknown; event?: string };
      if (a.event !== 'stopped') wanted.set(a.peerId, [...(wanted.get(a.peerId) ?? []), a.numWant]);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"intervalMs":60000,"yourAddress":"127.0.0.1","peers":[]}');
    });
  });
  await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', () => resolve()));
  const node = (dialTarget: number) =>
    new SwarmNode({
      role: 'viewer',
      channelKey: new Uint8Array(32).fill(9),
      host: '127.0.0.1',
      port: 0,
      trackers: [`http://127.0.0.1:${(tracker.address() as AddressInfo).port}`],
      dialTarget,
      log: createLogger({ level: 'error', format: 'text' }),
    });
  const lonely = node(8);
  // A dial target of 0: every neighbour it dials for is there already.
  const full = node(0);
  try {
    await lonely.start();
    await lonely.announceNow();
    await full.start();
    await full.announceNow();
    const asked = (n: SwarmNode) => new Set(wanted.get(n.peerId));
    assert.deepEqual(asked(lonely), new Set([30]));
    assert.deepEqual(asked(full), new Set([0]));
  } finally {
    await Promise.all([lonely.stop(), full.stop()]);
    await new Promise<void>((resolve) => tracker.close(() => resolve()));
  }
});
