// Exact wire size of a peer message without encoding it: the codec's body length plus the
// length prefix of the transport framing (src/transport/framing.ts). The simulator passes
// messages as objects and uses this for its byte accounting (checked against encodeMessage in tests).

import { CHANNEL_ID_BYTES } from '../protocol/chunk.js';
import { MsgType, PEER_ID_BYTES, type WireMessage } from '../protocol/codec.js';
import { chunkWireBytes } from '../protocol/peer-core.js';
import { frameHeaderBytes } from '../transport/framing.js';

export function messageBodyBytes(msg: WireMessage): number {
  switch (msg.type) {
    case MsgType.Hello:
      return 1 + 1 + CHANNEL_ID_BYTES + PEER_ID_BYTES + 1;
    case MsgType.BufferMap:
      return 11 + Math.ceil(msg.count / 8);
    case MsgType.Have:
      return 6;
    case MsgType.Request:
    case MsgType.Reject:
    case MsgType.Cancel:
      return 5;
    case MsgType.Busy:
      return 7;
    case MsgType.ChunkData:
      return chunkWireBytes(msg.chunk);
  }
}

export function messageWireBytes(msg: WireMessage): number {
  const body = messageBodyBytes(msg);
  return body + frameHeaderBytes(body);
}
