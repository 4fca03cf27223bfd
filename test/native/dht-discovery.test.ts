// DhtDiscovery against real bittorrent-dht nodes on loopback: a broadcaster and a viewer meet through
// a local bootstrap node with no tracker at all; junk from the DHT never reaches onPeer; bad bootstrap
// lists are refused up front; an unreachable bootstrap does not hang start(); stop() leaves nothing open.
// bittorrent-dht does not filter loopback nodes or peers, so 127.0.0.1 needs no workaround. The viewer
// also hears of its own announce (127.0.0.1:4002): recognising oneself is the caller's business.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import DHT from 'bittorrent-dht';
import { UserError } from '../../src/common/errors.js';
import { createLogger } from '../../src/common/log.js';
import { DhtDiscovery, type DhtDiscoveryOptions } from '../../src/native/dht-discovery.js';

const log = createLogger({ level: 'error', format: 'text' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(20);
  }
}

/** Sockets and timers, the handles that would keep the process alive. */
function openHandles(): { sockets: number; timers: number } {
  const open = process.getActiveResourcesInfo();
  return { sockets: open.filter((r) => r === 'UDPWrap').length, timers: open.filter((r) => r === 'Timeout').length };
}

/** A closed UDP handle leaves the list one loop turn after its 'close' event, so allow a moment. */
async function assertNoNewHandles(before: { sockets: number; timers: number }): Promise<void> {
  const leaked = () => {
    const now = openHandles();
    return now.sockets > before.sockets || now.timers > before.timers;
  };
  await waitUntil('the sockets and timers are closed', () => !leaked(), 1000).catch(() => {});
  assert.ok(!leaked(), `open before: ${JSON.stringify(before)}, after stop(): ${JSON.stringify(openHandles())}`);
}

function discovery(o: Partial<DhtDiscoveryOptions> & Pick<DhtDiscoveryOptions, 'bootstrap' | 'peerPort'>): DhtDiscovery {
  return new DhtDiscovery({ infoHash: randomBytes(20), host: '127.0.0.1', log, onPeer: () => {}, ...o });
}

async function bootstrapNode(): Promise<{ dht: DHT; address: string }> {
  const dht = new DHT({ bootstrap: false });
  await new Promise<void>((resolve) => dht.listen(0, '127.0.0.1', resolve));
  return { dht, address: `127.0.0.1:${dht.address().port}` };
}

// The least of bencode a fake DHT node needs to answer (BEP 3 encoding).
function bencode(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return Buffer.concat([Buffer.from(`${v.length}:`), v]);
  if (typeof v === 'string') return bencode(Buffer.from(v));
  if (typeof v === 'number') return Buffer.from(`i${v}e`);
  if (Array.isArray(v)) return Buffer.concat([Buffer.from('l'), ...v.map(bencode), Buffer.from('e')]);
  const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
  return Buffer.concat([Buffer.from('d'), ...entries.flatMap(([k, x]) => [bencode(k), bencode(x)]), Buffer.from('e')]);
}

function compactPeer(ip: string, port: number): Buffer {
  return Buffer.from([...ip.split('.').map(Number), port >> 8, port & 0xff]);
}

/**
 * A DHT node that answers every query (find_node, get_peers, announce_peer) with the same reply:
 * peer values that are mostly junk, one good peer, and an undecodable `nodes` field. `t` (the
 * transaction id) is copied from the query, found by its bencoded key.
 */
async function hostileNode(values: unknown[]): Promise<{ address: string; queries: () => number; close: () => Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  const id = randomBytes(20);
  let queries = 0;
  socket.on('message', (msg, rinfo) => {
    const at = msg.lastIndexOf('1:t');
    const len = at < 0 ? -1 : Number(msg.subarray(at + 3, msg.indexOf(':', at + 3)));
    if (!(len > 0)) return;
    const start = msg.indexOf(':', at + 3) + 1;
    queries++;
    const reply = bencode({ t: msg.subarray(start, start + len), y: 'r', r: { id, token: 'tok', values, nodes: randomBytes(10) } });
    socket.send(reply, rinfo.port, rinfo.address);
    // And a packet that is not bencode at all.
    socket.send(Buffer.from('\xff garbage'), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(socket.address() as AddressInfo).port}`,
    queries: () => queries,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

describe('DHT discovery', () => {
  test('a viewer finds the broadcaster through a local bootstrap node, with no tracker', async (t) => {
    const before = openHandles();
    const boot = await bootstrapNode();
    const infoHash = randomBytes(20);
    const found: string[] = [];
    const broadcaster = discovery({ infoHash, peerPort: 4001, bootstrap: [boot.address] });
    const viewer = discovery({ infoHash, peerPort: 4002, bootstrap: [boot.address], onPeer: (a, p) => found.push(`${a}:${p}`) });
    try {
      await broadcaster.start();
      const t0 = Date.now();
      await viewer.start();
      await waitUntil('the viewer hears of 127.0.0.1:4001', () => found.includes('127.0.0.1:4001'), 20_000);
      const tookMs = Date.now() - t0;
      assert.ok(broadcaster.stats.announces >= 1, 'the broadcaster announced');
      assert.ok(viewer.stats.nodes >= 1, 'the viewer has nodes in its routing table');
      // Asked again at once, the same peer is not reported a second time.
      const lookups = viewer.stats.lookups;
      viewer.lookupNow();
      viewer.lookupNow();
      await waitUntil('the forced lookups ran', () => viewer.stats.lookups >= lookups + 1, 5000);
      await sleep(300);
      assert.equal(found.filter((f) => f === '127.0.0.1:4001').length, 1, `reported once: ${found.join(' ')}`);
      t.diagnostic(`the viewer found the broadcaster ${tookMs} ms after its start()`);
    } finally {
      await Promise.all([viewer.stop(), broadcaster.stop(), viewer.stop()]);
      await new Promise<void>((resolve) => boot.dht.destroy(resolve));
    }
    await assertNoNewHandles(before);
  });

  test('junk from the DHT never reaches onPeer or throws; a peer is reported again after peerRepeatMs', async () => {
    const before = openHandles();
    const node = await hostileNode([
      compactPeer('127.0.0.1', 0),
      compactPeer('0.0.0.0', 5000),
      compactPeer('224.0.0.1', 5000),
      compactPeer('255.255.255.255', 5000),
      compactPeer('10.1.2.3', 4003),
      Buffer.from([1, 2, 3]),
      42,
    ]);
    const found: string[] = [];
    let nowMs = 0;
    const d = discovery({
      peerPort: 4001,
      bootstrap: [node.address],
      peerRepeatMs: 60_000,
      now: () => nowMs,
      onPeer: (a, p) => found.push(`${a}:${p}`),
    });
    try {
      await d.start();
      await waitUntil('the good peer is reported', () => found.length >= 1, 5000);
      assert.deepEqual(found, ['10.1.2.3:4003']);
      const q = node.queries();
      d.lookupNow();
      await waitUntil('a lookup reaches the node', () => node.queries() > q, 5000);
      await sleep(100);
      assert.deepEqual(found, ['10.1.2.3:4003'], 'not again within peerRepeatMs');
      nowMs += 59_999;
      const q2 = node.queries();
      d.lookupNow();
      await waitUntil('another lookup reaches the node', () => node.queries() > q2, 5000);
      await sleep(100);
      assert.deepEqual(found, ['10.1.2.3:4003'], 'again a moment before peerRepeatMs had passed');
      nowMs += 1;
      d.lookupNow();
      await waitUntil('the peer is reported again', () => found.length >= 2, 5000);
      assert.deepEqual(found, ['10.1.2.3:4003', '10.1.2.3:4003']);
    } finally {
      await d.stop();
      await node.close();
    }
    await assertNoNewHandles(before);
  });

  test('malformed bootstrap entries are refused at construction, with the entry named', () => {
    for (const bad of [
      'nonsense',
      'host:',
      ':6881',
      '1.2.3.4:0',
      '1.2.3.4:70000',
      '[::1]:6881',
      '::1',
      '1.2.3.999:6881',
      'a b:1',
      '-x.org:1',
    ]) {
      assert.throws(
        () => discovery({ peerPort: 4001, bootstrap: [bad] }),
        (err: Error) => err instanceof UserError && err.message.includes(`"${bad}"`),
        bad,
      );
    }
    for (const good of ['127.0.0.1:6881', 'router.bittorrent.com:6881', ' dht.example:1 ']) {
      assert.doesNotThrow(() => discovery({ peerPort: 4001, bootstrap: [good] }), good);
    }
    assert.throws(() => discovery({ peerPort: 4001, bootstrap: [], host: 'localhost' }), UserError);
    assert.throws(() => discovery({ peerPort: 4001, bootstrap: [], infoHash: new Uint8Array(32) }), RangeError);
  });

  test('start() with an unreachable bootstrap node resolves within its bound and keeps trying', async () => {
    const before = openHandles();
    const d = discovery({ peerPort: 4001, bootstrap: ['127.0.0.1:1'], readyTimeoutMs: 300, lookupIntervalMs: 200 });
    try {
      const t0 = Date.now();
      await d.start();
      // The library's own walk only gives up on a silent node after 2 to 2.5 s; ours is the bound that fired.
      assert.ok(Date.now() - t0 < 1500, `start() took ${Date.now() - t0} ms`);
      assert.equal(d.stats.nodes, 0);
      const lookups = d.stats.lookups;
      await waitUntil('lookups go on in the background', () => d.stats.lookups > lookups, 5000);
    } finally {
      await d.stop();
    }
    await d.stop();
    await assertNoNewHandles(before);
  });

  test('a UDP address that cannot be bound is a UserError from start()', async () => {
    const before = openHandles();
    const d = discovery({ peerPort: 4001, bootstrap: [], host: '192.0.2.1' });
    await assert.rejects(d.start(), (err: Error) => err instanceof UserError && /192\.0\.2\.1/.test(err.message));
    await d.stop();
    await assertNoNewHandles(before);
  });
});
