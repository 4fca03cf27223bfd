// The tracker's HTTP endpoints against bad requests: malformed JSON, huge bodies, wrong fields,
// forged channel records and floods get clear 4xx answers, and the tracker keeps serving.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { bytesToHex } from '../../src/common/hex.js';
import { loadOrCreateKey } from '../../src/crypto/keys.js';
import { signChannelRecord } from '../../src/protocol/channel-record.js';
import { signSourceProof } from '../../src/protocol/source-proof.js';
import { signThumbnail } from '../../src/protocol/thumbnail.js';
import { startTracker, type TrackerServer } from '../../src/tracker/server.js';
import { tempDir } from '../helpers/processes.js';

describe('tracker HTTP API under bad input', () => {
  let tracker: TrackerServer;
  const { key } = loadOrCreateKey(`${tempDir('tracker')}/k.key`);
  const validAnnounce = { channelId: key.channelId, peerId: 'ab'.repeat(16), port: 4000, role: 'viewer' };
  // The broadcaster's announce: its role proven by the channel key.
  const sourceAnnounce = () => ({
    ...validAnnounce,
    peerId: 'cd'.repeat(16),
    role: 'source',
    sourceProof: signSourceProof(key.channelId, 'cd'.repeat(16), Date.now(), key.sign),
  });

  before(async () => {
    tracker = await startTracker({ host: '127.0.0.1', port: 0, rateLimit: { ratePerS: 5, burst: 200 } });
  });
  after(() => tracker.stop());

  const post = (path: string, body: string) =>
    fetch(`${tracker.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  async function expectError(res: Response, status: number, pattern: RegExp): Promise<void> {
    assert.equal(res.status, status);
    const body = (await res.json()) as { error: string };
    assert.match(body.error, pattern);
  }
  async function stillUp(): Promise<void> {
    const res = await fetch(`${tracker.url}/api/channels`);
    assert.equal(res.status, 200);
  }

  test('malformed JSON', async () => {
    await expectError(await post('/api/announce', '{"channelId": '), 400, /not valid JSON/);
    await expectError(await post('/api/channels', 'null'), 400, /must be an object/);
    await stillUp();
  });

  test('huge bodies are refused without being read whole', async () => {
    await expectError(await post('/api/announce', JSON.stringify({ pad: 'x'.repeat(100_000) })), 413, /larger than/);
    // A body that claims to be huge and keeps coming: answered 413 and the connection closed.
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect((tracker as { port: number }).port, '127.0.0.1', () => {
        socket.write('POST /api/announce HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        const piece = 'x'.repeat(8192);
        for (let i = 0; i < 8; i++) socket.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
      });
      let got = '';
      socket.on('data', (d) => {
        got += d.toString();
      });
      socket.on('close', () => resolve(got));
      socket.on('error', () => resolve(got));
      setTimeout(() => socket.destroy(), 3000);
    });
    assert.match(answer, /^HTTP\/1\.1 413/);
    await stillUp();
  });

  test('announces with wrong fields are refused with the reason', async () => {
    const cases: [object, RegExp][] = [
      [{ ...validAnnounce, channelId: 'xyz' }, /channelId/],
      [{ ...validAnnounce, peerId: 42 }, /peerId/],
      [{ ...validAnnounce, port: 70000 }, /port/],
      [{ ...validAnnounce, role: 'admin' }, /role/],
      [{ ...validAnnounce, address: 'a b; rm -rf' }, /address/],
      [{ ...validAnnounce, event: 'explode' }, /event/],
      [{ ...validAnnounce, numWant: -1 }, /numWant/],
      [{ ...validAnnounce, numWant: 2.5 }, /numWant/],
      [{ ...validAnnounce, numWant: '30' }, /numWant/],
      [[1, 2, 3], /channelId/],
    ];
    for (const [body, pattern] of cases) await expectError(await post('/api/announce', JSON.stringify(body)), 400, pattern);
    await stillUp();
  });

  test('channel records must be signed by the channel key', async () => {
    const signed = signChannelRecord({ channelId: key.channelId, name: 'mine', bitrateBps: 1e6, issuedAtMs: Date.now() }, key.sign);
    assert.equal((await post('/api/channels', JSON.stringify(signed))).status, 200);
    const renamed = { ...signed, record: { ...signed.record, name: 'stolen' } };
    await expectError(await post('/api/channels', JSON.stringify(renamed)), 400, /signature does not match/);
    const other = loadOrCreateKey(`${tempDir('tracker2')}/k.key`).key;
    const takeover = signChannelRecord({ ...signed.record, issuedAtMs: Date.now() + 1 }, other.sign);
    await expectError(await post('/api/channels', JSON.stringify(takeover)), 400, /signature does not match/);
    const stale = signChannelRecord({ ...signed.record, issuedAtMs: signed.record.issuedAtMs - 1000 }, key.sign);
    await expectError(await post('/api/channels', JSON.stringify(stale)), 409, /older record/);
    assert.equal((await post('/api/announce', JSON.stringify(sourceAnnounce()))).status, 200);
    const list = (await (await fetch(`${tracker.url}/api/channels`)).json()) as { id: string; name: string }[];
    assert.deepEqual(
      list.map((c) => [c.id, c.name]),
      [[key.channelId, 'mine']],
    );
  });

  test('a channel that is not live is told apart from one never heard of', async () => {
    // A record whose source does not announce: its broadcast ended (the watch page says so).
    const quiet = loadOrCreateKey(`${tempDir('tracker3')}/k.key`).key;
    const signed = signChannelRecord({ channelId: quiet.channelId, name: 'over', bitrateBps: 1e6, issuedAtMs: Date.now() }, quiet.sign);
    assert.equal((await post('/api/channels', JSON.stringify(signed))).status, 200);
    await expectError(await fetch(`${tracker.url}/api/channels/${quiet.channelId}`), 404, /broadcast has ended/);
    await expectError(await fetch(`${tracker.url}/api/channels/${'ef'.repeat(32)}`), 404, /^no such channel$/);
  });

  test('thumbnails: only the channel key can set them, and they are served', async () => {
    const url = `${tracker.url}/api/channels/${key.channelId}/thumbnail.jpg`;
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
    const post = (bytes: Uint8Array, signature: string, at: number) =>
      fetch(url, {
        method: 'POST',
        headers: { 'x-meshtv-issued-at': String(at), 'x-meshtv-signature': signature },
        body: Buffer.from(bytes),
      });
    const now = Date.now();
    const good = bytesToHex(signThumbnail(now, jpeg, key.sign));
    assert.equal((await post(jpeg, good, now)).status, 200);
    const served = await fetch(url);
    assert.equal(served.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual(new Uint8Array(await served.arrayBuffer()), jpeg);
    const other = loadOrCreateKey(`${tempDir('thumb')}/k.key`).key;
    await expectError(await post(jpeg, bytesToHex(signThumbnail(now + 1, jpeg, other.sign)), now + 1), 400, /signature/);
    await expectError(await post(new Uint8Array([1, 2, 3, 4]), good, now), 400, /not a JPEG/);
    await expectError(await post(jpeg, 'zz', now), 400, /headers required/);
    // Signed by the channel key, but dated a year ahead: it would shadow every real one.
    const future = now + 365 * 86_400_000;
    await expectError(await post(jpeg, bytesToHex(signThumbnail(future, jpeg, key.sign)), future), 400, /from the tracker's clock/);
  });

  test('/metrics speaks the Prometheus text format', async () => {
    const res = await fetch(`${tracker.url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^# HELP meshtv_tracker_channels /m);
    assert.match(text, /^meshtv_tracker_channels \d+$/m);
    assert.match(text, /^meshtv_tracker_http_refused [1-9]\d*$/m, 'earlier bad requests were not counted');
    assert.match(text, /^meshtv_tracker_process_resident_memory_bytes \d+/m);
  });

  test('signalling WebSocket: garbage frames close that socket only, with the reason', async () => {
    const wsUrl = `${tracker.url.replace('http:', 'ws:')}/announce`;
    const closeOf = (send: (ws: WebSocket) => void) =>
      new Promise<{ code: number; reason: string }>((resolve, reject) => {
        const ws = new WebSocket(wsUrl);
        ws.on('open', () => send(ws));
        ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
        ws.on('error', () => {});
        setTimeout(() => reject(new Error('socket not closed')), 5000);
      });
    assert.deepEqual(await closeOf((ws) => ws.send(Buffer.from([1, 2, 3]))), {
      code: 1008,
      reason: 'binary messages are not part of the protocol',
    });
    assert.deepEqual(await closeOf((ws) => ws.send('{"action": ')), { code: 1008, reason: 'message is not JSON' });
    assert.deepEqual(await closeOf((ws) => ws.send('[1,2]')), { code: 1008, reason: 'message must be a JSON object' });
    assert.equal((await closeOf((ws) => ws.send('x'.repeat(100_000)))).code, 1009);
    // A well-formed request it cannot serve gets a failure reason and the socket stays open.
    const reply = await new Promise<string>((resolve) => {
      const ws = new WebSocket(wsUrl);
      ws.on('open', () => ws.send(JSON.stringify({ action: 'scrape' })));
      ws.on('message', (data) => {
        resolve(data.toString());
        ws.close();
      });
    });
    assert.match(reply, /"failure reason":"unsupported action \\"scrape\\""/);
    await stillUp();
  });

  test('unknown endpoints and methods', async () => {
    await expectError(await fetch(`${tracker.url}/api/nothing`), 404, /no such endpoint/);
    await expectError(await fetch(`${tracker.url}/api/announce`), 404, /no such endpoint/);
  });

  test('an announce flood from one address is answered 429, then the tracker serves again', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 400 }, () => post('/api/announce', JSON.stringify(validAnnounce)).then((r) => r.status)),
    );
    assert.ok(statuses.includes(429), 'no request was limited');
    assert.ok(statuses.every((s) => s === 200 || s === 429));
    assert.equal((await fetch(`${tracker.url}/api/channels`)).status, 429, 'reads count against the same budget');
    // 5 requests a second come back.
    await new Promise((r) => setTimeout(r, 400));
    await stillUp();
  });
});

test('the tracker hands out its STUN/TURN servers (fresh TURN credentials when it shares a secret) and signalling trackers', async () => {
  const tracker = await startTracker({
    host: '127.0.0.1',
    port: 0,
    ice: {
      servers: [
        { urls: ['stun:10.0.0.1:3478'] },
        { urls: ['turn:10.0.0.1:3478'] },
        { urls: ['turn:10.0.0.2:3478'], username: 'u', credential: 'p' },
      ],
      turnSecret: 'shared',
      turnTtlS: 600,
    },
    signalingUrls: ['ws://stock.example:8000'],
  });
  try {
    const before = Math.floor(Date.now() / 1000);
    const { iceServers, signaling } = (await (await fetch(`${tracker.url}/api/network`)).json()) as {
      iceServers: { urls: string[]; username?: string; credential?: string }[];
      signaling: string[];
    };
    assert.deepEqual(signaling, ['ws://stock.example:8000']);
    assert.deepEqual(iceServers[0], { urls: ['stun:10.0.0.1:3478'] });
    const minted = iceServers[1] as { username: string; credential: string };
    const expiry = Number(minted.username);
    assert.ok(expiry >= before + 600 && expiry <= before + 602, `expiry ${expiry} should be about 600 s ahead`);
    assert.equal(minted.credential, createHmac('sha1', 'shared').update(minted.username).digest('base64'));
    assert.deepEqual(iceServers[2], { urls: ['turn:10.0.0.2:3478'], username: 'u', credential: 'p' }, 'static credentials are kept');
  } finally {
    await tracker.stop();
  }
  const plain = await startTracker({ host: '127.0.0.1', port: 0 });
  try {
    assert.deepEqual(await (await fetch(`${plain.url}/api/network`)).json(), { iceServers: [], signaling: [] });
  } finally {
    await plain.stop();
  }
});

test('a browser following a bad link gets the not-found page; the API, /metrics and programs answer as ever', async () => {
  const t = await startTracker({ host: '127.0.0.1', port: 0 });
  try {
    const page = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const bad = await fetch(`${t.url}/watch/abc`, { headers: page });
    assert.equal(bad.status, 404);
    assert.match(await bad.text(), /<h1>No such page<\/h1>/);
    const api = await fetch(`${t.url}/api/nope`, { headers: page });
    assert.equal(api.status, 404);
    assert.match((await api.json()).error, /no such endpoint/);
    assert.equal((await fetch(`${t.url}/metrics`, { headers: page })).status, 200);
    const program = await fetch(`${t.url}/watch/abc`);
    assert.deepEqual([program.status, await program.json()], [404, { error: 'not found' }]);
  } finally {
    await t.stop();
  }
});
