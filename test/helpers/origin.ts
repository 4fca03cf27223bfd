// A broadcaster's HTTP origin without a broadcast: ChunkOrigin over a list of chunks, with a
// gate whose budget and stream rate the test chooses. The chunks are not signed (the origin
// only serves them; the pages verify).

import { OriginGate } from '../../src/native/origin-gate.js';
import { ChunkOrigin } from '../../src/native/origin-routes.js';
import { type Chunk, FLAG_KEYFRAME } from '../../src/protocol/chunk.js';

export function originChunk(seq: number, keyframe = false, payloadBytes = 3): Chunk {
  return {
    channelKey: new Uint8Array(32),
    seq,
    captureTimeMs: 0,
    flags: keyframe ? FLAG_KEYFRAME : 0,
    payload: new Uint8Array(payloadBytes).fill(seq & 0xff),
    signature: new Uint8Array(64),
  };
}

export interface TestOrigin {
  origin: ChunkOrigin;
  /** Cuts a chunk: the origin holds it and its edge moves. */
  publish(chunk: Chunk): void;
  /** Payload bytes the origin counted as sent. */
  readonly sentBytes: number;
}

export function testOrigin(chunks: Chunk[] = [], o: { budgetBps?: number; streamBps?: number } = {}): TestOrigin {
  const held = new Map<number, Chunk>();
  let sentBytes = 0;
  let leases = 0;
  const gate = new OriginGate({
    budgetBps: () => o.budgetBps ?? 1e9,
    streamBps: () => o.streamBps ?? 8000,
    newLeaseId: () => `lease-${++leases}`,
  });
  const origin = new ChunkOrigin({
    chunk: (seq) => held.get(seq),
    gate,
    sent: (bytes) => {
      sentBytes += bytes;
    },
  });
  const publish = (chunk: Chunk) => {
    held.set(chunk.seq, chunk);
    origin.published(chunk);
  };
  for (const c of chunks) publish(c);
  return {
    origin,
    publish,
    get sentBytes() {
      return sentBytes;
    },
  };
}
