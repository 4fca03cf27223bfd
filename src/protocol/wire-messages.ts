// The peer protocol's messages as values: the protocol version, the message kinds and their
// fields, and the few constants and conversions that define what a field means on the wire.
// Data only; ./codec.ts turns them into bytes and back.

import type { Chunk } from './chunk.js';

/**
 * 2: chunks travel without their channel key (it is the link's, from the hello).
 * 3: Busy says when to ask again; Cancel takes a request back.
 * 4: HAVE, request, Reject, Busy and Cancel carry their sequence number as a 1- or 2-byte step
 *    from the previous one on the link; a HAVE without flags drops its flags byte; Busy's hint
 *    is a byte (BUSY_RETRY_UNIT_MS each).
 * 5: a request may say it is urgent (due soon at the asker's player); a holder takes it ahead
 *    of the rest and a little past its usual queue length.
 * 6: links are authenticated. A peer id is the first PEER_ID_BYTES of the peer's Ed25519 node
 *    key; TCP links run a Noise XX handshake under that key before any message, and on a
 *    WebRTC link an Auth message follows the hello, signing both ends' DTLS fingerprints.
 *    The hello keeps its layout, so a peer of protocol 5 reads our version and refuses
 *    cleanly, as we refuse it.
 * 7: the source sends a HAVE only for a keyframe, and to neighbours that are not relaying
 *    viewers: a viewer takes the source to hold every chunk up to the newest one it verified
 *    (the source made them all), and hears of the newest ones from the viewer it pushed them to.
 *    The top four bits of a HAVE's flags say when the sender's upload queue takes a request.
 */
export const PROTOCOL_VERSION = 7;
export const PEER_ID_BYTES = 16;
/** Bytes of a node key (an Ed25519 public key) and of a signature made with it. */
export const NODE_KEY_BYTES = 32;
export const LINK_PROOF_BYTES = 64;
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
  /**
   * Right after the hello on a link whose transport does not authenticate its ends (WebRTC):
   * the sender's node key and its signature over both ends' DTLS fingerprints. Never reaches
   * the core: the runtime checks it (src/runtime/link-auth.ts).
   */
  Auth = 9,
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
  /** The chunk's flags, and the sender's room (haveRoomFlags). */
  flags: number;
}

/**
 * The top four bits of a HAVE's flags byte are no chunk flag (protocol 7): how long until the
 * sender's upload queue takes a request, in units of HAVE_ROOM_UNIT_MS (0: it takes one now).
 * A request sooner would be answered Busy; the receiver asks others meanwhile, without the
 * round trip. Busy answers were most of a swarm's messages.
 */
const HAVE_ROOM_SHIFT = 4;
export const HAVE_ROOM_UNIT_MS = 32;

/** The flag bits that say a queue has room in `roomMs` (rounded up, at most 15 units). */
export function haveRoomFlags(roomMs: number): number {
  return Math.min(15, Math.max(0, Math.ceil(roomMs / HAVE_ROOM_UNIT_MS))) << HAVE_ROOM_SHIFT;
}

/** When a HAVE's sender takes a request, ms from when it sent the HAVE. */
export function haveRoomMs(flags: number): number {
  return (flags >> HAVE_ROOM_SHIFT) * HAVE_ROOM_UNIT_MS;
}
export interface RequestMsg {
  type: MsgType.Request;
  seq: number;
  /** Due soon at the asker's player (absent: not urgent). */
  urgent?: boolean;
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
export interface AuthMsg {
  type: MsgType.Auth;
  /** The sender's Ed25519 node key: its peer id is the first PEER_ID_BYTES of it. */
  nodeKey: Uint8Array;
  /** The node key's signature over the link's binding (see linkProofMessage). */
  proof: Uint8Array;
}
export type WireMessage = HelloMsg | BufferMapMsg | HaveMsg | RequestMsg | ChunkMsg | RejectMsg | BusyMsg | CancelMsg | AuthMsg;
/** The messages that name one chunk by its sequence number (and nothing bigger). */
export type SeqMessage = HaveMsg | RequestMsg | RejectMsg | BusyMsg | CancelMsg;
