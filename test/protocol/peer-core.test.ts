// PeerCore instances wired together by the virtual-time network of test/helpers/net.ts (5 ms
// links that carry every message through the wire codec). Chunks are signed with a real
// Ed25519 key.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ChannelKey, loadOrCreateKey } from '../../src/crypto/keys.js';
import { type Chunk, FLAG_KEYFRAME, signChunk } from '../../src/protocol/chunk.js';
import { bufferMapSeqs, MsgType, type PeerRole, PROTOCOL_VERSION, type WireMessage } from '../../src/protocol/codec.js';
import type { MisbehaviourCode } from '../../src/protocol/misbehaviour.js';
import { seededRandom } from '../../src/protocol/random.js';
import { Net, peerIdOfName } from '../helpers/net.js';

const CHUNK_MS = 250;
const PAYLOAD_BYTES = 3000;

let keyDir: string;
let key: ChannelKey;
let otherKey: ChannelKey;

before(() => {
  keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-peer-core-test-'));
  key = loadOrCreateKey(path.join(keyDir, 'channel.key')).key;
  otherKey = loadOrCreateKey(path.join(keyDir, 'other.key')).key;
});

after(() => {
  fs.rmSync(keyDir, { recursive: true, force: true });
});

function makeChunk(seq: number, captureTimeMs: number, signer: ChannelKey = key): Chunk {
  const random = seededRandom(1000 + seq);
  const payload = new Uint8Array(PAYLOAD_BYTES);
  for (let i = 0; i < payload.length; i++) payload[i] = Math.floor(random() * 256);
  return signChunk({ channelKey: signer.publicKey, seq, captureTimeMs, flags: seq % 4 === 0 ? FLAG_KEYFRAME : 0, payload }, signer.sign);
}

/** Schedules the source to publish `count` chunks, one every 250 ms from `startMs`; returns them. */
function broadcast(net: Net, source: string, startMs: number, count: number): Chunk[] {
  const chunks: Chunk[] = [];
  for (let seq = 0; seq < count; seq++) {
    const t = startMs + seq * CHUNK_MS;
    const chunk = makeChunk(seq, t);
    chunks.push(chunk);
    net.at(t, () => {
      net.core(source).publish(net.now, chunk);
      net.drain(source);
    });
  }
  return chunks;
}

function helloFrom(name: string, role: PeerRole = 'viewer', channelKey: Uint8Array = key.publicKey): WireMessage {
  return { type: MsgType.Hello, version: PROTOCOL_VERSION, channelKey, peerId: peerIdOfName(name), role };
}

function played(net: Net, name: string): Chunk[] {
  const out: Chunk[] = [];
  for (const e of net.eventsOf(name)) if (e.type === 'play') out.push(e.chunk);
  return out;
}

function misbehaviours(net: Net, name: string): { peer: string; code: MisbehaviourCode }[] {
  const out: { peer: string; code: MisbehaviourCode }[] = [];
  for (const e of net.eventsOf(name)) if (e.type === 'misbehaved') out.push({ peer: e.peer, code: e.code });
  return out;
}

/** Every viewer started on a keyframe, played each later chunk once, in order, up to the last, with no skip. */
function assertSmoothPlayback(net: Net, viewer: string, published: Chunk[]): void {
  const stats = net.core(viewer).getStats();
  assert.equal(stats.started, true, `${viewer} started`);
  const seqs = played(net, viewer).map((c) => c.seq);
  assert.ok(seqs.length > 0, `${viewer} played something`);
  const first = seqs[0] as number;
  assert.ok(((published[first] as Chunk).flags & FLAG_KEYFRAME) !== 0, `${viewer} started on keyframe chunk ${first}`);
  assert.ok(first <= 4, `${viewer} joined late, at ${first}`);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], first + i, `${viewer} plays in order without gaps`);
  assert.equal(seqs.at(-1), published.length - 1, `${viewer} played up to the last chunk`);
  assert.equal(net.eventsOf(viewer).filter((e) => e.type === 'skip').length, 0, `${viewer} skipped nothing`);
  assert.equal(stats.chunksSkipped, 0);
  assert.equal(stats.chunksLate, 0, `${viewer} played nothing late`);
  for (const c of played(net, viewer)) assert.deepEqual(c.payload, (published[c.seq] as Chunk).payload);
  assert.deepEqual(misbehaviours(net, viewer), []);
}

function totalBytes(chunks: Chunk[]): number {
  return chunks.reduce((n, c) => n + c.payload.length, 0);
}

describe('PeerCore swarm', () => {
  test('A: a source with one neighbour feeds a chain of viewers', () => {
    const net = new Net(key.publicKey);
    net.add('S', 'source', { maxNeighbours: 1 });
    for (const v of ['V1', 'V2', 'V3']) net.add(v, 'viewer');
    net.connect('S', 'V1');
    assert.equal(net.core('S').acceptsNeighbour(), false, 'the source is full after one neighbour');
    net.connect('V1', 'V2');
    net.connect('V1', 'V3');
    net.connect('V2', 'V3');
    const published = broadcast(net, 'S', 50, 80);
    net.runUntil(50 + 80 * CHUNK_MS + 3000);

    const oneCopy = totalBytes(published);
    for (const v of ['V1', 'V2', 'V3']) assertSmoothPlayback(net, v, published);
    assert.equal(net.core('V1').getStats().mediaBytesInFromSource, oneCopy);
    for (const v of ['V2', 'V3']) {
      const s = net.core(v).getStats();
      assert.equal(s.mediaBytesInFromSource, 0, `${v} got nothing from the source`);
      assert.ok(s.mediaBytesIn > 0, `${v} got media`);
      assert.equal(s.mediaBytesIn, oneCopy, `${v} received each chunk once`);
    }
    const sourceOut = net.core('S').getStats().mediaBytesOut;
    assert.ok(sourceOut <= 1.1 * oneCopy, `source sent ${(sourceOut / oneCopy).toFixed(2)} copies`);
    assert.deepEqual(misbehaviours(net, 'S'), []);
  });

  test('B: a source with six meshed viewers uploads about one copy', () => {
    const net = new Net(key.publicKey);
    net.add('S', 'source');
    const viewers = ['V1', 'V2', 'V3', 'V4', 'V5', 'V6'];
    for (const v of viewers) net.add(v, 'viewer');
    for (const v of viewers) net.connect('S', v);
    for (let i = 0; i < viewers.length; i++)
      for (let j = i + 1; j < viewers.length; j++) net.connect(viewers[i] as string, viewers[j] as string);
    const published = broadcast(net, 'S', 50, 80);
    net.runUntil(50 + 80 * CHUNK_MS + 3000);

    const oneCopy = totalBytes(published);
    for (const v of viewers) assertSmoothPlayback(net, v, published);
    const sourceOut = net.core('S').getStats().mediaBytesOut;
    assert.ok(sourceOut < 1.5 * oneCopy, `source sent ${(sourceOut / oneCopy).toFixed(2)} copies`);
    const fromSource = viewers.reduce((n, v) => n + net.core(v).getStats().mediaBytesInFromSource, 0);
    assert.ok(fromSource <= sourceOut, 'viewers cannot count more from the source than it sent');
    // The load is shared: every viewer relays something.
    for (const v of viewers) assert.ok(net.core(v).getStats().mediaBytesOut > 0, `${v} relayed nothing`);
  });

  test('chunks that come while a new neighbour’s hello is on its way are still offered to it', () => {
    // Our hello and buffer map leave when the link opens; the other side's hello arrives a round
    // trip later. A chunk received in between used to be advertised to nobody new: the newcomer
    // never heard of it and skipped it.
    const net = new Net(key.publicKey);
    net.add('S', 'source');
    net.add('V', 'viewer');
    net.connect('S', 'V');
    const published = broadcast(net, 'S', 50, 20);
    net.at(1000, () => {
      net.connect('V', 'N');
      net.connect('S', 'M');
    });
    net.at(1600, () => {
      net.inject('N', 'V', helloFrom('N'));
      // M does not relay, so the source tells it of every chunk (protocol 7 tells a relaying
      // viewer of keyframes only: it takes the source to hold what came before a chunk it got).
      net.inject('M', 'S', { ...helloFrom('M'), relays: false } as WireMessage);
    });
    net.runUntil(50 + 20 * CHUNK_MS + 1000);
    for (const [from, to] of [
      ['V', 'N'],
      ['S', 'M'],
    ] as const) {
      const offered = new Set<number>();
      for (const { from: sender, msg } of net.inbox.get(to) ?? []) {
        if (sender !== from) continue;
        if (msg.type === MsgType.BufferMap) for (const seq of bufferMapSeqs(msg)) offered.add(seq);
        else if (msg.type === MsgType.Have) offered.add(msg.seq);
        else if (msg.type === MsgType.ChunkData) offered.add(msg.chunk.seq);
      }
      const missing = published.map((c) => c.seq).filter((seq) => !offered.has(seq));
      assert.deepEqual(missing, [], `${from} never offered these chunks to ${to}`);
    }
  });

  test('a chunk only a capped source holds is asked again after its Busy, not skipped', () => {
    // The source's cap (two copies of the stream) cannot take a newcomer's first burst of
    // requests at once: it answers some Busy. Those chunks have no other holder; forgotten,
    // they used to be skipped at their deadline.
    const net = new Net(key.publicKey);
    net.add('S', 'source', { uploadLimitBps: (2 * PAYLOAD_BYTES * 8000) / CHUNK_MS });
    net.add('V', 'viewer');
    const published = broadcast(net, 'S', 50, 40);
    net.at(3000, () => net.connect('S', 'V'));
    net.runUntil(50 + 40 * CHUNK_MS + 3000);
    const v = net.core('V').getStats();
    assert.ok(v.started, 'the newcomer never started');
    assert.equal(v.chunksSkipped, 0, 'the newcomer skipped chunks only the source held');
    const seqs = played(net, 'V').map((c) => c.seq);
    assert.equal(seqs.at(-1), published.length - 1, 'the newcomer did not play up to the last chunk');
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[0] as number) + i, 'plays in order without gaps');
    assert.ok(misbehaviours(net, 'V').length === 0 && misbehaviours(net, 'S').length === 0, 'someone was reported');
  });

  test('the same scenario replays identically', () => {
    const run = () => {
      const net = new Net(key.publicKey);
      net.add('S', 'source');
      for (const v of ['V1', 'V2', 'V3']) net.add(v, 'viewer');
      for (const [a, b] of [
        ['S', 'V1'],
        ['S', 'V2'],
        ['V1', 'V2'],
        ['V1', 'V3'],
        ['V2', 'V3'],
      ] as const)
        net.connect(a, b);
      broadcast(net, 'S', 50, 20);
      net.runUntil(50 + 20 * CHUNK_MS + 2000);
      return ['S', 'V1', 'V2', 'V3'].map((n) => net.core(n).getStats());
    };
    assert.deepEqual(run(), run());
  });
});

describe('PeerCore misbehaving neighbours', () => {
  /** Viewer V fed by source S, plus a scripted neighbour E that has said hello. */
  function withScriptedNeighbour(): Net {
    const net = new Net(key.publicKey);
    net.add('S', 'source');
    net.add('V', 'viewer');
    net.connect('S', 'V');
    net.connect('V', 'E');
    net.inject('E', 'V', helloFrom('E'));
    return net;
  }

  test('C: a chunk with a bad signature is reported and never played', () => {
    const net = withScriptedNeighbour();
    const genuine = makeChunk(0, 50);
    const payload = genuine.payload.slice();
    payload[10] = (payload[10] as number) ^ 0xff;
    net.at(20, () => net.inject('E', 'V', { type: MsgType.ChunkData, chunk: { ...genuine, payload } }));
    const published = broadcast(net, 'S', 50, 8);
    net.runUntil(50 + 8 * CHUNK_MS + 2000);

    const bad = misbehaviours(net, 'V');
    assert.equal(bad.length, 1);
    assert.equal(bad[0]?.peer, 'E');
    assert.equal(bad[0]?.code, 'bad-signature');
    assert.ok(!net.eventsOf('V').some((e) => e.type === 'chunk' && e.from === 'E'), 'the forged chunk is not accepted');
    const plays = played(net, 'V');
    assert.equal(plays[0]?.seq, 0);
    assert.deepEqual(plays[0]?.payload, published[0]?.payload, 'chunk 0 played is the genuine one');
    assert.equal(net.core('V').getStats().duplicateBytes, 0, 'the genuine chunk 0 was not taken for a duplicate');
  });

  test('C: a validly signed chunk of another channel is reported and never played', () => {
    const net = withScriptedNeighbour();
    const foreign = makeChunk(0, 50, otherKey);
    net.at(20, () => net.inject('E', 'V', { type: MsgType.ChunkData, chunk: foreign }));
    const published = broadcast(net, 'S', 50, 8);
    net.runUntil(50 + 8 * CHUNK_MS + 2000);

    const bad = misbehaviours(net, 'V');
    assert.equal(bad.length, 1);
    assert.equal(bad[0]?.peer, 'E');
    // A link carries chunks without their key: the foreign chunk is read as one of this
    // channel's, and its signature (made under the other key) does not verify.
    assert.equal(bad[0]?.code, 'bad-signature');
    const plays = played(net, 'V');
    assert.deepEqual(
      plays.map((c) => c.seq),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.deepEqual(plays[0]?.payload, published[0]?.payload);
    assert.ok(plays.every((c) => c.channelKey.every((b, i) => b === key.publicKey[i])));
  });

  test('a neighbour that misbehaved is ignored afterwards', () => {
    const net = withScriptedNeighbour();
    const forged = { ...makeChunk(0, 50), seq: 1 };
    net.at(20, () => net.inject('E', 'V', { type: MsgType.ChunkData, chunk: forged }));
    net.at(30, () => net.inject('E', 'V', { type: MsgType.ChunkData, chunk: makeChunk(0, 50) }));
    net.runUntil(500);
    assert.equal(misbehaviours(net, 'V').length, 1);
    assert.ok(!net.eventsOf('V').some((e) => e.type === 'chunk'), 'even a valid chunk from E is dropped');
  });

  test('D: a message before hello is misbehaviour', () => {
    const net = new Net(key.publicKey);
    net.add('V', 'viewer');
    net.connect('V', 'E');
    net.inject('E', 'V', { type: MsgType.Have, seq: 0, flags: FLAG_KEYFRAME });
    net.runUntil(100);
    const bad = misbehaviours(net, 'V');
    assert.equal(bad.length, 1);
    assert.equal(bad[0]?.peer, 'E');
    assert.equal(bad[0]?.code, 'message-before-hello');
    // V itself opened with a hello and its buffer map.
    assert.deepEqual(
      net.inbox.get('E')?.map((m) => m.msg.type),
      [MsgType.Hello, MsgType.BufferMap],
    );
  });

  test('a hello for another channel, another version, or a second hello is misbehaviour', () => {
    const cases: [string, WireMessage[], MisbehaviourCode][] = [
      ['other channel', [helloFrom('E', 'viewer', otherKey.publicKey)], 'wrong-channel'],
      ['other version', [{ ...helloFrom('E'), version: PROTOCOL_VERSION + 1 } as WireMessage], 'wrong-version'],
      ['second hello', [helloFrom('E'), helloFrom('E')], 'second-hello'],
    ];
    for (const [what, msgs, code] of cases) {
      const net = new Net(key.publicKey);
      net.add('V', 'viewer');
      net.connect('V', 'E');
      for (const m of msgs) net.inject('E', 'V', m);
      net.runUntil(100);
      const bad = misbehaviours(net, 'V');
      assert.equal(bad.length, 1, what);
      assert.equal(bad[0]?.peer, 'E', what);
      assert.equal(bad[0]?.code, code, what);
    }
  });

  test('no hello within helloTimeoutMs is misbehaviour', () => {
    const net = new Net(key.publicKey);
    net.add('V', 'viewer', { helloTimeoutMs: 1000 });
    net.connect('V', 'E');
    net.runUntil(1000);
    assert.deepEqual(misbehaviours(net, 'V'), []);
    // The first tick past the timeout (ticks every 100 ms) reports it.
    net.runUntil(1150);
    const bad = misbehaviours(net, 'V');
    assert.equal(bad.length, 1);
    assert.equal(bad[0]?.peer, 'E');
    assert.equal(bad[0]?.code, 'hello-timeout');
  });

  test('a neighbour is reported once, not again at every tick until the runtime drops it', () => {
    const net = new Net(key.publicKey);
    net.add('V', 'viewer', { helloTimeoutMs: 1000 });
    net.connect('V', 'E');
    net.inject('E', 'V', { type: MsgType.Request, seq: 0 });
    net.runUntil(2000);
    assert.deepEqual(
      misbehaviours(net, 'V').map((m) => m.code),
      ['message-before-hello'],
    );
  });

  test('a neighbour announcing a far-future seq cannot stop a viewer from playing', () => {
    const lies: [string, WireMessage][] = [
      // If trusted, moves the window start past every real chunk: all would count as duplicates.
      ['have', { type: MsgType.Have, seq: 0xffffff00, flags: 0 }],
      // If trusted, parks the start on a chunk that never comes; real keyframes are older.
      ['buffer map', { type: MsgType.BufferMap, firstSeq: 0, count: 0, bits: new Uint8Array(0), newestKeySeq: 0xfffffff0 }],
    ];
    for (const [what, lie] of lies) {
      const net = withScriptedNeighbour();
      net.at(20, () => net.inject('E', 'V', lie));
      const published = broadcast(net, 'S', 50, 20);
      net.runUntil(50 + 20 * CHUNK_MS + 2000);
      const n = played(net, 'V').length;
      assert.ok(n >= published.length - 4, `after a lying ${what}, V played ${n} of ${published.length} chunks`);
    }
  });
});
