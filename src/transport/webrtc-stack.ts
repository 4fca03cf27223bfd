// The shapes of the WebRTC stack and WebSocket the signalling uses (RTCPeerConnection and
// WebSocket in browsers, their node bindings in node), and what it reads of SDPs.

import type { StatsLike } from './ice.js';
import type { DataChannelLike } from './webrtc.js';

const GATHER_WAIT_MS = 1500;

/** The first DTLS fingerprint of an SDP, normalised (`sha-256 ab:cd:...`); undefined if it has none. */
export function sdpFingerprint(sdp: string | undefined): string | undefined {
  const m = /^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/m.exec(sdp ?? '');
  return m === null ? undefined : `${(m[1] as string).toLowerCase()} ${(m[2] as string).toLowerCase()}`;
}

export interface SessionDescriptionLike {
  type: string;
  sdp?: string;
}

export interface PeerConnectionLike {
  readonly localDescription: SessionDescriptionLike | null;
  readonly remoteDescription: SessionDescriptionLike | null;
  readonly iceGatheringState: string;
  createDataChannel(label: string, init?: { ordered?: boolean; negotiated?: boolean; id?: number }): DataChannelLike;
  createOffer(): Promise<SessionDescriptionLike>;
  createAnswer(): Promise<SessionDescriptionLike>;
  setLocalDescription(d: SessionDescriptionLike): Promise<void>;
  setRemoteDescription(d: SessionDescriptionLike): Promise<void>;
  addEventListener(type: string, listener: () => void): void;
  close(): void;
  getStats(): Promise<StatsLike>;
  readonly connectionState?: string;
}

export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(): void;
}

/** Resolves once ICE gathering completes, or after a short wait (some stacks never say so). */
export function gathered(pc: PeerConnectionLike): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GATHER_WAIT_MS);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
