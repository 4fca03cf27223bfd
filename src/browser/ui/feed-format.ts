// The HTTP chunk feed used to develop and test the WebTV page without a swarm: a long-poll
// `GET <feed>?from=<seq>` answers with the chunks from `seq` on (or, without `from`, from the
// newest keyframe), each record `seq u32 | captureTimeMs f64 | flags u8 | length u32 | payload`,
// big-endian. A seq missing between records is a chunk that will never come. Pure: no I/O.

import { MAX_CHUNK_PAYLOAD_BYTES } from '../../protocol/chunk.js';
import type { PlayedChunk as PlayableChunk } from '../runtime.js';

const RECORD_HEADER_BYTES = 4 + 8 + 1 + 4;

export function encodeFeed(chunks: readonly PlayableChunk[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += RECORD_HEADER_BYTES + c.payload.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let o = 0;
  for (const c of chunks) {
    view.setUint32(o, c.seq);
    view.setFloat64(o + 4, c.captureTimeMs);
    view.setUint8(o + 12, c.flags);
    view.setUint32(o + 13, c.payload.length);
    out.set(c.payload, o + RECORD_HEADER_BYTES);
    o += RECORD_HEADER_BYTES + c.payload.length;
  }
  return out;
}

/** Parses a feed body; throws an Error naming the problem on malformed input. */
export function decodeFeed(body: Uint8Array): PlayableChunk[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: PlayableChunk[] = [];
  let o = 0;
  while (o < body.length) {
    if (body.length - o < RECORD_HEADER_BYTES) throw new Error(`feed record truncated at byte ${o}`);
    const length = view.getUint32(o + 13);
    if (length > MAX_CHUNK_PAYLOAD_BYTES || o + RECORD_HEADER_BYTES + length > body.length) {
      throw new Error(`feed record at byte ${o} claims ${length} payload bytes`);
    }
    const captureTimeMs = view.getFloat64(o + 4);
    if (!Number.isFinite(captureTimeMs)) throw new Error(`feed record at byte ${o} has no valid capture time`);
    out.push({
      seq: view.getUint32(o),
      captureTimeMs,
      flags: view.getUint8(o + 12),
      payload: body.slice(o + RECORD_HEADER_BYTES, o + RECORD_HEADER_BYTES + length),
    });
    o += RECORD_HEADER_BYTES + length;
  }
  return out;
}
