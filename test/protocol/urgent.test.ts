// Urgent requests (protocol 5): a viewer asks for a chunk due at its player within
// urgentRequestMs with the urgent flag, and a capped holder takes such a request a little past
// its usual queue length and sends it ahead of the requests that can wait.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import type { Chunk } from '../../src/protocol/chunk.js';
import { MsgType, type PeerRole } from '../../src/protocol/codec.js';
import type { PeerCoreConfig } from '../../src/protocol/core-types.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { connectPeer, drainTransmits, testChunk } from '../helpers/cores.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('urgent')}/k.key`);
const chunk = (seq: number): Chunk => testChunk(key, seq, seq * 100, 20_000, 10);

function core(role: PeerRole, config: Partial<PeerCoreConfig> = {}): PeerCore {
  return new PeerCore(
    { role, ...config },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(3) },
  );
}

const connect = (c: PeerCore, now: number, peer: string, role: PeerRole) => connectPeer(c, now, peer, role, key);
const drain = drainTransmits;

/** A holder capped at 800 kbit/s (a 20 kB chunk takes 200 ms) holding chunks 0-9, with one asker. */
function holder(config: Partial<PeerCoreConfig>): PeerCore {
  const h = core('source', { uploadLimitBps: 800_000, ...config });
  for (let seq = 0; seq < 10; seq++) h.publish(0, chunk(seq));
  connect(h, 0, 'a', 'viewer');
  drain(h);
  return h;
}

test('a full holder answers Busy to a request that can wait, and takes an urgent one', () => {
  const h = holder({ maxUploadBacklogMs: 150, urgentBacklogMs: 300 });
  h.handleMessage(0, 'a', { type: MsgType.Request, seq: 0 });
  // 200 ms of upload queued: 50 ms more than the queue's usual length.
  h.handleMessage(0, 'a', { type: MsgType.Request, seq: 1 });
  h.handleMessage(0, 'a', { type: MsgType.Request, seq: 2, urgent: true });
  h.handleMessage(0, 'a', { type: MsgType.Request, seq: 3, urgent: true });
  // Now 600 ms are queued: 450 ms past the usual length, more than the 300 an urgent one may go.
  h.handleMessage(0, 'a', { type: MsgType.Request, seq: 4, urgent: true });
  const busy = drain(h)
    .filter((t) => t.msg.type === MsgType.Busy)
    .map((t) => (t.msg as { seq: number }).seq);
  assert.deepEqual(busy, [1, 4]);
});

test('an urgent request leaves before the requests queued ahead of it', () => {
  const h = holder({ maxUploadBacklogMs: 1000 });
  for (const seq of [0, 1, 2]) h.handleMessage(0, 'a', { type: MsgType.Request, seq });
  h.handleMessage(0, 'a', { type: MsgType.Request, seq: 3, urgent: true });
  const sent: number[] = [];
  for (let t = 0; t <= 1000; t += 10) {
    h.handleTimeout(t);
    for (const x of drain(h)) if (x.msg.type === MsgType.ChunkData) sent.push(x.msg.chunk.seq);
  }
  assert.deepEqual(sent, [0, 3, 1, 2], 'chunk 0 had left already; 3 goes next');
});

/** Requests a viewer sends at t = 900 for chunks 1-20 offered then, its playback started at 0 on chunk 0. */
function requestsAt900(config: Partial<PeerCoreConfig>): { seq: number; urgent?: boolean }[] {
  const v = core('viewer', { minStartLagMs: 0, playoutSlackMs: 1500, ...config });
  connect(v, 0, 's', 'source');
  connect(v, 0, 'b', 'viewer');
  // Playback starts on chunk 0 at t = 0 (captured at 0): chunk k is due at 1500 + 100 k. It
  // comes from b, which has then served us (asked up to maxPendingPerPeer at a time).
  v.handleMessage(0, 'b', { type: MsgType.ChunkData, chunk: chunk(0) });
  drain(v);
  for (let seq = 1; seq <= 20; seq++) v.handleMessage(900, 'b', { type: MsgType.Have, seq, flags: 0 });
  return drain(v).flatMap((t) => (t.msg.type === MsgType.Request ? [t.msg] : []));
}

test('a joining viewer marks urgent the requests for chunks due within urgentRequestMs, and only those', () => {
  // 1 s: more chunks in view. At t = 900 chunks 1-3 are due within it, the rest later.
  const requests = requestsAt900({ urgentRequestMs: 1000 });
  assert.ok(requests.length > 0);
  for (const r of requests) {
    const due = 1500 + 100 * r.seq;
    assert.equal(r.urgent === true, due - 900 < 1000, `chunk ${r.seq} due at ${due}`);
  }
  assert.ok(requests.some((r) => r.urgent === true) && requests.some((r) => r.urgent !== true), 'both kinds asked');
});

test('past urgentJoinMs of playback a viewer flags nothing urgent', () => {
  const requests = requestsAt900({ urgentRequestMs: 1000, urgentJoinMs: 800 });
  assert.ok(requests.length > 0);
  assert.deepEqual(
    requests.filter((r) => r.urgent === true),
    [],
  );
});
