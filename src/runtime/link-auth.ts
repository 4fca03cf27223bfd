// Who is at the other end of a link, proven before the core hears of it. A peer id is the
// first PEER_ID_BYTES of the peer's Ed25519 node key (as libp2p names an Ed25519 peer by its
// key), so a hello's id is a claim that only the holder of that key can back:
// - on TCP the transport's Noise XX handshake has proven the remote key: the hello's id must
//   be that key's;
// - on WebRTC the data channel runs inside DTLS, whose certificates both ends' SDP
//   fingerprints name: the hello is followed by an Auth message holding the node key and its
//   signature over both fingerprints (and the channel), which no one without the key can make
//   and which is worthless on any other link.
// Pure functions and a small per-link state machine; no I/O.

import { bytesToHex } from '../common/hex.js';
import type { NodeIdentity, VerifyFn } from '../crypto/signatures.js';
import {
  type AuthMsg,
  type HelloMsg,
  LINK_PROOF_BYTES,
  MsgType,
  NODE_KEY_BYTES,
  PEER_ID_BYTES,
  PROTOCOL_VERSION,
} from '../protocol/codec.js';
import type { LinkBinding } from '../transport/transport.js';

/** The peer id of a node key. */
export function peerIdOf(nodeKey: Uint8Array): Uint8Array {
  return nodeKey.slice(0, PEER_ID_BYTES);
}

export function peerIdHexOf(nodeKey: Uint8Array): string {
  return bytesToHex(peerIdOf(nodeKey));
}

const PROOF_CONTEXT = 'meshtv link proof v1';

/**
 * What a node signs to bind its key to one WebRTC link of one channel: a context string, the
 * channel key, the signer's DTLS fingerprint, then the other end's.
 */
export function linkProofMessage(channelKey: Uint8Array, signerFingerprint: string, otherFingerprint: string): Uint8Array {
  return new TextEncoder().encode(`${PROOF_CONTEXT}\n${bytesToHex(channelKey)}\n${signerFingerprint}\n${otherFingerprint}`);
}

/** The Auth message that follows our hello on a link bound to DTLS fingerprints. */
export function makeAuth(identity: NodeIdentity, channelKey: Uint8Array, binding: LinkBinding & { kind: 'fingerprints' }): AuthMsg {
  return {
    type: MsgType.Auth,
    nodeKey: identity.publicKey,
    proof: identity.sign(linkProofMessage(channelKey, binding.local, binding.remote)),
  };
}

/** The outcome of a hello (and, on WebRTC, its Auth) on one link. */
export type AuthResult =
  /** Proven: hand the hello to the core; `peerId` is the remote's id (hex). */
  | { kind: 'ok'; hello: HelloMsg; peerId: string }
  /** Wait for the Auth that must follow. */
  | { kind: 'wait' }
  /**
   * Refused. `provenPeerId`: the id the link did prove (a TCP peer that claimed another's id
   * proved its own key), the only one a ban may name; never the id it claimed.
   */
  | { kind: 'refused'; reason: string; provenPeerId?: string; oldVersion?: boolean };

/**
 * The authentication of one link: fed the remote's hello and Auth in the order they came, it
 * says when the hello may reach the core. Anything else before that is the core's business
 * (it refuses messages before a hello).
 */
export class LinkAuth {
  private hello: HelloMsg | undefined;
  private done = false;

  constructor(
    private readonly binding: LinkBinding,
    private readonly channelKey: Uint8Array,
    private readonly verify: VerifyFn,
  ) {}

  /** Whether the remote has proven its id. */
  get proven(): boolean {
    return this.done;
  }

  onHello(hello: HelloMsg): AuthResult {
    if (this.done || this.hello !== undefined) return { kind: 'refused', reason: 'sent a second hello' };
    if (hello.version !== PROTOCOL_VERSION)
      return {
        kind: 'refused',
        reason: `speaks protocol ${hello.version}, this node ${PROTOCOL_VERSION}: one of the two must upgrade meshtv`,
        oldVersion: true,
      };
    if (this.binding.kind === 'fingerprints') {
      this.hello = hello;
      return { kind: 'wait' };
    }
    const proven = peerIdHexOf(this.binding.remoteKey);
    const claimed = bytesToHex(hello.peerId);
    if (claimed !== proven)
      return {
        kind: 'refused',
        reason: `claims peer id ${claimed.slice(0, 8)} but its link key is ${proven.slice(0, 8)}'s`,
        provenPeerId: proven,
      };
    this.done = true;
    return { kind: 'ok', hello, peerId: proven };
  }

  onAuth(auth: AuthMsg): AuthResult {
    const hello = this.hello;
    if (this.done || hello === undefined || this.binding.kind !== 'fingerprints')
      return { kind: 'refused', reason: this.done ? 'sent a second auth' : 'sent an auth out of turn' };
    if (auth.nodeKey.length !== NODE_KEY_BYTES || auth.proof.length !== LINK_PROOF_BYTES)
      return { kind: 'refused', reason: 'sent a malformed auth' };
    const claimed = bytesToHex(hello.peerId);
    if (peerIdHexOf(auth.nodeKey) !== claimed)
      return { kind: 'refused', reason: `claims peer id ${claimed.slice(0, 8)} with another node's key` };
    // The remote signed its own fingerprint first: ours is the other.
    if (!this.verify(auth.nodeKey, linkProofMessage(this.channelKey, this.binding.remote, this.binding.local), auth.proof))
      return { kind: 'refused', reason: `claims peer id ${claimed.slice(0, 8)} without a valid proof for this link` };
    this.done = true;
    this.hello = undefined;
    return { kind: 'ok', hello, peerId: claimed };
  }
}
