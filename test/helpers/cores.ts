// Driving one PeerCore by hand in unit tests: chunks signed with a test key, a neighbour that
// connects and says hello, and what the core sent since the last look.

import type { ChannelKey } from '../../src/crypto/keys.js';
import { type Chunk, FLAG_KEYFRAME, signChunk } from '../../src/protocol/chunk.js';
import { MsgType, type PeerRole, PROTOCOL_VERSION, type WireMessage } from '../../src/protocol/codec.js';
import type { PeerCore } from '../../src/protocol/peer-core.js';

/** A signed chunk whose payload is `payloadBytes` of its number, a keyframe every `keyframeEvery`. */
export function testChunk(key: ChannelKey, seq: number, captureTimeMs: number, payloadBytes: number, keyframeEvery: number): Chunk {
  return signChunk(
    {
      channelKey: key.publicKey,
      seq,
      captureTimeMs,
      flags: seq % keyframeEvery === 0 ? FLAG_KEYFRAME : 0,
      payload: new Uint8Array(payloadBytes).fill(seq & 0xff),
    },
    key.sign,
  );
}

/**
 * `peer` connects to the core and says hello as `role` (its peer id is its first letter,
 * repeated); `relays: false` for a viewer that does not relay.
 */
export function connectPeer(core: PeerCore, nowMs: number, peer: string, role: PeerRole, key: ChannelKey, relays = true): void {
  core.handleConnected(nowMs, peer);
  core.handleMessage(nowMs, peer, {
    type: MsgType.Hello,
    version: PROTOCOL_VERSION,
    channelKey: key.publicKey,
    peerId: new Uint8Array(16).fill(peer.charCodeAt(0)),
    role,
    ...(relays ? {} : { relays }),
  });
}

/** Everything the core queued for sending since the last call. */
export function drainTransmits(core: PeerCore): { to: string; msg: WireMessage }[] {
  const out: { to: string; msg: WireMessage }[] = [];
  for (let t = core.pollTransmit(); t !== undefined; t = core.pollTransmit()) out.push(t);
  return out;
}
