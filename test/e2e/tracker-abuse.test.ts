// Abuse of a tracker, against real processes: announces that name someone else's address (the
// tracker as a DDoS reflector), announces that claim to be the channel's source, and forwarding
// headers from whoever sends them. Attackers speak from their own 127.0.0.x addresses, as hosts
// of their own would (docs/security.md).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { WebSocket } from 'ws';
import type { AnnounceAnswer } from '../../src/api/tracker-api.js';
import { loadOrCreateKey } from '../../src/crypto/keys.js';
import { signSourceProof } from '../../src/protocol/source-proof.js';
import { decode, meshtv, type Proc, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

/** POSTs JSON from a given local address; resolves with the status and the parsed body. */
function postFrom(
  baseUrl: string,
  route: string,
  body: unknown,
  localAddress: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(route, baseUrl);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers },
      },
      (res) => {
        let got = '';
        res.on('data', (d: Buffer) => {
          got += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(got) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

const peerId = (n: number) => n.toString(16).padStart(32, '0');

async function startTrackerProc(args: string[] = []): Promise<{ proc: Proc; url: string }> {
  const proc = meshtv(['tracker', '--port', '0', ...args]);
  return { proc, url: (await proc.waitFor(/tracker listening on (\S+)/))[1] as string };
}

async function refusedCount(trackerUrl: string, reason: string): Promise<number> {
  const text = await (await fetch(`${trackerUrl}/metrics`)).text();
  const m = new RegExp(`^meshtv_tracker_refused_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

test('spoofed announce addresses: the victim is never dialled, and newcomers still find the real swarm', { timeout: 60_000 }, async () => {
  let victimConnections = 0;
  const victim = net.createServer((s) => {
    victimConnections++;
    s.destroy();
  });
  await new Promise<void>((r) => victim.listen(0, '127.0.0.77', r));
  const victimPort = (victim.address() as net.AddressInfo).port;
  try {
    const tracker = await startTrackerProc();
    const keyFile = path.join(tempDir('reflector'), 'k.key');
    const source = meshtv(['broadcast', '--tracker', tracker.url, '--name', 'reflector', '--key', keyFile, '--no-dht']);
    const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
    const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
    // 29 hosts announce the victim's address (loopback, private) and a public one; none is listed.
    const claims = ['127.0.0.77', '10.0.0.5', 'victim.example', '8.8.8.8'];
    for (let i = 0; i < 29; i++) {
      const claim = claims[i % claims.length] as string;
      const answer = await postFrom(
        tracker.url,
        '/api/announce',
        { channelId, peerId: peerId(1000 + i), port: victimPort, role: 'viewer', address: claim },
        `127.0.1.${i + 1}`,
      );
      if (claim === '8.8.8.8') assert.equal(answer.status, 200, 'a public claim is listed at the address seen until proven');
      else assert.equal(answer.status, 400, `${claim}: ${JSON.stringify(answer.body)}`);
    }
    const viewer = meshtv(['watch', uri, '--tracker', tracker.url, '--no-dht', '--http-port', '0']);
    const streamUrl = (await viewer.waitFor(/^(http:\S+\/stream\.ts)$/m, 'stdout', 30_000))[1] as string;
    const decoded = await decode(streamUrl, 3);
    assert.ok(decoded.videoFrames >= 40, `the newcomer decoded ${decoded.videoFrames} frames`);
    const fresh = await postFrom(tracker.url, '/api/announce', { channelId, peerId: peerId(1), port: 9, role: 'viewer' }, '127.0.2.1');
    const listed = (fresh.body as unknown as AnnounceAnswer).peers.map((p) => p.address);
    assert.ok(!listed.includes('127.0.0.77') && !listed.includes('8.8.8.8'), `answer lists ${listed.join(', ')}`);
    assert.equal(victimConnections, 0, 'the victim was dialled');
    assert.ok((await refusedCount(tracker.url, 'spoofed-address')) >= 21, 'refusals are counted by reason in /metrics');
  } finally {
    victim.close();
  }
});

test('a fake source is refused and never offered; the channel goes off the list when its broadcaster stops', {
  timeout: 60_000,
}, async () => {
  const tracker = await startTrackerProc();
  const keyFile = path.join(tempDir('fake-source'), 'k.key');
  const source = meshtv(['broadcast', '--tracker', tracker.url, '--name', 'real one', '--key', keyFile, '--no-dht']);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
  const other = loadOrCreateKey(path.join(tempDir('fake-source-2'), 'k.key')).key;
  const fake = peerId(666);
  const attempts = [
    {},
    { sourceProof: signSourceProof(channelId, fake, Date.now(), other.sign) },
    { sourceProof: { atMs: Date.now(), signature: '0'.repeat(128) } },
  ];
  for (const extra of attempts) {
    const answer = await postFrom(
      tracker.url,
      '/api/announce',
      { channelId, peerId: fake, port: 4000, role: 'source', ...extra },
      '127.0.3.1',
    );
    assert.equal(answer.status, 403, JSON.stringify(answer.body));
  }
  // A proof the real broadcaster made, replayed by someone else for another peer id, is no good either.
  const { key } = loadOrCreateKey(keyFile);
  const stale = signSourceProof(channelId, fake, Date.now() - 10 * 60_000, key.sign);
  assert.equal(
    (await postFrom(tracker.url, '/api/announce', { channelId, peerId: fake, port: 4000, role: 'source', sourceProof: stale }, '127.0.3.1'))
      .status,
    403,
    'a proof ten minutes old',
  );
  const answer = await postFrom(tracker.url, '/api/announce', { channelId, peerId: peerId(2), port: 9, role: 'viewer' }, '127.0.3.2');
  const sources = (answer.body as unknown as AnnounceAnswer).peers.filter((p) => p.role === 'source');
  assert.equal(sources.length, 1);
  assert.notEqual(sources[0]?.peerId, fake);
  assert.ok((await refusedCount(tracker.url, 'unproven-source')) >= 4);
  await source.stop('SIGINT');
  // The attacker keeps announcing, as a viewer now that it cannot be a source: the channel is not live.
  await waitUntil(
    'the channel leaves the listing',
    async () => {
      await postFrom(tracker.url, '/api/announce', { channelId, peerId: fake, port: 4000, role: 'viewer' }, '127.0.3.1');
      const list = (await (await fetch(`${tracker.url}/api/channels`)).json()) as { id: string }[];
      return !list.some((c) => c.id === channelId);
    },
    20_000,
  );
});

test('forwarding headers name the client only when a trusted proxy sends them', { timeout: 30_000 }, async () => {
  const tracker = await startTrackerProc(['--trust-proxy', '127.0.4.1']);
  const keyFile = path.join(tempDir('proxy'), 'k.key');
  const source = meshtv(['broadcast', '--tracker', tracker.url, '--name', 'behind a proxy', '--key', keyFile, '--no-dht']);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
  const ask = (from: string, forwardedFor: string, n: number) =>
    postFrom(tracker.url, '/api/announce', { channelId, peerId: peerId(n), port: 9, role: 'viewer' }, from, {
      'x-forwarded-for': forwardedFor,
    });
  assert.equal((await ask('127.0.4.1', '198.51.100.20', 1)).body.yourAddress, '198.51.100.20', 'from the proxy');
  assert.equal((await ask('127.0.4.2', '198.51.100.21', 2)).body.yourAddress, '127.0.4.2', 'from anyone else: its socket');
  assert.equal(
    (await ask('127.0.4.1', '6.6.6.6, 198.51.100.22', 3)).body.yourAddress,
    '198.51.100.22',
    'what the client wrote is not believed',
  );
});

/** Resident memory of a process, MB (from /proc). */
function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) / 1024;
}

test("1,000 signalling sockets that never read leave the tracker's memory bounded, and it serves on", { timeout: 120_000 }, async (t) => {
  const tracker = await startTrackerProc();
  const pid = tracker.proc.child.pid as number;
  const wsUrl = `${tracker.url.replace('http:', 'ws:')}/announce`;
  const hash = 's'.repeat(20);
  const before = rssMb(pid);
  // 1,000 sockets from 16 addresses (under the 64 per address), each in the swarm, none reading.
  const idle: WebSocket[] = [];
  for (let i = 0; i < 1000; i++) {
    const ws = new WebSocket(wsUrl, { localAddress: `127.0.20.${(i % 16) + 1}` });
    ws.on('error', () => {});
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    ws.send(JSON.stringify({ action: 'announce', info_hash: hash, peer_id: String(i).padStart(20, 'i') }));
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    idle.push(ws);
  }
  // 32 flooders send offers of 30 KB to them, 2 per announce (a message is at most 64 KiB), as
  // fast as the tracker's 20 messages a second per socket allow, for 8 s: about 300 MB.
  const flooders = await Promise.all(
    Array.from({ length: 32 }, (_, i) => {
      const ws = new WebSocket(wsUrl, { localAddress: `127.0.21.${i + 1}` });
      ws.on('error', () => {});
      ws.on('message', () => {});
      return new Promise<WebSocket>((resolve) => ws.once('open', () => resolve(ws)));
    }),
  );
  const sdp = 'v=0 '.padEnd(30_000, 'x');
  const end = Date.now() + 8000;
  let n = 0;
  let peak = 0;
  while (Date.now() < end) {
    for (const [i, ws] of flooders.entries()) {
      if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > 4_000_000) continue;
      const offers = Array.from({ length: 2 }, () => ({ offer: { type: 'offer', sdp }, offer_id: `o${n++}` }));
      ws.send(JSON.stringify({ action: 'announce', info_hash: hash, peer_id: String(i).padStart(20, 'f'), offers }));
    }
    await new Promise((r) => setTimeout(r, 50));
    peak = Math.max(peak, rssMb(pid));
  }
  const listing = await fetch(`${tracker.url}/api/channels`);
  t.diagnostic(`${n} offers of 30 KB sent; tracker RSS ${before.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB`);
  assert.equal(listing.status, 200, 'the tracker stopped serving');
  assert.ok(peak - before < 600, `the tracker grew by ${(peak - before).toFixed(0)} MB`);
  for (const ws of [...idle, ...flooders]) ws.terminate();
});
