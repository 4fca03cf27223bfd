// An opened WebRTC link is handed on only with both DTLS fingerprints, which the hello's Auth
// binds the peer's key to (src/runtime/link-auth.ts). A stack that shows the description it
// applied a moment after the channel opened still gets its link; one whose descriptions never
// name a fingerprint has its link closed in signalling and counted, not handed to the driver.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DataChannelLike } from '../../src/transport/webrtc.js';
import {
  infoHashOf,
  type PeerConnectionLike,
  type SessionDescriptionLike,
  WebRtcSignaling,
  type WebSocketLike,
} from '../../src/transport/webrtc-signaling.js';
import { waitUntil } from '../helpers/processes.js';

const sdpWith = (fingerprint: string | undefined) =>
  `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n${fingerprint === undefined ? '' : `a=fingerprint:sha-256 ${fingerprint}\r\n`}m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n`;

/** A peer connection that answers at once and opens its data channel when told. */
class FakePeerConnection implements PeerConnectionLike {
  localDescription: SessionDescriptionLike | null = null;
  remoteDescription: SessionDescriptionLike | null = null;
  readonly iceGatheringState = 'complete';
  closed = false;
  /** The link's channel, made by the signalling; opened when the test says. */
  channel: FakeChannel | undefined;
  /** What remoteDescription shows once set (the test may hold it back). */
  constructor(readonly showRemote: (d: SessionDescriptionLike) => void) {}
  createDataChannel(_label: string, init?: { negotiated?: boolean; id?: number }): DataChannelLike {
    assert.deepEqual(init, { negotiated: true, id: 0 }, 'both ends make the same channel themselves');
    this.channel = new FakeChannel();
    return this.channel;
  }
  async createOffer(): Promise<SessionDescriptionLike> {
    return { type: 'offer', sdp: sdpWith('aa:bb') };
  }
  async createAnswer(): Promise<SessionDescriptionLike> {
    return { type: 'answer', sdp: sdpWith('cc:dd') };
  }
  async setLocalDescription(d: SessionDescriptionLike): Promise<void> {
    this.localDescription = d;
  }
  async setRemoteDescription(d: SessionDescriptionLike): Promise<void> {
    this.showRemote(d);
  }
  addEventListener(): void {}
  close(): void {
    this.closed = true;
  }
  async getStats() {
    return new Map();
  }
}

class FakeChannel implements DataChannelLike {
  binaryType = 'arraybuffer';
  readyState = 'connecting';
  readonly bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  private readonly onOpen: ((ev: { data?: unknown }) => void)[] = [];
  send(): void {}
  close(): void {}
  addEventListener(type: string, listener: (ev: { data?: unknown }) => void): void {
    if (type === 'open') this.onOpen.push(listener);
  }
  open(): void {
    this.readyState = 'open';
    for (const l of this.onOpen) l({});
  }
}

/** One signalling session over a fake socket, receiving one offer whose remote description shows as `show` says. */
async function offerArrives(show: (pc: FakePeerConnection, d: SessionDescriptionLike) => void, offerFingerprint: string | undefined) {
  const channelKey = new Uint8Array(32).fill(7);
  const pcs: FakePeerConnection[] = [];
  const connections: { binding: unknown }[] = [];
  const socket: WebSocketLike = {
    readyState: 1,
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
    send: () => {},
    close: () => {},
  };
  const signaling = new WebRtcSignaling({
    trackerUrls: ['ws://tracker.invalid/announce'],
    channelKey,
    peerId: 'ab'.repeat(16),
    createPeerConnection: () => {
      const pc: FakePeerConnection = new FakePeerConnection((d) => show(pc, d));
      pcs.push(pc);
      return pc;
    },
    createWebSocket: () => socket,
    wantPeers: () => 0,
    accept: () => true,
    onConnection: (conn) => connections.push(conn),
    log: { debug: () => {}, warn: () => {} },
  });
  signaling.start();
  socket.onmessage?.({
    data: JSON.stringify({
      info_hash: infoHashOf(channelKey),
      peer_id: 'cd'.repeat(10),
      offer_id: 'o1',
      offer: { type: 'offer', sdp: sdpWith(offerFingerprint) },
    }),
  });
  await waitUntil('the offer is answered', () => pcs[0]?.localDescription !== null && pcs.length === 1, 2000);
  const pc = pcs[0] as FakePeerConnection;
  pc.channel?.open();
  return { signaling, pc, connections };
}

test('a link whose remote description shows a moment after its channel opened is bound to both fingerprints', async () => {
  let held: SessionDescriptionLike | undefined;
  const { signaling, pc, connections } = await offerArrives((_, d) => {
    held = d;
  }, 'aa:bb');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(connections.length, 0, 'not handed on before it can be bound');
  pc.remoteDescription = held ?? null;
  await waitUntil('the link is handed on', () => connections.length === 1, 2000);
  assert.deepEqual(connections[0]?.binding, { kind: 'fingerprints', local: 'sha-256 cc:dd', remote: 'sha-256 aa:bb' });
  assert.equal(pc.closed, false);
  assert.equal(signaling.stats.unbound, 0);
  signaling.stop();
});

test('a link whose descriptions never show a fingerprint is closed in signalling and counted', async () => {
  const { signaling, pc, connections } = await offerArrives((pc, d) => {
    pc.remoteDescription = d;
  }, undefined);
  await waitUntil('the link is given up', () => pc.closed, 3000);
  assert.equal(connections.length, 0, 'never handed to the driver');
  assert.equal(signaling.stats.unbound, 1);
  signaling.stop();
});
