// How a viewer uses what it learns about its neighbours: a holder that answered Busy is asked
// again once its backoff is over (it still holds the chunk), a fresh chunk is pushed first to
// the neighbour that has served us fastest, and missed media marks the supply as short (the
// runtime then looks for more neighbours).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import { type Chunk, FLAG_KEYFRAME, signChunk } from '../../src/protocol/chunk.js';
import { MsgType, type PeerRole, type WireMessage } from '../../src/protocol/codec.js';
import { DEFAULT_PEER_CORE_CONFIG } from '../../src/protocol/core-types.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { connectPeer, drainTransmits } from '../helpers/cores.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('serving')}/k.key`);

function chunk(seq: number, flags = FLAG_KEYFRAME): Chunk {
  return signChunk({ channelKey: key.publicKey, seq, captureTimeMs: seq * 250, flags, payload: new Uint8Array(20_000) }, key.sign);
}

function viewer(uploadLimitBps?: number): PeerCore {
  return new PeerCore(
    { role: 'viewer', minStartLagMs: 0, ...(uploadLimitBps !== undefined ? { uploadLimitBps } : {}) },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(5) },
  );
}

const connect = (core: PeerCore, now: number, peer: string, role: PeerRole) => connectPeer(core, now, peer, role, key);
const drain = drainTransmits;

const requestsFor = (sent: { to: string; msg: WireMessage }[], seq: number) =>
  sent.filter((t) => t.msg.type === MsgType.Request && t.msg.seq === seq).map((t) => t.to);

test('a holder that answered Busy is asked again once the room it announced is there, not before', () => {
  const v = viewer();
  connect(v, 0, 'a', 'viewer');
  v.handleMessage(0, 'a', { type: MsgType.Have, seq: 0, flags: FLAG_KEYFRAME });
  assert.deepEqual(requestsFor(drain(v), 0), ['a']);
  const retryMs = 400;
  v.handleMessage(20, 'a', { type: MsgType.Busy, seq: 0, retryMs });
  assert.deepEqual(requestsFor(drain(v), 0), [], 'asked again at once');
  let askedAt: number | undefined;
  for (let t = 30; t <= 20 + 2 * retryMs + DEFAULT_PEER_CORE_CONFIG.tickMs && askedAt === undefined; t += 10) {
    v.handleTimeout(t);
    if (requestsFor(drain(v), 0).includes('a')) askedAt = t;
  }
  assert.ok(askedAt !== undefined, 'the only holder was never asked again');
  assert.ok(askedAt >= 20 + retryMs, `asked again at ${askedAt} ms, before the room it announced`);
});

test('a busy viewer is asked again no sooner than busyFloorMs, however short its hint', () => {
  const v = viewer();
  connect(v, 0, 'a', 'viewer');
  v.handleMessage(0, 'a', { type: MsgType.Have, seq: 0, flags: FLAG_KEYFRAME });
  assert.deepEqual(requestsFor(drain(v), 0), ['a']);
  // A queue just over its bound: the hint is one unit of the wire's.
  v.handleMessage(20, 'a', { type: MsgType.Busy, seq: 0, retryMs: 8 });
  drain(v);
  const floor = DEFAULT_PEER_CORE_CONFIG.busyFloorMs;
  let askedAt: number | undefined;
  for (let t = 25; t <= 20 + 2 * floor + DEFAULT_PEER_CORE_CONFIG.tickMs && askedAt === undefined; t += 5) {
    v.handleTimeout(t);
    if (requestsFor(drain(v), 0).includes('a')) askedAt = t;
  }
  assert.ok(askedAt !== undefined, 'the only holder was never asked again');
  assert.ok(askedAt >= 20 + floor, `asked again ${askedAt - 20} ms after its Busy`);
});

test('a busy source is asked again no sooner than busyBackoffMs, whatever its hint', () => {
  const v = viewer();
  connect(v, 0, 'src', 'source');
  connect(v, 0, 'a', 'viewer');
  // Playback starts on chunk 0 from a viewer; chunk 1 is then offered by the source alone.
  v.handleMessage(0, 'a', { type: MsgType.Have, seq: 0, flags: FLAG_KEYFRAME });
  assert.deepEqual(requestsFor(drain(v), 0), ['a']);
  v.handleMessage(10, 'a', { type: MsgType.ChunkData, chunk: chunk(0) });
  v.handleMessage(10, 'src', { type: MsgType.Have, seq: 1, flags: 0 });
  drain(v);
  const askSource = (from: number, to: number) => {
    for (let t = from; t <= to; t += 10) {
      v.handleTimeout(t);
      if (requestsFor(drain(v), 1).includes('src')) return t;
    }
    return undefined;
  };
  const first = askSource(10, 2000);
  assert.ok(first !== undefined, 'the source was never asked');
  v.handleMessage(first + 10, 'src', { type: MsgType.Busy, seq: 1, retryMs: 20 });
  drain(v);
  const floor = DEFAULT_PEER_CORE_CONFIG.busyBackoffMs;
  const again = askSource(first + 20, first + 10 + 2 * floor + DEFAULT_PEER_CORE_CONFIG.tickMs);
  assert.ok(again !== undefined, 'the source was never asked again');
  assert.ok(again >= first + 10 + floor, `asked the busy source again ${again - first - 10} ms after its Busy`);
});

test('a chunk that comes from elsewhere first takes back the request still out for it', () => {
  const v = viewer();
  connect(v, 0, 'a', 'viewer');
  connect(v, 0, 'b', 'viewer');
  const reports: string[] = [];
  // Eight times over (more than the strikes that drop a neighbour): 'a' is asked, 'b' pushes
  // the chunk first, 'a''s copy comes after the Cancel crossed it.
  for (let seq = 0; seq < 8; seq++) {
    const t = seq * 100;
    v.handleMessage(t, 'a', { type: MsgType.Have, seq, flags: FLAG_KEYFRAME });
    assert.deepEqual(requestsFor(drain(v), seq), ['a']);
    v.handleMessage(t + 10, 'b', { type: MsgType.ChunkData, chunk: chunk(seq) });
    const cancels = drain(v).filter((m) => m.msg.type === MsgType.Cancel);
    assert.deepEqual(
      cancels.map((m) => [m.to, m.msg.type === MsgType.Cancel && m.msg.seq]),
      [['a', seq]],
    );
    v.handleMessage(t + 30, 'a', { type: MsgType.ChunkData, chunk: chunk(seq) });
    for (let e = v.pollEvent(); e !== undefined; e = v.pollEvent()) if (e.type === 'misbehaved') reports.push(e.code);
  }
  assert.deepEqual(reports, [], 'a copy that crossed our Cancel was held against its sender');
  assert.equal(v.getStats().duplicateBytes, 8 * 20_000);
});

test('a request given up after requestTimeoutMs is taken back with a Cancel', () => {
  const v = viewer();
  connect(v, 0, 'a', 'viewer');
  v.handleMessage(0, 'a', { type: MsgType.Have, seq: 0, flags: FLAG_KEYFRAME });
  assert.deepEqual(requestsFor(drain(v), 0), ['a']);
  const timeout = DEFAULT_PEER_CORE_CONFIG.requestTimeoutMs;
  const sent: { to: string; msg: WireMessage }[] = [];
  for (let t = 100; t <= timeout + 2 * DEFAULT_PEER_CORE_CONFIG.tickMs; t += 50) {
    v.handleTimeout(t);
    sent.push(...drain(v));
  }
  assert.deepEqual(
    sent.filter((m) => m.msg.type === MsgType.Cancel).map((m) => [m.to, m.msg.type === MsgType.Cancel && m.msg.seq]),
    [['a', 0]],
  );
  // The copy comes after all: nobody else sent it, so it is kept, and not held against 'a'.
  const events: string[] = [];
  v.handleMessage(timeout + 300, 'a', { type: MsgType.ChunkData, chunk: chunk(0) });
  for (let e = v.pollEvent(); e !== undefined; e = v.pollEvent()) events.push(e.type);
  assert.ok(!events.includes('misbehaved'));
  assert.ok(v.getChunk(0) !== undefined);
});

test('a chunk skipped by playback while still asked for is taken back with a Cancel', () => {
  const v = new PeerCore(
    { role: 'viewer', minStartLagMs: 0, maxPlayoutLagMs: 1000, requestTimeoutMs: 60_000 },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(5) },
  );
  connect(v, 0, 'a', 'viewer');
  connect(v, 0, 'b', 'viewer');
  // 'a' sends chunks 0 and 2; 'b' offers 1 and never sends it.
  v.handleMessage(0, 'b', { type: MsgType.Have, seq: 1, flags: 0 });
  v.handleMessage(0, 'a', { type: MsgType.ChunkData, chunk: chunk(0) });
  v.handleMessage(0, 'a', { type: MsgType.ChunkData, chunk: chunk(2, 0) });
  assert.deepEqual(requestsFor(drain(v), 1), ['b']);
  const sent: { to: string; msg: WireMessage }[] = [];
  let skippedAt: number | undefined;
  for (let t = 100; t <= 5000 && skippedAt === undefined; t += 100) {
    v.handleTimeout(t);
    sent.push(...drain(v));
    for (let e = v.pollEvent(); e !== undefined; e = v.pollEvent()) if (e.type === 'skip' && e.seq === 1) skippedAt = t;
  }
  assert.ok(skippedAt !== undefined, 'chunk 1 was never skipped');
  assert.deepEqual(
    sent.filter((m) => m.msg.type === MsgType.Cancel).map((m) => [m.to, m.msg.type === MsgType.Cancel && m.msg.seq]),
    [['b', 1]],
  );
  // Its copy, if it crossed the Cancel, is no replay.
  v.handleMessage(skippedAt + 50, 'b', { type: MsgType.ChunkData, chunk: chunk(1, 0) });
  for (let e = v.pollEvent(); e !== undefined; e = v.pollEvent()) assert.notEqual(e.type, 'misbehaved');
});

test('a fresh chunk pushed to us goes on first to the neighbours that served us fastest; a pulled one does not', () => {
  const v = viewer(8_000_000);
  connect(v, 0, 'src', 'source');
  for (const p of ['slow', 'fast', 'new']) connect(v, 0, p, 'viewer');
  // 'slow' and 'fast' each hold chunks 0..3; whoever is asked for what answers at its own pace.
  for (const p of ['slow', 'fast'])
    for (let seq = 0; seq < 4; seq++) v.handleMessage(0, p, { type: MsgType.Have, seq, flags: FLAG_KEYFRAME });
  const asked = drain(v).filter((t) => t.msg.type === MsgType.Request);
  assert.ok(
    asked.some((t) => t.to === 'slow') && asked.some((t) => t.to === 'fast'),
    `requests went to ${asked.map((t) => t.to).join(', ')}`,
  );
  for (const t of asked) {
    if (t.msg.type !== MsgType.Request) continue;
    v.handleMessage(t.to === 'fast' ? 40 : 600, t.to, { type: MsgType.ChunkData, chunk: chunk(t.msg.seq) });
  }
  drain(v);
  // The source pushes the next chunk to us: it goes on at once to the two fastest lacking it
  // ('new' has not served us yet and counts as average, which is faster than 'slow').
  v.handleMessage(700, 'src', { type: MsgType.ChunkData, chunk: chunk(4) });
  const sent = drain(v);
  v.handleTimeout(760); // the second leaves once the cap lets it
  sent.push(...drain(v));
  const pushes = sent.filter((t) => t.msg.type === MsgType.ChunkData && t.msg.chunk.seq === 4);
  assert.deepEqual(
    pushes.map((t) => t.to),
    ['fast', 'new'],
  );
  // A fresh chunk we asked for is not pushed on: its holders' HAVEs are out, and a push would
  // mostly cross a request made elsewhere.
  v.handleMessage(800, 'fast', { type: MsgType.Have, seq: 5, flags: 0 });
  assert.deepEqual(requestsFor(drain(v), 5), ['fast']);
  v.handleMessage(840, 'fast', { type: MsgType.ChunkData, chunk: chunk(5, 0) });
  v.handleTimeout(840);
  const pushed = drain(v).filter((t) => t.msg.type === MsgType.ChunkData && t.msg.chunk.seq === 5);
  assert.deepEqual(pushed, [], 'a pulled chunk was pushed on');
});

test('a skipped chunk marks the supply short for shortSupplyMs', () => {
  const v = viewer();
  connect(v, 0, 'a', 'viewer');
  // 'a' offers 0 (where playback starts), 1 and 3, never 2: chunk 2 cannot be waited for.
  for (const seq of [0, 1, 3]) v.handleMessage(0, 'a', { type: MsgType.Have, seq, flags: seq === 0 ? FLAG_KEYFRAME : 0 });
  // An unproven neighbour gets one request at a time: answer until nothing more is asked.
  for (let asked = drain(v); asked.length > 0; asked = drain(v)) {
    for (const t of asked)
      if (t.msg.type === MsgType.Request)
        v.handleMessage(50, 'a', { type: MsgType.ChunkData, chunk: chunk(t.msg.seq, t.msg.seq === 0 ? FLAG_KEYFRAME : 0) });
  }
  assert.equal(v.supplyShort(50), false, 'nothing missed yet');
  // Playback started at 50 on chunk 0 (captured at 0): chunk 2 is due at 500 + 50 + slack.
  const due = 500 + 50 + DEFAULT_PEER_CORE_CONFIG.playoutSlackMs;
  v.handleTimeout(due + 100);
  assert.equal(v.getStats().chunksSkipped, 1);
  assert.equal(v.supplyShort(due + 100), true);
  assert.equal(v.supplyShort(due + 100 + DEFAULT_PEER_CORE_CONFIG.shortSupplyMs), false);
});
