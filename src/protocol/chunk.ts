// Chunks: signed, numbered pieces of the muxed stream (docs/architecture.md, "From encoder to player").
// The signature covers every field but itself, so a relay can change nothing.
// Signing and verification are injected (node crypto, WebCrypto, noble): no I/O here.

import type { SignFn, VerifyFn } from '../crypto/signatures.js';
import { RemoteProtocolError } from './errors.js';

export const CHANNEL_ID_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/**
 * Media time a chunk aims at. Every relay hop costs about a chunk's transfer time, so the lag
 * floor is about (1 + log2 N) chunk-times; smaller chunks cost more messages per second of
 * stream. meshtv sim measured 125 ms far better than 250 ms, and 100 ms better again for a
 * fifth more messages (docs/simulator.md).
 */
export const CHUNK_MS = 100;
/** Largest payload a chunk may carry; a 250 ms chunk of a 20 Mbit/s stream is ~625 KB. */
export const MAX_CHUNK_PAYLOAD_BYTES = 1024 * 1024;

/** Flag bit: the payload starts with PAT/PMT and a video keyframe, so playback can start here. */
export const FLAG_KEYFRAME = 0x01;
/** Flag bit: the broadcaster's input ended; this is the last chunk of the channel. */
export const FLAG_END_OF_STREAM = 0x02;
/**
 * Flag bit: the first chunk of a broadcaster's run. A restarted broadcaster numbers on from its
 * clock, so numbers between the last chunk of its previous run and this one never existed:
 * players start afresh here instead of waiting out each missing number.
 */
export const FLAG_STREAM_START = 0x04;

/** Bytes of the signed header: version, channel key, seq, capture time, flags, payload length. */
const HEADER_BYTES = 1 + CHANNEL_ID_BYTES + 4 + 8 + 1 + 4;
/**
 * The header as a peer link carries it: without the channel key, which both ends know from the
 * hello (the signature still covers it, so a chunk of another channel fails verification).
 */
const LINK_HEADER_BYTES = HEADER_BYTES - CHANNEL_ID_BYTES;
const CHUNK_FORMAT_VERSION = 1;

export interface Chunk {
  /** Raw 32-byte Ed25519 public key of the channel. */
  readonly channelKey: Uint8Array;
  readonly seq: number;
  /** Wall-clock time (ms since the epoch) the chunk's first byte was captured at the broadcaster. */
  readonly captureTimeMs: number;
  readonly flags: number;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

export type UnsignedChunk = Omit<Chunk, 'signature'>;

/** The exact bytes the signature covers: the header followed by the payload. */
export function signedBytes(c: UnsignedChunk): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + c.payload.length);
  writeHeader(out, c, true);
  out.set(c.payload, HEADER_BYTES);
  return out;
}

export function signChunk(c: UnsignedChunk, sign: SignFn): Chunk {
  return { ...c, signature: sign(signedBytes(c)) };
}

/**
 * Where verifyChunk lays out the signed bytes, reused: a viewer checks every chunk it stores,
 * and a fresh copy of each payload was garbage to collect at every one.
 */
let verifyScratch = new Uint8Array(0);

export function verifyChunk(c: Chunk, verify: VerifyFn): boolean {
  if (c.signature.length !== SIGNATURE_BYTES) return false;
  const length = HEADER_BYTES + c.payload.length;
  if (verifyScratch.length < length) verifyScratch = new Uint8Array(Math.max(length, 2 * verifyScratch.length));
  const message = verifyScratch.subarray(0, length);
  writeHeader(message, c, true);
  message.set(c.payload, HEADER_BYTES);
  return verify(c.channelKey, message, c.signature);
}

/** Encoded size of a chunk on the wire. */
export function encodedChunkBytes(c: Chunk): number {
  return HEADER_BYTES + c.payload.length + SIGNATURE_BYTES;
}

/** Size of a chunk on a peer link (without the channel key). */
export function linkChunkBytes(c: Chunk): number {
  return LINK_HEADER_BYTES + c.payload.length + SIGNATURE_BYTES;
}

/** Writes a chunk as a peer link carries it (without the channel key); returns the end offset. */
export function encodeLinkChunkInto(out: Uint8Array, offset: number, c: Chunk): number {
  return writeChunk(out, offset, c, false);
}

export function encodeChunkInto(out: Uint8Array, offset: number, c: Chunk): number {
  return writeChunk(out, offset, c, true);
}

function writeChunk(out: Uint8Array, offset: number, c: Chunk, withKey: boolean): number {
  const headerBytes = withKey ? HEADER_BYTES : LINK_HEADER_BYTES;
  writeHeader(out.subarray(offset), c, withKey);
  out.set(c.payload, offset + headerBytes);
  out.set(c.signature, offset + headerBytes + c.payload.length);
  return offset + headerBytes + c.payload.length + SIGNATURE_BYTES;
}

/** The wire form of one chunk on its own (as the HTTP origin serves it). */
export function encodeChunk(c: Chunk): Uint8Array {
  const out = new Uint8Array(encodedChunkBytes(c));
  encodeChunkInto(out, 0, c);
  return out;
}

/** Parses a chunk; throws RemoteProtocolError on any malformed field. Does not verify the signature. */
export function decodeChunk(buf: Uint8Array): Chunk {
  return parseChunk(buf, undefined);
}

/** Parses a chunk as a peer link carries it, on a link of the channel `channelKey`. Does not verify the signature. */
export function decodeLinkChunk(buf: Uint8Array, channelKey: Uint8Array): Chunk {
  return parseChunk(buf, channelKey);
}

/** With `linkKey`, the header lacks the channel key and the chunk gets this one. */
function parseChunk(buf: Uint8Array, linkKey: Uint8Array | undefined): Chunk {
  const headerBytes = linkKey === undefined ? HEADER_BYTES : LINK_HEADER_BYTES;
  if (buf.length < headerBytes + SIGNATURE_BYTES) throw new RemoteProtocolError(`chunk too short: ${buf.length} bytes`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = view.getUint8(0);
  if (version !== CHUNK_FORMAT_VERSION) throw new RemoteProtocolError(`unknown chunk format version ${version}`);
  const channelKey = linkKey ?? buf.slice(1, 1 + CHANNEL_ID_BYTES);
  let o = linkKey === undefined ? 1 + CHANNEL_ID_BYTES : 1;
  const seq = view.getUint32(o);
  o += 4;
  const captureTimeMs = view.getFloat64(o);
  o += 8;
  if (!Number.isFinite(captureTimeMs) || captureTimeMs < 0) throw new RemoteProtocolError('chunk capture time is not a valid time');
  const flags = view.getUint8(o);
  o += 1;
  const payloadLength = view.getUint32(o);
  o += 4;
  if (payloadLength > MAX_CHUNK_PAYLOAD_BYTES) throw new RemoteProtocolError(`chunk payload of ${payloadLength} bytes exceeds the maximum`);
  if (buf.length !== headerBytes + payloadLength + SIGNATURE_BYTES) {
    throw new RemoteProtocolError(`chunk length ${buf.length} does not match its payload length ${payloadLength}`);
  }
  const payload = buf.slice(o, o + payloadLength);
  const signature = buf.slice(o + payloadLength);
  return { channelKey, seq, captureTimeMs, flags, payload, signature };
}

function writeHeader(out: Uint8Array, c: UnsignedChunk, withKey: boolean): void {
  if (c.channelKey.length !== CHANNEL_ID_BYTES) throw new RangeError('channel key must be 32 bytes');
  if (c.payload.length > MAX_CHUNK_PAYLOAD_BYTES) throw new RangeError('chunk payload too large');
  const view = new DataView(out.buffer, out.byteOffset, withKey ? HEADER_BYTES : LINK_HEADER_BYTES);
  view.setUint8(0, CHUNK_FORMAT_VERSION);
  if (withKey) out.set(c.channelKey, 1);
  let o = withKey ? 1 + CHANNEL_ID_BYTES : 1;
  view.setUint32(o, c.seq);
  o += 4;
  view.setFloat64(o, c.captureTimeMs);
  o += 8;
  view.setUint8(o, c.flags);
  o += 1;
  view.setUint32(o, c.payload.length);
}
