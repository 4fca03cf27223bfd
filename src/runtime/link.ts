// A link as the driver keeps it: its connection, what it proved, its counts, and what a frame
// costs on it.

import type { SeqRef } from '../protocol/codec.js';
import type { PeerId } from '../protocol/core-types.js';
import { frameHeaderBytes } from '../transport/framing.js';
import type { LinkPath } from '../transport/ice.js';
import type { Connection } from '../transport/transport.js';
import type { LinkAuth } from './link-auth.js';

/**
 * A link to the broadcaster that has brought nothing for this long, while nothing new came from
 * anyone, may be dead: a broadcaster killed outright and restarted keeps its key, so its id,
 * and WebRTC notices the old link's death only after ICE's timeouts. Its new run's offer is then
 * answered and the new link replaces the old. Only then: a viewer's link silent behind a
 * throttled line is slow, not dead, and replacing it cost a throttled browser its stream.
 */
export const STALE_LINK_MS = 5000;
/** Bytes queued to one peer beyond which it is dropped: it does not read what it asked for. */
export const MAX_SEND_BUFFER_BYTES = 8 * 1024 * 1024;

export type LinkKind = 'tcp' | 'webrtc';

export interface Link {
  readonly id: PeerId;
  readonly conn: Connection;
  readonly kind: LinkKind;
  readonly outbound: boolean;
  readonly dialedPeerId?: string;
  /** The remote's id, once its link proved it (never merely claimed). */
  remotePeerId?: string;
  readonly auth: LinkAuth;
  /** The address group it counts in (see Admission); undefined: none. */
  readonly group: string | undefined;
  wireBytesIn: number;
  wireBytesOut: number;
  /** When its last frame arrived (when it opened, before any). */
  lastFrameAtMs: number;
  /** The role its hello gave. */
  remoteRole?: 'source' | 'viewer';
  /** Each direction's last sequence number: the codec sends the next as a step from it. */
  readonly txSeq: SeqRef;
  readonly rxSeq: SeqRef;
}

export interface LinkStats {
  peerId: string | undefined;
  address: string;
  kind: LinkKind;
  /** direct, reflexive (through a NAT mapping) or relayed (TURN); absent until ICE says. */
  path?: LinkPath;
  outbound: boolean;
  wireBytesIn: number;
  wireBytesOut: number;
}

export /** Bytes a frame takes on its link: TCP adds a length prefix, a data channel keeps message boundaries itself. */
function framedBytes(link: Link, length: number): number {
  return length + (link.kind === 'tcp' ? frameHeaderBytes(length) : 0);
}
