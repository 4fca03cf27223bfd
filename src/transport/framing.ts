// Length-prefixed framing for stream transports (TCP): a 4-byte big-endian length, then the
// frame. Reading is separate from parsing (STYLE.md §2): push() only buffers and splits, and
// refuses a declared length above the limit before allocating anything for it.

import { concatBytes } from '../protocol/bytes.js';
import { RemoteProtocolError } from '../protocol/errors.js';

export const FRAME_HEADER_BYTES = 4;

export class FrameReader {
  private parts: Uint8Array[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Adds received bytes; returns every complete frame. Throws RemoteProtocolError on an oversized frame. */
  push(data: Uint8Array): Uint8Array[] {
    this.parts.push(data);
    this.buffered += data.length;
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) break;
      const header = this.peek(FRAME_HEADER_BYTES);
      const length = new DataView(header.buffer, header.byteOffset, 4).getUint32(0);
      if (length > this.maxFrameBytes)
        throw new RemoteProtocolError(`frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte limit`);
      if (length === 0) throw new RemoteProtocolError('empty frame');
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      this.take(FRAME_HEADER_BYTES);
      frames.push(this.take(length));
    }
    return frames;
  }

  /** Bytes held while waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  private peek(n: number): Uint8Array {
    const first = this.parts[0] as Uint8Array;
    if (first.length >= n) return first.subarray(0, n);
    this.parts = [concatBytes(this.parts)];
    return (this.parts[0] as Uint8Array).subarray(0, n);
  }

  private take(n: number): Uint8Array {
    const first = this.parts[0] as Uint8Array;
    if (first.length < n) this.parts = [concatBytes(this.parts)];
    const head = this.parts[0] as Uint8Array;
    const out = head.slice(0, n);
    if (head.length === n) this.parts.shift();
    else this.parts[0] = head.subarray(n);
    this.buffered -= n;
    return out;
  }
}

export function encodeFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}
