// Exact wire size of a peer message without encoding it: the codec's body length plus the
// length prefix of the transport framing (src/transport/framing.ts). The simulator passes
// messages as objects and uses this for its byte accounting (checked against encodeMessage in tests).

import { isSeqMessage, messageBodyBytes, type SeqRef, type WireMessage } from '../protocol/codec.js';
import { tcpWireBytes } from '../transport/framing.js';

/**
 * Wire bytes of `msg` sent on a link direction whose last sequence number was `tx`, which it
 * updates as the codec does (undefined: every number in full).
 */
export function messageWireBytes(msg: WireMessage, tx?: SeqRef): number {
  const body = messageBodyBytes(msg, tx);
  if (tx !== undefined && isSeqMessage(msg)) tx.seq = msg.seq;
  return tcpWireBytes(body);
}
