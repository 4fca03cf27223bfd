// Attacks on peer links, against real processes over real sockets, one test per attack of the
// threat model (docs/security.md): slot exhaustion from one host, id theft over TCP and over
// WebRTC, a banned host coming back under a fresh key, a HAVE / buffer-map flood, a replay of
// old chunks to a newcomer, a passive observer on the wire, and a peer of the old protocol.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { cleanup } from 'node-datachannel';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { WebSocket } from 'ws';
import { hexToBytes } from '../../src/common/hex.js';
import { createLogger } from '../../src/common/log.js';
import { loadOrCreateKey, newNodeKey, nodeVerify } from '../../src/crypto/keys.js';
import { SwarmNode } from '../../src/native/swarm-node.js';
import { announce } from '../../src/native/tracker-client.js';
import type { ViewerStats } from '../../src/native/viewer.js';
import { FLAG_KEYFRAME, signChunk } from '../../src/protocol/chunk.js';
import { MsgType, makeBufferMap, PROTOCOL_VERSION, type WireMessage } from '../../src/protocol/codec.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { CoreDriver } from '../../src/runtime/core-driver.js';
import { type PeerConnectionLike, signalingUrlOf, WebRtcSignaling, type WebSocketLike } from '../../src/transport/webrtc-signaling.js';
import { Attacker } from '../helpers/attacker.js';
import { getJson, meshtv, type Proc, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);
// The WebRTC thief's peer connections run on node-datachannel's threads, which would keep this
// file's process alive after its last test.
after(() => cleanup());

const quiet = createLogger({ level: 'error', format: 'text' });

interface Channel {
  trackerUrl: string;
  uri: string;
  channelId: string;
  channelKey: Uint8Array;
  keyFile: string;
  source: Proc;
}

async function channel(name: string): Promise<Channel> {
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const keyFile = path.join(tempDir(name), 'k.key');
  const source = meshtv(['broadcast', '--tracker', trackerUrl, '--name', name, '--key', keyFile, '--no-dht', '--host', '127.0.0.1']);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
  return { trackerUrl, uri, channelId, channelKey: hexToBytes(channelId), keyFile, source };
}

/** The peers a tracker lists for a channel, as any peer would ask. */
async function peersOf(c: Channel): Promise<{ peerId: string; address: string; port: number; role: string }[]> {
  const me = newNodeKey();
  const answer = await announce(c.trackerUrl, {
    channelId: c.channelId,
    peerId: Buffer.from(me.publicKey.subarray(0, 16)).toString('hex'),
    port: 9,
    role: 'viewer',
  });
  return answer.peers;
}

async function watch(c: Channel): Promise<{ proc: Proc; url: string; stats: () => Promise<ViewerStats> }> {
  const proc = meshtv(['watch', c.uri, '--http-port', '0', '--no-dht', '--host', '127.0.0.1']);
  const url = (await proc.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
  return { proc, url, stats: () => getJson<ViewerStats>(`${url}/stats.json`) };
}

/** CPU seconds a process has used so far (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

test('slot exhaustion: 64 links from one host take at most 8 slots, idle squatters make room, and a newcomer plays', {
  timeout: 120_000,
}, async (t) => {
  const c = await channel('slots');
  const bcast = (await peersOf(c)).find((p) => p.role === 'source');
  assert.ok(bcast, 'broadcaster not listed');
  // Squatters: say hello, then ask every 2 s for a chunk nobody holds.
  const squat = async (localAddress: string): Promise<Attacker | undefined> => {
    try {
      const a = await Attacker.connect(bcast.address, bcast.port, { localAddress, relays: false });
      a.hello(c.channelKey);
      const timer = setInterval(() => a.send({ type: MsgType.Request, seq: 0xfffffff0 }), 2000);
      a.closed.then(() => clearInterval(timer));
      return a;
    } catch {
      return undefined;
    }
  };
  const fromOne = await Promise.all(Array.from({ length: 64 }, () => squat('127.0.0.66')));
  await new Promise((r) => setTimeout(r, 1000));
  const heldByOne = fromOne.filter((a) => a !== undefined && !a.wasDropped).length;
  assert.ok(heldByOne <= 8, `one host holds ${heldByOne} of the broadcaster's slots`);
  // Three more hosts fill the rest of its 32 slots.
  const others = await Promise.all(['127.0.0.67', '127.0.0.68', '127.0.0.69'].flatMap((ip) => Array.from({ length: 8 }, () => squat(ip))));
  const held = heldByOne + others.filter((a) => a !== undefined && !a.wasDropped).length;
  // Squatting for longer than the idle limit (10 s): asking for nothing held is no activity.
  await new Promise((r) => setTimeout(r, 11_000));
  const joinAt = Date.now();
  const v = await watch(c);
  await waitUntil(
    'the newcomer is linked to the broadcaster',
    async () => (await v.stats()).neighbours.some((n) => n.peerId === bcast.peerId),
    20_000,
  );
  const linkedMs = Date.now() - joinAt;
  await waitUntil('the newcomer plays', async () => (await v.stats()).started, 20_000);
  t.diagnostic(
    `squatters holding slots: ${held} (${heldByOne} of 64 from one host); newcomer linked to the broadcaster ${linkedMs} ms after it started`,
  );
  for (const a of [...fromOne, ...others]) a?.close();
});

test('id theft, a banned host under a fresh key, floods and an old-protocol peer, against a playing viewer', {
  timeout: 180_000,
}, async (t) => {
  const c = await channel('victim');
  const victim = await watch(c);
  await waitUntil('the victim plays', async () => (await victim.stats()).started, 20_000);
  const peers = await peersOf(c);
  const bcast = peers.find((p) => p.role === 'source');
  const target = peers.find((p) => p.role === 'viewer');
  assert.ok(bcast && target);
  await waitUntil('the victim links to the broadcaster', async () =>
    (await victim.stats()).neighbours.some((n) => n.peerId === bcast.peerId),
  );

  // 1. Id theft over TCP: the broadcaster's id, then a bad frame to get "it" banned.
  const thief = await Attacker.connect(target.address, target.port, { localAddress: '127.0.0.80', claimPeerId: hexToBytes(bcast.peerId) });
  thief.hello(c.channelKey);
  thief.sendRaw(Uint8Array.of(3, 0xee, 0xee, 0xee));
  assert.ok(await thief.droppedWithin(5000), 'the thief was not dropped');
  await victim.proc.waitFor(/refused tcp peer at 127\.0\.0\.80: it claims peer id/, 'stderr');

  // 2. Id theft over WebRTC: our own parts, with the broadcaster's id in the hello and our own key in the Auth.
  const stolen = await stealOverWebRtc(c, bcast.peerId);
  t.diagnostic(`WebRTC thief: ${stolen.opened} links opened, ${stolen.open} still open`);
  assert.ok(stolen.opened > 0, 'no WebRTC link was made');
  assert.equal(stolen.open, 0, 'a WebRTC link with a stolen id stayed open');

  // The real broadcaster was never banned: the victim still holds its link.
  await new Promise((r) => setTimeout(r, 2000));
  const s1 = await victim.stats();
  assert.ok(
    s1.neighbours.some((n) => n.peerId === bcast.peerId),
    'the victim lost the broadcaster',
  );
  assert.doesNotMatch(victim.proc.stderr, new RegExp(`dropping peer ${bcast.peerId.slice(0, 8)}`));

  // 3. A banned host coming back under a fresh key, from the same address.
  const vandal = await Attacker.connect(target.address, target.port, { localAddress: '127.0.0.81' });
  vandal.hello(c.channelKey);
  vandal.sendRaw(Uint8Array.of(3, 0xee, 0xee, 0xee));
  assert.ok(await vandal.droppedWithin(5000));
  const back = await Attacker.connect(target.address, target.port, { localAddress: '127.0.0.81' }).then(
    async (a) => {
      a.hello(c.channelKey);
      return (await a.droppedWithin(3000)) ? 'dropped' : 'kept';
    },
    () => 'refused',
  );
  assert.notEqual(back, 'kept', 'a banned host came back under a new key');

  // 4. A flood of HAVEs and buffer maps at 1 MB/s for 10 s, from fresh keys and addresses.
  const pid = victim.proc.child.pid as number;
  const cpu0 = cpuSeconds(pid);
  const at0 = Date.now();
  await new Promise((r) => setTimeout(r, 5000));
  const idleShare = (cpuSeconds(pid) - cpu0) / ((Date.now() - at0) / 1000);
  const before = await victim.stats();
  const flood = await floodFor(target, c.channelKey, 10_000);
  const cpu1 = cpuSeconds(pid);
  const at1 = Date.now();
  await flood.done;
  const floodShare = (cpuSeconds(pid) - cpu1) / ((Date.now() - at1) / 1000);
  const afterFlood = await victim.stats();
  t.diagnostic(
    `flood: ${(flood.bytes() / 1e3).toFixed(0)} kB sent in 10 s over ${flood.connections()} connections from 10 addresses (${flood.refused()} refused before the handshake); victim CPU ${(floodShare * 100).toFixed(1)}% of a core (${(idleShare * 100).toFixed(1)}% before)`,
  );
  assert.ok(flood.connections() >= 1);
  assert.ok(floodShare < 0.1, `the victim used ${(floodShare * 100).toFixed(0)}% of a core under the flood`);
  assert.equal(afterFlood.chunksSkipped - before.chunksSkipped, 0, 'the victim skipped chunks under the flood');
  assert.ok(afterFlood.chunksPlayed > before.chunksPlayed + 50, 'the victim stopped playing');

  // 5. A peer of protocol 5, in plain text: refused by name, both ways.
  const old = await Attacker.connect(target.address, target.port, { localAddress: '127.0.0.83', plain: true, version: 5 });
  old.hello(c.channelKey);
  const reply = await old.next((m): m is Extract<WireMessage, { type: MsgType.Hello }> => m.type === MsgType.Hello, 5000);
  assert.equal(reply.version, PROTOCOL_VERSION, 'the old peer is not told our version');
  assert.ok(await old.droppedWithin(5000));
  await victim.proc.waitFor(
    new RegExp(`refused a peer at 127\\.0\\.0\\.83: it speaks protocol 5 in plain text, this node ${PROTOCOL_VERSION}`),
    'stderr',
  );
});

/**
 * Dials the swarm over WebRTC with our own key in every Auth but `stolenId` in every hello.
 * Returns how many links opened and how many the other side left open after 8 s.
 */
async function stealOverWebRtc(c: Channel, stolenId: string): Promise<{ opened: number; open: number }> {
  const key = newNodeKey();
  const core = new PeerCore(
    { role: 'viewer' },
    { channelKey: c.channelKey, localPeerId: hexToBytes(stolenId), verify: nodeVerify, random: seededRandom(7) },
  );
  const driver = new CoreDriver(core, { identity: key, verify: nodeVerify, log: { debug: () => {}, warn: () => {} } });
  let opened = 0;
  const signaling = new WebRtcSignaling({
    trackerUrls: [signalingUrlOf(c.trackerUrl)],
    channelKey: c.channelKey,
    // Under its own id at the tracker (offers from an id a peer is linked to go unanswered).
    peerId: Buffer.from(key.publicKey.subarray(0, 16)).toString('hex'),
    createPeerConnection: (config) =>
      new RTCPeerConnection(config as ConstructorParameters<typeof RTCPeerConnection>[0]) as unknown as PeerConnectionLike,
    createWebSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    wantPeers: () => 4,
    accept: () => false,
    onConnection: (conn, outbound) => {
      opened++;
      // The driver sends our hello (the stolen id) and our Auth (our own key).
      driver.attach(conn, 'webrtc', outbound);
    },
    log: { debug: () => {}, warn: () => {} },
    announceIntervalMs: 2000,
  });
  signaling.start();
  await waitUntil('a WebRTC link opens', () => opened > 0, 30_000);
  await new Promise((r) => setTimeout(r, 8000));
  // The links the other side closed have left the driver.
  const open = driver.linkCount;
  signaling.stop();
  driver.stop();
  return { opened, open };
}

/**
 * Floods `target` with HAVEs and buffer maps at about 1 MB/s for `ms`; when dropped it comes
 * back with a fresh key from the next of 10 addresses (127.0.1.x), 20 times a second at most
 * (faster connection attempts are a SYN flood, the kernel's and the firewall's business).
 */
async function floodFor(target: { address: string; port: number }, channelKey: Uint8Array, ms: number) {
  let bytes = 0;
  let connections = 0;
  let refused = 0;
  const end = Date.now() + ms;
  const done = (async () => {
    while (Date.now() < end) {
      let a: Attacker;
      try {
        await new Promise((r) => setTimeout(r, 50));
        a = await Attacker.connect(target.address, target.port, { localAddress: `127.0.1.${1 + ((connections + refused) % 10)}` });
      } catch {
        refused++;
        continue;
      }
      connections++;
      a.hello(channelKey);
      let seq = 1;
      while (!a.wasDropped && Date.now() < end) {
        // 10 kB every 10 ms: HAVEs, and a buffer map now and then.
        for (let i = 0; i < 3000; i++) a.send({ type: MsgType.Have, seq: seq++, flags: 0 });
        a.send(makeBufferMap(seq, 4096, () => true, seq));
        bytes += 3000 * 3 + 524;
        await new Promise((r) => setTimeout(r, 10));
      }
      a.close();
    }
  })();
  return { done, bytes: () => bytes, connections: () => connections, refused: () => refused };
}

test('replay: a newcomer offered only chunks captured 3 h ago does not play them, and says the channel is not live', {
  timeout: 90_000,
}, async () => {
  const c = await channel('replay');
  // The broadcaster is gone; its key holder serves old signed chunks as if live (the tracker
  // lists as a source only an announce signed by the channel key).
  await c.source.stop();
  const { key } = loadOrCreateKey(c.keyFile);
  const replayer = new SwarmNode({
    role: 'source',
    channelKey: c.channelKey,
    sign: key.sign,
    host: '127.0.0.1',
    port: 0,
    trackers: [c.trackerUrl],
    log: quiet,
  });
  await replayer.start();
  await replayer.announceNow();
  const capturedAt = Date.now() - 3 * 3600_000;
  let seq = 1;
  const publish = () =>
    replayer.publish(
      signChunk(
        {
          channelKey: c.channelKey,
          seq,
          captureTimeMs: capturedAt + seq * 100,
          flags: seq % 10 === 1 ? FLAG_KEYFRAME : 0,
          payload: new Uint8Array(1880).fill(seq++ & 0xff),
        },
        key.sign,
      ),
    );
  for (let i = 0; i < 30; i++) publish();
  const timer = setInterval(publish, 100);
  try {
    const v = await watch(c);
    await v.proc.waitFor(/channel is not live: its newest chunk is 3 h old/, 'stderr', 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    const s = await v.stats();
    assert.equal(s.started, false, 'the newcomer played a replay');
    assert.equal(s.chunksPlayed, 0);
  } finally {
    clearInterval(timer);
    await replayer.stop();
  }
});

const tcpdump = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].find((p) => fs.existsSync(p));

test('a passive observer on a TCP link sees no meshtv message in clear', {
  timeout: 90_000,
  skip: tcpdump === undefined && process.env.CI !== 'true' ? 'tcpdump not installed' : false,
}, async (t) => {
  const c = await channel('wire');
  const bcast = (await peersOf(c)).find((p) => p.role === 'source');
  assert.ok(bcast && tcpdump);
  const pcap = path.join(tempDir('wire'), 'lo.pcap');
  const dump: ChildProcess = spawn(tcpdump, ['-i', 'lo', '-U', '-w', pcap, 'tcp', 'port', String(bcast.port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let dumpErr = '';
  dump.stderr?.on('data', (d: Buffer) => {
    dumpErr += d.toString();
  });
  try {
    await waitUntil('tcpdump listens', () => dumpErr.includes('listening on'), 10_000);
    const v = await watch(c);
    await waitUntil('the viewer plays', async () => (await v.stats()).started, 20_000);
    await new Promise((r) => setTimeout(r, 4000));
    const s = await v.stats();
    t.diagnostic(`viewer links: ${s.neighbours.map((n) => `${n.kind} ${n.wireBytesIn} B in`).join(', ')}`);
  } finally {
    dump.kill('SIGINT');
    await new Promise((r) => dump.once('exit', r));
  }
  const bytes = fs.readFileSync(pcap);
  t.diagnostic(`captured ${bytes.length} bytes on the broadcaster's TCP port`);
  assert.ok(bytes.length > 100_000, 'too little captured to tell');
  // In clear, every hello holds the channel key, and every chunk runs of MPEG-TS packets (0x47 every 188 bytes).
  assert.equal(bytes.indexOf(Buffer.from(c.channelKey)), -1, 'the channel key appears on the wire');
  let tsRuns = 0;
  for (let i = 0; i + 564 < bytes.length; i++)
    if (bytes[i] === 0x47 && bytes[i + 188] === 0x47 && bytes[i + 376] === 0x47 && bytes[i + 564] === 0x47) tsRuns++;
  assert.equal(tsRuns, 0, 'MPEG-TS packets appear on the wire');
});
