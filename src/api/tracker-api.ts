// The tracker's HTTP contract (docs/tracker-api.md is its prose): the bodies of
// POST /api/announce and GET /api/channels, and the checks a client runs on a tracker's answers,
// which it must not trust blindly. The tracker, the native client and the browser page import it
// from here, so that the three cannot drift apart.

import type { SourceProof } from '../protocol/source-proof.js';

export interface AnnounceRequest {
  channelId: string;
  peerId: string;
  port: number;
  role: 'source' | 'viewer';
  /**
   * Address other peers should dial; by default the address the tracker sees. Another one is
   * listed only once the tracker has connected back and the handshake proved the peer's key
   * there; a private, loopback or host-name address only on a tracker run with --private-network.
   */
  address?: string;
  /** Required with role "source": a signature by the channel key (src/protocol/source-proof.ts). */
  sourceProof?: SourceProof;
  event?: 'stopped';
  /**
   * Most peers wanted in the answer (0 to maxPeersPerAnswer; more is taken as the most). A peer
   * with all the neighbours it dials for asks for none: a full list of 30 every 5 s was a third
   * of a viewer's control bytes. @default maxPeersPerAnswer
   */
  numWant?: number;
}

export interface PeerEntry {
  peerId: string;
  address: string;
  port: number;
  role: 'source' | 'viewer';
}

export interface AnnounceAnswer {
  intervalMs: number;
  /** The requester's address as the tracker sees it. */
  yourAddress: string;
  peers: PeerEntry[];
}

/** Ids named in sameNameAs at most. */
export const MAX_SAME_NAME_IDS = 3;

export interface ChannelSummary {
  id: string;
  name: string;
  bitrateBps: number;
  viewers: number;
  /**
   * Other live channels whose names look the same (same confusable skeleton, different keys):
   * shown, never merged. At most MAX_SAME_NAME_IDS of them; sameNameCount says how many.
   */
  sameNameAs: string[];
  sameNameCount: number;
  /** The quality ladder, lowest first, when the channel has one (viewers counts all of them). */
  renditions?: { name: string; height: number; bitrateBps: number }[];
  /** From the channel's signed guide (GET /api/channels/ID/guide), when it has one. */
  category?: string;
  /** A BCP 47 language tag. */
  language?: string;
  description?: string;
  /** The programme on now and the one after it (times in ms since the epoch). */
  now?: ProgrammeSummary;
  next?: ProgrammeSummary;
  /** Whether GET /api/channels/ID/logo has an image. */
  hasLogo?: boolean;
}

export interface ProgrammeSummary {
  title: string;
  start: number;
  stop: number;
}

/**
 * The error GET /api/channels/ID answers (404) for a channel that is not live: the tracker never
 * had its record, or has it but the source stopped announcing. The watch page tells them apart.
 */
export const CHANNEL_UNKNOWN_ERROR = 'no such channel';
export const CHANNEL_ENDED_ERROR = 'this channel is not live: its broadcast has ended';

/** A tracker's announce answer, checked: malformed peers are dropped, the interval bounded to 1-60 s. */
export function parseAnnounceAnswer(body: unknown): AnnounceAnswer | undefined {
  const o = typeof body === 'object' && body !== null ? (body as Partial<AnnounceAnswer>) : {};
  if (!Array.isArray(o.peers) || typeof o.intervalMs !== 'number') return undefined;
  const peers = o.peers.filter(
    (p): p is PeerEntry =>
      typeof p === 'object' &&
      p !== null &&
      typeof p.peerId === 'string' &&
      typeof p.address === 'string' &&
      Number.isInteger(p.port) &&
      p.port > 0 &&
      p.port < 65536 &&
      (p.role === 'source' || p.role === 'viewer'),
  );
  return { intervalMs: Math.min(60_000, Math.max(1000, o.intervalMs)), yourAddress: String(o.yourAddress ?? ''), peers };
}

const CHANNEL_ID = /^[0-9a-f]{64}$/;
const MAX_NAME_CHARS = 80;
/** Programme titles are cut to this (a guide's own limit is 120). */
const MAX_GUIDE_TEXT_CHARS = 120;

/** A tracker's channel list, checked: malformed entries dropped, names cut to 80 characters. */
export function parseChannelList(body: unknown): ChannelSummary[] | undefined {
  if (!Array.isArray(body)) return undefined;
  const out: ChannelSummary[] = [];
  for (const c of body as Record<string, unknown>[]) {
    if (typeof c !== 'object' || c === null) continue;
    if (typeof c.id !== 'string' || !CHANNEL_ID.test(c.id) || typeof c.name !== 'string') continue;
    const twins = Array.isArray(c.sameNameAs) ? c.sameNameAs.filter((x): x is string => typeof x === 'string') : [];
    out.push({
      id: c.id,
      name: c.name.slice(0, MAX_NAME_CHARS),
      bitrateBps: typeof c.bitrateBps === 'number' && c.bitrateBps >= 0 ? c.bitrateBps : 0,
      viewers: isCount(c.viewers) ? c.viewers : 0,
      sameNameAs: twins.slice(0, MAX_SAME_NAME_IDS),
      // Older trackers name every twin and send no count.
      sameNameCount: isCount(c.sameNameCount) ? c.sameNameCount : twins.length,
      ...(Array.isArray(c.renditions) ? { renditions: c.renditions.filter(isRenditionSummary) } : {}),
      ...guideSummary(c),
    });
  }
  return out;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function isRenditionSummary(v: unknown): v is { name: string; height: number; bitrateBps: number } {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.name === 'string' && typeof r.height === 'number' && typeof r.bitrateBps === 'number';
}

/** The guide's part of a summary: each field kept when well-formed, cut to its limit, else left out. */
function guideSummary(c: Record<string, unknown>): Partial<ChannelSummary> {
  const text = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : undefined);
  const programme = (v: unknown): ProgrammeSummary | undefined => {
    if (typeof v !== 'object' || v === null) return undefined;
    const p = v as Record<string, unknown>;
    return typeof p.title === 'string' && Number.isFinite(p.start) && Number.isFinite(p.stop)
      ? { title: p.title.slice(0, MAX_GUIDE_TEXT_CHARS), start: p.start as number, stop: p.stop as number }
      : undefined;
  };
  const out: Partial<ChannelSummary> = {
    category: text(c.category, MAX_NAME_CHARS),
    language: text(c.language, MAX_NAME_CHARS),
    description: text(c.description, MAX_GUIDE_TEXT_CHARS * 10),
    now: programme(c.now),
    next: programme(c.next),
    hasLogo: c.hasLogo === true ? true : undefined,
  };
  for (const k of Object.keys(out) as (keyof ChannelSummary)[]) if (out[k] === undefined) delete out[k];
  return out;
}
