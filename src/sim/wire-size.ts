// Exact wire size of a peer message without encoding it: the codec's body length plus the
// length prefix of the transport framing (src/transport/framing.ts). The simulator passes
// messages as objects and uses this for its byte accounting (checked against encodeMessage in tests).

import { CHANNEL_ID_BYTES } from '../protocol/chunk.js';
import { MsgType, PEER_ID_BYTES, type SeqRef, seqMessageBytes, type WireMessage } from '../protocol/codec.js';
import { chunkWireBytes } from '../protocol/peer-core.js';
import { frameHeaderBytes } from '../transport/framing.js';

/**
 * Body bytes of `msg` sent on a link direction whose last sequence number was `tx`, which it
 * updates as the codec does (undefined: every number in full).
 */
export function messageBodyBytes(msg: WireMessage, tx?: SeqRef): number {
  switch (msg.type) {
    case MsgType.Hello:
      return 1 + 1 + CHANNEL_ID_BYTES + PEER_ID_BYTES + 1;
    case MsgType.BufferMap:
      return 11 + Math.ceil(msg.count / 8);
    case MsgType.ChunkData:
      return chunkWireBytes(msg.chunk);
    default: {
      const bytes = seqMessageBytes(msg, tx);
      if (tx !== undefined) tx.seq = msg.seq;
      return bytes;
    }
  }
}

export function messageWireBytes(msg: WireMessage, tx?: SeqRef): number {
  const body = messageBodyBytes(msg, tx);
  return body + frameHeaderBytes(body);
}
