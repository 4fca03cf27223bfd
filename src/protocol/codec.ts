// Binary wire codec for the peer protocol: pure encode/decode, no reading from sockets
// (framing lives in ../transport). Every length is checked before anything is allocated,
// and every failure on input is a RemoteProtocolError: the peer that sent it is at fault.

import { CHANNEL_ID_BYTES, type Chunk, decodeLinkChunk, encodeLinkChunkInto, linkChunkBytes } from './chunk.js';
import { RemoteProtocolError } from './errors.js';

/**
 * 2: chunks travel without their channel key (it is the link's, from the hello).
 * 3: Busy says when to ask again; Cancel takes a request back.
 */
export const PROTOCOL_VERSION = 3;
export const PEER_ID_BYTES = 16;
/** Largest frame body accepted from a peer: one maximal chunk plus its header, with room to spare. */
export const MAX_FRAME_BYTES = 1024 * 1024 + 4096;
/** Largest buffer map a peer may send (chunks); bounds the bitfield we parse. */
export const MAX_BUFFER_MAP_CHUNKS = 4096;
/** Sentinel for "no keyframe chunk in my window". */
export const NO_SEQ = 0xffffffff;

export enum MsgType {
  Hello = 1,
  BufferMap = 2,
  Have = 3,
  Request = 4,
  ChunkData = 5,
  Reject = 6,
  /** "I have it but will not send it now" (upload cap or upload off): no strike, ask elsewhere. */
  Busy = 7,
  /** "Do not send the chunk I asked for": it came from elsewhere first. */
  Cancel = 8,
}

export type PeerRole = 'source' | 'viewer';

export interface HelloMsg {
  type: MsgType.Hello;
  version: number;
  channelKey: Uint8Array;
  peerId: Uint8Array;
  role: PeerRole;
  /** False for a viewer that does not relay (upload off): the source pushes nothing to it. @default true */
  relays?: boolean;
}
/** Which chunks of the window the sender holds: bit i of `bits` is seq firstSeq + i. */
export interface BufferMapMsg {
  type: MsgType.BufferMap;
  firstSeq: number;
  count: number;
  bits: Uint8Array;
  /** Newest held chunk that starts a keyframe (NO_SEQ if none): where a joining viewer starts. */
  newestKeySeq: number;
}
export interface HaveMsg {
  type: MsgType.Have;
  seq: number;
  flags: number;
}
export interface RequestMsg {
  type: MsgType.Request;
  seq: number;
}
export interface ChunkMsg {
  type: MsgType.ChunkData;
  chunk: Chunk;
}
export interface RejectMsg {
  type: MsgType.Reject;
  seq: number;
}
export interface BusyMsg {
  type: MsgType.Busy;
  seq: number;
  /** When the sender expects room for a request, ms from now (0..65535). */
  retryMs: number;
}
export interface CancelMsg {
  type: MsgType.Cancel;
  seq: number;
}
export type WireMessage = HelloMsg | BufferMapMsg | HaveMsg | RequestMsg | ChunkMsg | RejectMsg | BusyMsg | CancelMsg;

export function encodeMessage(msg: WireMessage): Uint8Array {
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
    case MsgType.Have: {
      const out = new Uint8Array(6);
      out[0] = msg.type;
      view(out).setUint32(1, msg.seq);
      out[5] = msg.flags;
      return out;
    }
    case MsgType.Request:
    case MsgType.Reject:
    case MsgType.Cancel: {
      const out = new Uint8Array(5);
      out[0] = msg.type;
      view(out).setUint32(1, msg.seq);
      return out;
    }
    case MsgType.Busy: {
      const out = new Uint8Array(7);
      out[0] = msg.type;
      view(out).setUint32(1, msg.seq);
      view(out).setUint16(5, Math.min(0xffff, Math.max(0, Math.round(msg.retryMs))));
      return out;
    }
    case MsgType.ChunkData: {
      const out = new Uint8Array(1 + linkChunkBytes(msg.chunk));
      out[0] = msg.type;
      encodeLinkChunkInto(out, 1, msg.chunk);
      return out;
    }
  }
}

/** Parses one message on a link of the channel `channelKey` (a chunk's key is the link's). */
export function decodeMessage(buf: Uint8Array, channelKey: Uint8Array): WireMessage {
  if (buf.length === 0) throw new RemoteProtocolError('empty frame');
  if (buf.length > MAX_FRAME_BYTES) throw new RemoteProtocolError(`frame of ${buf.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const type = buf[0];
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
    case MsgType.Have:
      expectLength(buf, 6, 'have');
      return { type, seq: v.getUint32(1), flags: buf[5] as number };
    case MsgType.Request:
    case MsgType.Reject:
    case MsgType.Cancel:
      expectLength(buf, 5, type === MsgType.Request ? 'request' : type === MsgType.Reject ? 'reject' : 'cancel');
      return { type, seq: v.getUint32(1) };
    case MsgType.Busy:
      expectLength(buf, 7, 'busy');
      return { type, seq: v.getUint32(1), retryMs: v.getUint16(5) };
    case MsgType.ChunkData:
      return { type, chunk: decodeLinkChunk(buf.subarray(1), channelKey) };
    default:
      throw new RemoteProtocolError(`unknown message type ${type}`);
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
