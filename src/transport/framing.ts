// Length-prefixed framing for stream transports (TCP): the frame's length as an unsigned LEB128
// varint (7 bits a byte, low bits first, high bit set on every byte but the last; 1 byte up to
// 127, 3 up to 2 MB), then the frame. Most frames are HAVEs and requests of 5-6 bytes, so a
// 4-byte length was a third of their cost. Reading is separate from parsing
// (docs/architecture.md, "Why it is cut this way"): push() only buffers and splits, and refuses
// a declared length above the limit, or a prefix longer than MAX_HEADER_BYTES, before
// allocating anything for it.

import { concatBytes } from '../common/bytes.js';
import { RemoteProtocolError } from '../protocol/errors.js';

/** Longest length prefix: four bytes carry up to 256 MB, past any frame limit. */
export const MAX_HEADER_BYTES = 4;

/** Bytes of the length prefix of a frame of `length` bytes. */
export function frameHeaderBytes(length: number): number {
  let n = 1;
  for (let v = length >>> 7; v > 0; v >>>= 7) n++;
  return n;
}

/** A message body's cost on a TCP link: the body and its length prefix. */
export function tcpWireBytes(bodyBytes: number): number {
  return bodyBytes + frameHeaderBytes(bodyBytes);
}

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
      const header = this.readHeader();
      if (header === undefined) break;
      const { length, bytes } = header;
      if (this.buffered < bytes + length) break;
      this.take(bytes);
      frames.push(this.take(length));
    }
    return frames;
  }

  /** The next frame's length and prefix size; undefined while the prefix is incomplete. */
  private readHeader(): { length: number; bytes: number } | undefined {
    const head = this.peek(Math.min(MAX_HEADER_BYTES, this.buffered));
    let length = 0;
    for (let i = 0; i < head.length; i++) {
      const b = head[i] as number;
      length += (b & 0x7f) * 2 ** (7 * i);
      if (length > this.maxFrameBytes)
        throw new RemoteProtocolError(`frame of ${length} bytes or more exceeds the ${this.maxFrameBytes}-byte limit`);
      if ((b & 0x80) === 0) {
        if (length === 0) throw new RemoteProtocolError('empty frame');
        if (i > 0 && b === 0) throw new RemoteProtocolError('frame length not in its shortest form');
        return { length, bytes: i + 1 };
      }
    }
    if (head.length === MAX_HEADER_BYTES) throw new RemoteProtocolError(`frame length prefix longer than ${MAX_HEADER_BYTES} bytes`);
    return undefined;
  }

  /** Bytes held while waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  private peek(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
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
  const header = frameHeaderBytes(body.length);
  const out = new Uint8Array(header + body.length);
  let v = body.length;
  for (let i = 0; i < header - 1; i++) {
    out[i] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[header - 1] = v;
  out.set(body, header);
  return out;
}
