// The tracker's WebRTC signalling under abuse, with real WebSockets: sockets that never read are
// closed before their queues grow past a bound, one address holds a bounded number of sockets,
// a second socket cannot take over a peer id, and idle sockets do not inflate a channel's
// audience.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { startTracker, type TrackerServer } from '../../src/tracker/server.js';
import { waitUntil } from '../helpers/processes.js';

const HASH = 'h'.repeat(20);
const id = (n: number) => String(n).padStart(20, 'p');

/** A client socket that collects what it is sent. */
async function open(url: string, localAddress = '127.0.0.1'): Promise<{ ws: WebSocket; got: Record<string, unknown>[] }> {
  const ws = new WebSocket(url, { localAddress });
  const got: Record<string, unknown>[] = [];
  ws.on('message', (d) => got.push(JSON.parse(d.toString()) as Record<string, unknown>));
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return { ws, got };
}

const announce = (ws: WebSocket, peerId: string, extra: Record<string, unknown> = {}) =>
  ws.send(JSON.stringify({ action: 'announce', info_hash: HASH, peer_id: peerId, ...extra }));
/** An answer from `from` to the offer `offerId` of `to`, in the swarm `hash`. */
const answer = (ws: WebSocket, hash: string, from: string, to: string, offerId: string) =>
  announce(ws, from, { info_hash: hash, to_peer_id: to, offer_id: offerId, answer: { type: 'answer', sdp: 'v=0' } });
const offer = (n: number, size = 100) => ({ offer: { type: 'offer', sdp: 'v=0 '.padEnd(size, 'x') }, offer_id: `o${n}` });

describe('signalling under abuse', () => {
  let tracker: TrackerServer;
  let url: string;
  before(async () => {
    tracker = await startTracker({
      host: '127.0.0.1',
      port: 0,
      rateLimit: { ratePerS: 1e6, burst: 1e6 },
      signaling: { maxBufferedBytes: 256 * 1024, maxSocketsPerAddress: 40, ratePerS: 1e6, burst: 1e6 },
    });
    url = `${tracker.url.replace('http:', 'ws:')}/announce`;
  });
  after(() => tracker.stop());

  test('a socket that never reads is closed once its queue passes the bound; readers are untouched', { timeout: 60_000 }, async () => {
    const slow = await open(url, '127.0.7.1');
    announce(slow.ws, id(1));
    const reader = await open(url, '127.0.7.2');
    announce(reader.ws, id(2));
    await waitUntil('both are in the swarm', () => slow.got.length > 0 && reader.got.length > 0, 5000);
    // It stops reading: what is sent to it piles up in the kernel, then in the tracker.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    let closed = false;
    slow.ws.on('close', () => {
      closed = true;
    });
    const flooder = await open(url, '127.0.7.3');
    let sent = 0;
    // Offers of 30 KB go to the two others at random, until the slow one is dropped.
    while (!closed && sent < 3000) {
      announce(flooder.ws, id(3), { offers: [offer(sent, 30_000), offer(sent + 1, 30_000)] });
      sent++;
      if (sent % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await waitUntil('the tracker drops the socket that does not read', () => closed || tracker.signalingSockets() === 2, 20_000);
    assert.equal(reader.ws.readyState, WebSocket.OPEN, 'a socket that reads is kept');
    const metrics = await (await fetch(`${tracker.url}/metrics`)).text();
    assert.match(metrics, /meshtv_tracker_refused_total\{reason="slow-reader"\} [1-9]/);
    for (const c of [reader, flooder]) c.ws.close();
  });

  test('one address holds at most maxSocketsPerAddress sockets', async () => {
    const sockets = await Promise.all(Array.from({ length: 40 }, () => open(url, '127.0.8.1')));
    await assert.rejects(open(url, '127.0.8.1'), /HTTP 429/);
    // One more upgrade, reset at once while the refusal is written: the tracker must not fall.
    for (let i = 0; i < 20; i++) {
      const raw = net.connect(
        { host: '127.0.0.1', port: new URL(tracker.url).port as unknown as number, localAddress: '127.0.8.1' },
        () => {
          raw.write(
            'GET /announce HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
          );
          raw.resetAndDestroy();
        },
      );
      raw.on('error', () => {});
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await fetch(`${tracker.url}/api/channels`)).status, 200, 'the tracker fell');
    const other = await open(url, '127.0.8.2');
    sockets[0]?.ws.close();
    await waitUntil(
      'a closed socket gives its place back',
      async () =>
        open(url, '127.0.8.1').then(
          () => true,
          () => false,
        ),
      5000,
    );
    for (const s of [...sockets, other]) s.ws.close();
  });

  test('a peer id belongs to the first live socket that announced it', async () => {
    const victim = await open(url, '127.0.9.1');
    announce(victim.ws, id(10));
    await waitUntil('announced', () => victim.got.length > 0, 5000);
    const thief = await open(url, '127.0.9.2');
    announce(thief.ws, id(10));
    await waitUntil('the thief is answered', () => thief.got.length > 0, 5000);
    assert.match(String(thief.got[0]?.['failure reason']), /in use/);
    // An offer meant for id 10 reaches the victim, and the victim's answer goes back.
    const asker = await open(url, '127.0.9.3');
    announce(asker.ws, id(11), { offers: [offer(1)] });
    await waitUntil('the victim gets the offer', () => victim.got.some((m) => m.offer !== undefined), 5000);
    assert.ok(!thief.got.some((m) => m.offer !== undefined), 'the thief got an offer');
    for (const c of [victim, thief, asker]) c.ws.close();
  });

  test('sockets that only announce do not count as viewers; an offer answered counts both ends', async () => {
    const hash = 'c'.repeat(20);
    const idle = await Promise.all(Array.from({ length: 20 }, () => open(url, '127.0.10.1')));
    idle.forEach((c, i) => {
      c.ws.send(JSON.stringify({ action: 'announce', info_hash: hash, peer_id: id(100 + i) }));
    });
    await waitUntil('all announced', () => idle.every((c) => c.got.length > 0), 5000);
    assert.equal(tracker.signalingAudience(hash), 0);
    const a = await open(url, '127.0.10.2');
    const b = await open(url, '127.0.10.3');
    b.ws.send(JSON.stringify({ action: 'announce', info_hash: hash, peer_id: id(201) }));
    await waitUntil('b announced', () => b.got.length > 0, 5000);
    for (const c of idle) c.ws.close();
    await waitUntil('the idle ones are gone', () => tracker.signalingSockets() <= 3, 5000);
    a.ws.send(JSON.stringify({ action: 'announce', info_hash: hash, peer_id: id(200) }));
    await waitUntil('a announced', () => a.got.length > 0, 5000);
    // An answer to an offer never relayed (two sockets of one attacker) is neither passed on nor counted.
    answer(b.ws, hash, id(201), id(200), 'made-up');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(tracker.signalingAudience(hash), 0);
    assert.ok(!a.got.some((m) => m.answer !== undefined));
    a.ws.send(JSON.stringify({ action: 'announce', info_hash: hash, peer_id: id(200), ...{ offers: [offer(7)] } }));
    await waitUntil('b gets the offer', () => b.got.some((m) => m.offer !== undefined), 5000);
    answer(b.ws, hash, id(201), id(200), 'o7');
    await waitUntil('a gets the answer', () => a.got.some((m) => m.answer !== undefined), 5000);
    assert.equal(tracker.signalingAudience(hash), 2);
    for (const c of [a, b]) c.ws.close();
  });
});
