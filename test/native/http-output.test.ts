// The local HTTP output's routes and its choice of port (the Host checks are in local-servers.test.ts).

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { StreamOutput } from '../../src/media/stream-output.js';
import { startHttpOutput } from '../../src/native/http-output.js';
import { decodeChunk } from '../../src/protocol/chunk.js';
import { originChunk, testOrigin } from '../helpers/origin.js';

async function takenPort(): Promise<{ port: number; close: () => void }> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { port: (s.address() as net.AddressInfo).port, close: () => s.close() };
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(check());
}

test('a taken port: refused without fallbacks, else the next free one or any', async () => {
  const taken = await takenPort();
  try {
    await assert.rejects(
      startHttpOutput({ host: '127.0.0.1', port: taken.port, stats: () => ({}) }),
      new RegExp(`port ${taken.port} on 127\\.0\\.0\\.1 is in use; choose another with --http-port`),
    );
    const out = await startHttpOutput({ host: '127.0.0.1', port: taken.port, fallbackPorts: 1, stats: () => ({}) });
    assert.notEqual(out.port, taken.port);
    assert.equal(out.baseUrl, `http://127.0.0.1:${out.port}`);
    await out.close();
  } finally {
    taken.close();
  }
});

test('routes: stats, metrics with the refused-Host count, the origin (HEAD not counted), the master playlist, 404 and 405', async () => {
  const origin = testOrigin([originChunk(9, true, 2)]);
  const out = await startHttpOutput({
    host: '127.0.0.1',
    port: 0,
    stats: () => ({ role: 'viewer' }),
    metrics: async () => 'meshtv_viewer_peers 3\n',
    master: '#EXTM3U\n',
    origin: origin.origin,
  });
  try {
    assert.deepEqual(await (await fetch(`${out.baseUrl}/stats.json`)).json(), { role: 'viewer' });
    const metrics = await (await fetch(`${out.baseUrl}/metrics`)).text();
    assert.match(metrics, /meshtv_viewer_peers 3\n/);
    assert.match(metrics, /meshtv_local_http_refused_host_total 0\n/);
    const chunk = await fetch(`${out.baseUrl}/chunk/9`);
    assert.equal(chunk.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(decodeChunk(new Uint8Array(await chunk.arrayBuffer())).payload, new Uint8Array([9, 9]));
    assert.equal((await fetch(`${out.baseUrl}/chunk/9`, { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(`${out.baseUrl}/chunk/100`)).status, 404);
    assert.equal(origin.sentBytes, 2, 'one GET counted, the HEAD not');
    assert.equal(await (await fetch(`${out.baseUrl}/live.m3u8`)).text(), '#EXTM3U\n');
    assert.equal(out.activity().lastHlsRequestAtMs !== undefined, true);
    const missing = await fetch(`${out.baseUrl}/nothing`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), 'not found; try /stats.json\n');
    assert.equal((await fetch(`${out.baseUrl}/stats.json`, { method: 'POST' })).status, 405);
  } finally {
    await out.close();
  }
});

test('/stream.ts: players are counted while connected; an ended stream answers 410', async () => {
  const stream = new StreamOutput();
  const out = await startHttpOutput({ host: '127.0.0.1', port: 0, stream, stats: () => ({}) });
  try {
    // Headers go out with the first chunk: watch the server's count instead.
    const req = http.get(`${out.baseUrl}/stream.ts`);
    req.on('error', () => {});
    await waitFor(() => out.activity().streamClients === 1);
    req.destroy();
    await waitFor(() => out.activity().streamClients === 0);
    stream.end();
    assert.equal((await fetch(`${out.baseUrl}/stream.ts`)).status, 410);
  } finally {
    await out.close();
  }
});
