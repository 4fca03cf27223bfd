// Binary wire codec for the peer protocol: pure encode/decode, no reading from sockets
// (framing lives in ../transport). Every length is checked before anything is allocated,
// and every failure on input is a RemoteProtocolError: the peer that sent it is at fault.

import { CHANNEL_ID_BYTES, type Chunk, decodeLinkChunk, encodeLinkChunkInto, linkChunkBytes } from './chunk.js';
import { RemoteProtocolError } from './errors.js';

import {
  type AuthMsg,
  type BufferMapMsg,
  type ChunkMsg,
  type HelloMsg,
  LINK_PROOF_BYTES,
  MAX_BUFFER_MAP_CHUNKS,
  MAX_FRAME_BYTES,
  MsgType,
  NODE_KEY_BYTES,
  PEER_ID_BYTES,
  type SeqMessage,
  type WireMessage,
} from './wire-messages.js';

// The messages themselves are defined beside the codec; importers keep one module to name.
export * from './wire-messages.js';

/**
 * Sequence numbers on a link: HAVEs, requests and answers are most of the frames, and each names
 * a chunk close to the one named before it on the same link, in the same direction (both ends
 * track it: links are ordered). The type byte's top two bits say how the number follows: as a
 * signed 1-byte step from that one (11), a 2-byte step (10, only when 1 byte is too few), or in
 * full, 4 bytes (00, valid on any link). Bit 0x20 of a HAVE sent as a step says a flags byte
 * follows; without it the flags are 0 (7 HAVEs in 8). Bit 0x20 of a request, in any form, says
 * it is urgent.
 */
const FORM_MASK = 0xc0;
const FULL = 0x00;
const STEP_2 = 0x80;
const STEP_1 = 0xc0;
const HAS_FLAGS = 0x20;
const URGENT = 0x20;
const TYPE_MASK = 0x1f;

/** One direction of a link: the sequence number its last HAVE, request or answer named. */
export interface SeqRef {
  seq: number;
}

/** Unit of a Busy's retry hint on the wire: the hint is one byte, rounded up to this. */
export const BUSY_RETRY_UNIT_MS = 8;

/** A Busy retry hint as the wire carries it: rounded up to BUSY_RETRY_UNIT_MS, within one byte. */
export function busyRetryOnWire(ms: number): number {
  return Math.min(0xff, Math.max(0, Math.ceil(ms / BUSY_RETRY_UNIT_MS))) * BUSY_RETRY_UNIT_MS;
}

/** Whether a message names a chunk by number (and so moves its link's SeqRef when sent). */
export function isSeqMessage(msg: WireMessage): msg is SeqMessage {
  return msg.type !== MsgType.Hello && msg.type !== MsgType.BufferMap && msg.type !== MsgType.ChunkData && msg.type !== MsgType.Auth;
}

/** Bytes of `seq` sent after `ref` on a link: 1 or 2 as a step, else 4 (undefined: no link, in full). */
function seqBytes(seq: number, ref: SeqRef | undefined): 1 | 2 | 4 {
  if (ref === undefined) return 4;
  const step = seq - ref.seq;
  if (step >= -0x80 && step <= 0x7f) return 1;
  if (step >= -0x8000 && step <= 0x7fff) return 2;
  return 4;
}

/** Body bytes of a message with a sequence number, sent on a link whose last one was `ref`. */
export function seqMessageBytes(msg: SeqMessage, ref: SeqRef | undefined): number {
  const n = seqBytes(msg.seq, ref);
  switch (msg.type) {
    case MsgType.Have:
      return 1 + n + (n === 4 || msg.flags !== 0 ? 1 : 0);
    case MsgType.Busy:
      return 1 + n + 1;
    default:
      return 1 + n;
  }
}

/** Body bytes of a chunk message: its type byte and the chunk as a link carries it. */
export function chunkMessageBytes(chunk: Chunk): number {
  return 1 + linkChunkBytes(chunk);
}

/**
 * Body bytes of `msg` (without the transport's framing) on a link direction whose last sequence
 * number was `tx` (undefined: every number in full). Leaves `tx` alone.
 */
export function messageBodyBytes(msg: WireMessage, tx?: SeqRef): number {
  switch (msg.type) {
    case MsgType.Hello:
      return 1 + 1 + CHANNEL_ID_BYTES + PEER_ID_BYTES + 1;
    case MsgType.BufferMap:
      return 11 + Math.ceil(msg.count / 8);
    case MsgType.ChunkData:
      return chunkMessageBytes(msg.chunk);
    case MsgType.Auth:
      return AUTH_BYTES;
    default:
      return seqMessageBytes(msg, tx);
  }
}

/**
 * Encodes one message. `tx` is the sending direction of its link, updated by the messages that
 * carry a sequence number; without it every number goes in full (valid on any link).
 */
export function encodeMessage(msg: WireMessage, tx?: SeqRef): Uint8Array {
  if (isSeqMessage(msg)) return encodeSeqMessage(msg, tx);
  return encodeOther(msg);
}

function encodeSeqMessage(msg: SeqMessage, tx: SeqRef | undefined): Uint8Array {
  if (!Number.isInteger(msg.seq) || msg.seq < 0 || msg.seq > 0xffffffff) throw new RangeError(`sequence number ${msg.seq} out of range`);
  const n = seqBytes(msg.seq, tx);
  const out = new Uint8Array(seqMessageBytes(msg, tx));
  const v = view(out);
  const step = msg.seq - (tx?.seq ?? 0);
  let type: number = msg.type;
  if (n === 1) {
    type |= STEP_1;
    v.setInt8(1, step);
  } else if (n === 2) {
    type |= STEP_2;
    v.setInt16(1, step);
  } else v.setUint32(1, msg.seq);
  const at = 1 + n;
  if (msg.type === MsgType.Have && at < out.length) {
    if (n !== 4) type |= HAS_FLAGS;
    out[at] = msg.flags;
  } else if (msg.type === MsgType.Busy) out[at] = busyRetryOnWire(msg.retryMs) / BUSY_RETRY_UNIT_MS;
  else if (msg.type === MsgType.Request && msg.urgent === true) type |= URGENT;
  out[0] = type;
  if (tx !== undefined) tx.seq = msg.seq;
  return out;
}

const AUTH_BYTES = 1 + NODE_KEY_BYTES + LINK_PROOF_BYTES;

function encodeOther(msg: HelloMsg | BufferMapMsg | ChunkMsg | AuthMsg): Uint8Array {
  switch (msg.type) {
    case MsgType.Hello: {
      const out = new Uint8Array(1 + 1 + CHANNEL_ID_BYTES + PEER_ID_BYTES + 1);
      out[0] = msg.type;
      out[1] = msg.version;
      out.set(msg.channelKey, 2);
      out.set(msg.peerId, 2 + CHANNEL_ID_BYTES);
      // Role byte: 1 = source, 0 = viewer, 2 = viewer that does not relay.
      out[2 + CHANNEL_ID_BYTES + PEER_ID_BYTES] = msg.role === 'source' ? 1 : msg.relays === false ? 2 : 0;
      return out;
    }
    case MsgType.BufferMap: {
      const bitBytes = Math.ceil(msg.count / 8);
      const out = new Uint8Array(1 + 4 + 2 + 4 + bitBytes);
      const v = view(out);
      out[0] = msg.type;
      v.setUint32(1, msg.firstSeq);
      v.setUint16(5, msg.count);
      v.setUint32(7, msg.newestKeySeq);
      out.set(msg.bits.subarray(0, bitBytes), 11);
      return out;
    }
    case MsgType.ChunkData: {
      const out = new Uint8Array(chunkMessageBytes(msg.chunk));
      out[0] = msg.type;
      encodeLinkChunkInto(out, 1, msg.chunk);
      return out;
    }
    case MsgType.Auth: {
      if (msg.nodeKey.length !== NODE_KEY_BYTES || msg.proof.length !== LINK_PROOF_BYTES)
        throw new RangeError('auth with a key or proof of the wrong size');
      const out = new Uint8Array(AUTH_BYTES);
      out[0] = msg.type;
      out.set(msg.nodeKey, 1);
      out.set(msg.proof, 1 + NODE_KEY_BYTES);
      return out;
    }
  }
}

/**
 * Parses one message on a link of the channel `channelKey` (a chunk's key is the link's). `rx`
 * is the receiving direction of the link, updated like the sender's; without it, as on a link
 * that has just opened.
 */
export function decodeMessage(buf: Uint8Array, channelKey: Uint8Array, rx: SeqRef = { seq: 0 }): WireMessage {
  if (buf.length === 0) throw new RemoteProtocolError('empty frame');
  if (buf.length > MAX_FRAME_BYTES) throw new RemoteProtocolError(`frame of ${buf.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const first = buf[0] as number;
  const base = first & TYPE_MASK;
  const seqType =
    base === MsgType.Have || base === MsgType.Request || base === MsgType.Reject || base === MsgType.Busy || base === MsgType.Cancel;
  if (seqType) return decodeSeqMessage(buf, first, rx);
  if (first !== base) throw new RemoteProtocolError(`unknown message type ${first}`);
  const type = first;
  const v = view(buf);
  switch (type) {
    case MsgType.Hello: {
      expectLength(buf, 1 + 1 + CHANNEL_ID_BYTES + PEER_ID_BYTES + 1, 'hello');
      const roleByte = buf[2 + CHANNEL_ID_BYTES + PEER_ID_BYTES];
      if (roleByte !== 0 && roleByte !== 1 && roleByte !== 2) throw new RemoteProtocolError(`unknown peer role ${roleByte}`);
      return {
        type,
        version: buf[1] as number,
        channelKey: buf.slice(2, 2 + CHANNEL_ID_BYTES),
        peerId: buf.slice(2 + CHANNEL_ID_BYTES, 2 + CHANNEL_ID_BYTES + PEER_ID_BYTES),
        role: roleByte === 1 ? 'source' : 'viewer',
        relays: roleByte !== 2,
      };
    }
    case MsgType.BufferMap: {
      if (buf.length < 11) throw new RemoteProtocolError('buffer map too short');
      const count = v.getUint16(5);
      if (count > MAX_BUFFER_MAP_CHUNKS) throw new RemoteProtocolError(`buffer map of ${count} chunks exceeds ${MAX_BUFFER_MAP_CHUNKS}`);
      expectLength(buf, 11 + Math.ceil(count / 8), 'buffer map');
      return { type, firstSeq: v.getUint32(1), count, newestKeySeq: v.getUint32(7), bits: buf.slice(11) };
    }
    case MsgType.ChunkData:
      return { type, chunk: decodeLinkChunk(buf.subarray(1), channelKey) };
    case MsgType.Auth:
      expectLength(buf, AUTH_BYTES, 'auth');
      return { type, nodeKey: buf.slice(1, 1 + NODE_KEY_BYTES), proof: buf.slice(1 + NODE_KEY_BYTES) };
    default:
      throw new RemoteProtocolError(`unknown message type ${type}`);
  }
}

const SEQ_MESSAGE_NAMES: Record<number, string> = {
  [MsgType.Have]: 'have',
  [MsgType.Request]: 'request',
  [MsgType.Reject]: 'reject',
  [MsgType.Busy]: 'busy',
  [MsgType.Cancel]: 'cancel',
};

function decodeSeqMessage(buf: Uint8Array, first: number, rx: SeqRef): SeqMessage {
  const type = (first & TYPE_MASK) as SeqMessage['type'];
  const form = first & FORM_MASK;
  const flagged = (first & HAS_FLAGS) !== 0;
  const name = SEQ_MESSAGE_NAMES[type] as string;
  if (form === 0x40 || (flagged && type !== MsgType.Request && (form === FULL || type !== MsgType.Have)))
    throw new RemoteProtocolError(`unknown message type ${first}`);
  const n = form === STEP_1 ? 1 : form === STEP_2 ? 2 : 4;
  const extra = type === MsgType.Busy || (type === MsgType.Have && (flagged || n === 4)) ? 1 : 0;
  expectLength(buf, 1 + n + extra, name);
  const v = view(buf);
  const step = n === 1 ? v.getInt8(1) : n === 2 ? v.getInt16(1) : 0;
  // One encoding per message: a step is as short as it can be.
  if (n === 2 && step >= -0x80 && step <= 0x7f) throw new RemoteProtocolError(`${name} step of ${step} not in its shortest form`);
  const seq = n === 4 ? v.getUint32(1) : rx.seq + step;
  if (seq < 0 || seq > 0xffffffff) throw new RemoteProtocolError(`${name} steps to sequence number ${seq}, out of range`);
  rx.seq = seq;
  switch (type) {
    case MsgType.Have: {
      const flags = extra === 1 ? (buf[1 + n] as number) : 0;
      // A HAVE sent as a step without flags has no flags byte.
      if (flagged && flags === 0) throw new RemoteProtocolError('have carries a flags byte of 0');
      return { type, seq, flags };
    }
    case MsgType.Busy:
      return { type, seq, retryMs: (buf[1 + n] as number) * BUSY_RETRY_UNIT_MS };
    case MsgType.Request:
      return flagged ? { type, seq, urgent: true } : { type, seq };
    default:
      return { type, seq };
  }
}

/** Builds a buffer-map message from the set of held sequence numbers within [firstSeq, firstSeq + count). */
export function makeBufferMap(firstSeq: number, count: number, has: (seq: number) => boolean, newestKeySeq: number): BufferMapMsg {
  const bits = new Uint8Array(Math.ceil(count / 8));
  for (let i = 0; i < count; i++) if (has(firstSeq + i)) bits[i >> 3] = (bits[i >> 3] as number) | (0x80 >> (i & 7));
  return { type: MsgType.BufferMap, firstSeq, count, bits, newestKeySeq };
}

export function bufferMapSeqs(msg: BufferMapMsg): number[] {
  const out: number[] = [];
  for (let i = 0; i < msg.count; i++) if (((msg.bits[i >> 3] as number) & (0x80 >> (i & 7))) !== 0) out.push(msg.firstSeq + i);
  return out;
}

function expectLength(buf: Uint8Array, n: number, what: string): void {
  if (buf.length !== n) throw new RemoteProtocolError(`${what} message has ${buf.length} bytes, expected ${n}`);
}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}
