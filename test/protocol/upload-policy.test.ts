// The viewer's upload controls: a cap is honoured within 5% over time, "don't upload" serves
// nothing and advertises nothing, and a capped viewer answers Busy (no strike) rather than
// refusing chunks it has.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import { type Chunk, FLAG_KEYFRAME, signChunk } from '../../src/protocol/chunk.js';
import { MsgType, PROTOCOL_VERSION } from '../../src/protocol/codec.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('upload')}/k.key`);
const CHUNK_BYTES = 25_000;

/** A viewer holding 240 chunks, with `askers` neighbours that request everything it has as fast as allowed. */
function setup(policy: { uploadEnabled: boolean; uploadLimitBps?: number; uploadBurstMs?: number }) {
  const viewer = new PeerCore(
    { role: 'viewer', ...policy, requestRatePerS: 1000, requestBurst: 1000 },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(3) },
  );
  viewer.handleConnected(0, 'src');
  viewer.handleMessage(0, 'src', {
    type: MsgType.Hello,
    version: PROTOCOL_VERSION,
    channelKey: key.publicKey,
    peerId: new Uint8Array(16).fill(9),
    role: 'source',
  });
  const chunks: Chunk[] = [];
  for (let seq = 0; seq < 240; seq++) {
    const chunk = signChunk(
      {
        channelKey: key.publicKey,
        seq,
        captureTimeMs: seq * 250,
        flags: seq % 4 === 0 ? FLAG_KEYFRAME : 0,
        payload: new Uint8Array(CHUNK_BYTES),
      },
      key.sign,
    );
    chunks.push(chunk);
    viewer.handleMessage(0, 'src', { type: MsgType.ChunkData, chunk });
  }
  for (const peer of ['a', 'b', 'c']) {
    viewer.handleConnected(0, peer);
    viewer.handleMessage(0, peer, {
      type: MsgType.Hello,
      version: PROTOCOL_VERSION,
      channelKey: key.publicKey,
      peerId: new Uint8Array(16).fill(peer.charCodeAt(0)),
      role: 'viewer',
    });
  }
  return { viewer, chunks };
}

function drain(viewer: PeerCore) {
  const sent = { chunks: 0, bytes: 0, busy: 0, haves: 0, rejects: 0 };
  for (let t = viewer.pollTransmit(); t !== undefined; t = viewer.pollTransmit()) {
    if (t.msg.type === MsgType.ChunkData && t.to !== 'src') {
      sent.chunks++;
      sent.bytes += t.msg.chunk.payload.length;
    } else if (t.msg.type === MsgType.Busy) sent.busy++;
    else if (t.msg.type === MsgType.Have) sent.haves++;
    else if (t.msg.type === MsgType.Reject) sent.rejects++;
  }
  return sent;
}

test('an upload cap is honoured within 5% over 20 s', () => {
  const capBps = 2_000_000;
  const { viewer } = setup({ uploadEnabled: true, uploadLimitBps: capBps });
  drain(viewer);
  let bytes = 0;
  let busy = 0;
  let seq = 0;
  // Requests every 10 ms from three neighbours, far more than the cap allows.
  for (let now = 0; now <= 20_000; now += 10) {
    for (const peer of ['a', 'b', 'c']) viewer.handleMessage(now, peer, { type: MsgType.Request, seq: seq++ % 240 });
    viewer.handleTimeout(now);
    const s = drain(viewer);
    bytes += s.bytes;
    busy += s.busy;
  }
  // What may leave in 20 s: the cap's rate, plus the one-second burst the bucket starts with.
  const allowed = (capBps / 8) * 20 + capBps / 8;
  assert.ok(bytes <= allowed * 1.05, `sent ${bytes} B, cap allows ${allowed}`);
  assert.ok(bytes >= allowed * 0.95 - CHUNK_BYTES, `sent only ${bytes} B of ${allowed} allowed`);
  assert.ok(busy > 0, 'requests over the cap were not answered Busy');
});

test('upload left unused is spent later at once, up to uploadBurstMs of it, and the cap holds over time', () => {
  const capBps = 2_000_000;
  const chunkMs = (CHUNK_BYTES * 8000) / capBps;
  const sentAtOnce = (burstMs: number) => {
    const { viewer } = setup({ uploadEnabled: true, uploadLimitBps: capBps, uploadBurstMs: burstMs });
    drain(viewer);
    // Idle for 5 s, then 30 requests at one instant.
    for (let i = 0; i < 30; i++) viewer.handleMessage(5_000, ['a', 'b', 'c'][i % 3] as string, { type: MsgType.Request, seq: i });
    return drain(viewer).chunks;
  };
  assert.ok(sentAtOnce(0) <= 1, 'a strict cap sent a burst');
  const burst = sentAtOnce(1000);
  assert.ok(burst >= Math.floor(1000 / chunkMs) && burst <= Math.ceil(1020 / chunkMs) + 1, `sent ${burst} chunks at once`);

  const { viewer } = setup({ uploadEnabled: true, uploadLimitBps: capBps, uploadBurstMs: 1000 });
  drain(viewer);
  let bytes = 0;
  let seq = 0;
  for (let now = 0; now <= 20_000; now += 10) {
    for (const peer of ['a', 'b', 'c']) viewer.handleMessage(now, peer, { type: MsgType.Request, seq: seq++ % 240 });
    viewer.handleTimeout(now);
    bytes += drain(viewer).bytes;
  }
  const allowed = (capBps / 8) * 21 + capBps / 8;
  assert.ok(bytes <= allowed * 1.05, `sent ${bytes} B, cap and burst allow ${allowed}`);
});

test('a Busy for a full upload queue says when the queue will have room', () => {
  const capBps = 2_000_000;
  const { viewer } = setup({ uploadEnabled: true, uploadLimitBps: capBps });
  drain(viewer);
  let seq = 0;
  let retryMs: number | undefined;
  for (let i = 0; i < 20 && retryMs === undefined; i++) {
    viewer.handleMessage(0, ['a', 'b', 'c'][i % 3] as string, { type: MsgType.Request, seq: seq++ });
    for (let t = viewer.pollTransmit(); t !== undefined; t = viewer.pollTransmit())
      if (t.msg.type === MsgType.Busy) retryMs = t.msg.retryMs;
  }
  assert.ok(retryMs !== undefined && retryMs > 0, `retry hint ${retryMs}`);
  // Chunks leave every 100 ms at this cap: asked again before the hint, still Busy; at it, taken.
  const askAt = (now: number) => {
    viewer.handleTimeout(now);
    drain(viewer);
    viewer.handleMessage(now, 'a', { type: MsgType.Request, seq: seq++ });
    return drain(viewer).busy === 0;
  };
  assert.equal(askAt(Math.max(0, retryMs - 60)), false, 'room came before the hint said');
  assert.equal(askAt(retryMs + 1), true, 'no room when the hint said');
});

test('a request taken back before its chunk leaves is not sent', () => {
  const capBps = 2_000_000;
  const { viewer } = setup({ uploadEnabled: true, uploadLimitBps: capBps });
  drain(viewer);
  viewer.handleMessage(0, 'a', { type: MsgType.Request, seq: 1 });
  viewer.handleMessage(0, 'b', { type: MsgType.Request, seq: 2 });
  const first = viewer.pollTransmit();
  assert.ok(first?.msg.type === MsgType.ChunkData && first.to === 'a', 'the first request was not served at once');
  assert.equal(viewer.pollTransmit(), undefined, "'b''s chunk left before the cap allowed");
  viewer.handleMessage(10, 'b', { type: MsgType.Cancel, seq: 2 });
  viewer.handleMessage(10, 'c', { type: MsgType.Cancel, seq: 3 });
  let sentToB = 0;
  for (let now = 10; now <= 1000; now += 10) {
    viewer.handleTimeout(now);
    for (let t = viewer.pollTransmit(); t !== undefined; t = viewer.pollTransmit()) if (t.to === 'b') sentToB++;
  }
  assert.equal(sentToB, 0);
  assert.equal(viewer.getStats().uploadsCancelled, 1);
  // The upload it freed serves the next request at once.
  viewer.handleMessage(1000, 'c', { type: MsgType.Request, seq: 4 });
  assert.equal(drain(viewer).chunks, 1);
});

test('"don\'t upload" sends nothing, advertises nothing, and says so in its hello', () => {
  const { viewer } = setup({ uploadEnabled: false });
  const connect = viewer.pollTransmit();
  assert.equal(connect?.msg.type === MsgType.Hello && connect.msg.relays, false);
  drain(viewer);
  viewer.handleMessage(10, 'a', { type: MsgType.Request, seq: 5 });
  const s = drain(viewer);
  assert.equal(s.chunks, 0);
  assert.equal(s.busy, 1);
  assert.equal(s.haves, 0);
});

test('switching upload back on serves again', () => {
  const { viewer } = setup({ uploadEnabled: false });
  drain(viewer);
  viewer.setUploadPolicy(true, undefined);
  viewer.handleMessage(10, 'a', { type: MsgType.Request, seq: 7 });
  viewer.handleTimeout(10_000);
  assert.equal(drain(viewer).chunks, 1);
});
