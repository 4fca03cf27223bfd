// WebRtcConnection passes the transport compliance suite (./compliance.ts) on node-datachannel
// peer connections over loopback, each link set up by two WebRtcSignaling sessions through an
// in-process tracker, as in a swarm: the bindings and paths are the ones signalling gives.

import { randomBytes } from 'node:crypto';
import { cleanup } from 'node-datachannel';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { WebSocket } from 'ws';
import { bytesToHex } from '../../src/common/hex.js';
import { startTracker, type TrackerServer } from '../../src/tracker/server.js';
import type { Connection } from '../../src/transport/transport.js';
import { type PeerConnectionLike, signalingUrlOf, WebRtcSignaling, type WebSocketLike } from '../../src/transport/webrtc-signaling.js';
import { transportCompliance } from './compliance.js';

let tracker: TrackerServer | undefined;
const quiet = { debug: () => {}, warn: () => {} };

/** One signalling session in a swarm of its own: the dialer offers, the acceptor answers. */
function session(channelKey: Uint8Array, role: 'dialer' | 'acceptor', onConnection: (c: Connection) => void): WebRtcSignaling {
  return new WebRtcSignaling({
    trackerUrls: [signalingUrlOf((tracker as TrackerServer).url)],
    channelKey,
    peerId: bytesToHex(randomBytes(16)),
    createPeerConnection: (config) =>
      new RTCPeerConnection(config as ConstructorParameters<typeof RTCPeerConnection>[0]) as unknown as PeerConnectionLike,
    createWebSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    wantPeers: () => (role === 'dialer' ? 1 : 0),
    accept: () => role === 'acceptor',
    onConnection,
    log: quiet,
    // One offer, in the first announce: answered offers still connecting when the session stops
    // keep their 30 s timers (WebRtcSignaling.stop() closes them but leaves the timers).
    offersPerAnnounce: 1,
  });
}

// No path is expected: loopback candidates show as host or peer-reflexive, as the checks fall.
transportCompliance('WebRTC', {
  async open() {
    tracker ??= await startTracker({ host: '127.0.0.1', port: 0 });
    const channelKey = randomBytes(32);
    const ends: { dialer?: Connection; acceptor?: Connection } = {};
    const sessions: WebRtcSignaling[] = [];
    const both = new Promise<void>((resolve) => {
      const got = (role: 'dialer' | 'acceptor') => (c: Connection) => {
        ends[role] ??= c;
        if (ends.dialer && ends.acceptor) resolve();
      };
      sessions.push(session(channelKey, 'acceptor', got('acceptor')), session(channelKey, 'dialer', got('dialer')));
    });
    for (const s of sessions) s.start();
    await both;
    for (const s of sessions) s.stop();
    return {
      dialer: ends.dialer as Connection,
      acceptor: ends.acceptor as Connection,
      dialerSees: { address: 'webrtc' },
      acceptorSees: { address: 'webrtc' },
    };
  },
  losesFramesAtClose:
    'WebRtcConnection.close() closes the data channel at once: what SCTP still holds is dropped (TcpConnection flushes, then ends)',
  async done() {
    await tracker?.stop();
    // node-datachannel's threads would keep the process alive.
    cleanup();
  },
});
