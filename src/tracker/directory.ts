// The tracker's state: signed channel records and the peers announced for each channel, with
// expiry. Time is an input and randomness is injected, so the rules are testable without HTTP.

import type { ChannelRecord, SignedChannelRecord } from '../protocol/channel-record.js';
import type { RandomFn } from '../protocol/random.js';
import { PeerList } from './peer-list.js';

export interface PeerEntry {
  peerId: string;
  /** Address the peer is reachable at (announced, or as seen by the tracker). */
  address: string;
  port: number;
  role: 'source' | 'viewer';
  lastSeenMs: number;
  /** The address the tracker saw the announce come from: only that address may update or remove the entry. */
  seenFrom?: string;
}

export interface ChannelSummary {
  id: string;
  name: string;
  bitrateBps: number;
  viewers: number;
  /** Other live channels with the same name (different keys): shown, never merged. */
  sameNameAs: string[];
  /** The quality ladder, lowest first, when the channel has one (viewers counts all of them). */
  renditions?: { name: string; height: number; bitrateBps: number }[];
}

export interface DirectoryConfig {
  /** How often peers are asked to announce. @default 5000 */
  announceIntervalMs: number;
  /** A peer not heard from within this is forgotten. @default 15000 */
  peerTtlMs: number;
  /** Most peers returned by one announce. @default 30 */
  maxPeersPerAnswer: number;
  /** Most peers kept per channel (bounds memory under announce floods). @default 50000 */
  maxPeersPerChannel: number;
  /** Most channels kept. @default 10000 */
  maxChannels: number;
}

export const DEFAULT_DIRECTORY_CONFIG: DirectoryConfig = {
  announceIntervalMs: 5000,
  peerTtlMs: 15000,
  maxPeersPerAnswer: 30,
  maxPeersPerChannel: 50000,
  maxChannels: 10000,
};

/** All thumbnails together stay under this. */
export const MAX_THUMBNAIL_TOTAL_BYTES = 64 * 1024 * 1024;

export class Directory {
  private readonly records = new Map<string, ChannelRecord>();
  private readonly signatures = new Map<string, string>();
  private readonly recordStoredAt = new Map<string, number>();
  private readonly thumbnails = new Map<string, { issuedAtMs: number; jpeg: Uint8Array }>();
  private readonly peers = new Map<string, PeerList<PeerEntry>>();
  private lastExpiryMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly config: DirectoryConfig,
    private readonly random: RandomFn,
  ) {}

  /**
   * Stores a verified record; an older record never replaces a newer one. When the directory is
   * full, records of channels nobody has announced for a peer lifetime make room. Returns an
   * error text or undefined. With its signature, the record can be handed on for peers to check.
   */
  putRecord(record: ChannelRecord, nowMs: number = record.issuedAtMs, signature?: string): string | undefined {
    const old = this.records.get(record.channelId);
    if (old !== undefined && old.issuedAtMs > record.issuedAtMs) return 'an older record cannot replace a newer one';
    if (old === undefined && this.records.size >= this.config.maxChannels) {
      this.expire(nowMs);
      for (const [id, storedAt] of this.recordStoredAt) {
        if (!this.peers.has(id) && nowMs - storedAt > this.config.peerTtlMs) {
          this.records.delete(id);
          this.signatures.delete(id);
          this.recordStoredAt.delete(id);
          this.thumbnails.delete(id);
        }
      }
      if (this.records.size >= this.config.maxChannels) return 'the directory is full';
    }
    this.records.set(record.channelId, record);
    if (signature !== undefined) this.signatures.set(record.channelId, signature);
    else this.signatures.delete(record.channelId);
    this.recordStoredAt.set(record.channelId, nowMs);
    return undefined;
  }

  /** Records a peer's announce and returns up to `numWant` peers it should try (at most maxPeersPerAnswer). */
  announce(
    nowMs: number,
    channelId: string,
    entry: Omit<PeerEntry, 'lastSeenMs'>,
    numWant = this.config.maxPeersPerAnswer,
  ): PeerEntry[] | string {
    this.expire(nowMs);
    let swarm = this.peers.get(channelId);
    if (swarm === undefined) {
      if (this.peers.size >= this.config.maxChannels) return 'too many channels';
      swarm = new PeerList();
      this.peers.set(channelId, swarm);
    }
    const existing = swarm.get(entry.peerId);
    if (existing === undefined && swarm.size >= this.config.maxPeersPerChannel) return 'the swarm is full';
    // Peer ids are only claimed: another address may not take over or move someone's entry.
    if (existing?.seenFrom !== undefined && entry.seenFrom !== undefined && existing.seenFrom !== entry.seenFrom)
      return 'this peer id is in use from another address';
    swarm.set({ ...entry, lastSeenMs: nowMs });
    const limit = Math.min(numWant, this.config.maxPeersPerAnswer);
    if (limit <= 0) return [];
    // Always offer the source while it is listed, then a random sample of the viewers.
    return swarm.sample(limit, entry.peerId, this.random);
  }

  /** Removes a peer's entry; with `seenFrom`, only when the request comes from the entry's own address. */
  leave(channelId: string, peerId: string, seenFrom?: string): void {
    const swarm = this.peers.get(channelId);
    const entry = swarm?.get(peerId);
    if (entry === undefined || (seenFrom !== undefined && entry.seenFrom !== undefined && entry.seenFrom !== seenFrom)) return;
    swarm?.delete(peerId);
  }

  /** Stores a verified thumbnail unless a newer one is held; only for channels with a record. */
  putThumbnail(channelId: string, issuedAtMs: number, jpeg: Uint8Array): string | undefined {
    if (!this.records.has(channelId)) return 'unknown channel: publish its record first';
    const old = this.thumbnails.get(channelId);
    if (old !== undefined && old.issuedAtMs > issuedAtMs) return 'an older thumbnail cannot replace a newer one';
    this.thumbnails.set(channelId, { issuedAtMs, jpeg });
    // Bounded memory: past the cap, the thumbnails of channels without peers go, then the oldest.
    let total = 0;
    for (const t of this.thumbnails.values()) total += t.jpeg.length;
    for (const [id, t] of [...this.thumbnails].sort(
      (x, y) => Number(this.peers.has(x[0])) - Number(this.peers.has(y[0])) || x[1].issuedAtMs - y[1].issuedAtMs,
    )) {
      if (total <= MAX_THUMBNAIL_TOTAL_BYTES) break;
      if (id === channelId) continue;
      this.thumbnails.delete(id);
      total -= t.jpeg.length;
    }
    return undefined;
  }

  thumbnail(channelId: string): Uint8Array | undefined {
    return this.thumbnails.get(channelId)?.jpeg;
  }

  /** Totals for monitoring. */
  counts(): { channels: number; swarms: number; peers: number } {
    let peers = 0;
    for (const swarm of this.peers.values()) peers += swarm.size;
    return { channels: this.records.size, swarms: this.peers.size, peers };
  }

  /** The newest record of a channel, if any. */
  record(channelId: string): ChannelRecord | undefined {
    return this.records.get(channelId);
  }

  /** The newest record with its signature, for peers that check it themselves. */
  signedRecord(channelId: string): SignedChannelRecord | undefined {
    const record = this.records.get(channelId);
    const signature = this.signatures.get(channelId);
    return record !== undefined && signature !== undefined ? { record, signature } : undefined;
  }

  /**
   * Channels whose source has announced recently. `webrtcPeers` tells how many peers a channel
   * has in WebRTC signalling (browsers meet there only; native peers are in both places).
   */
  liveChannels(nowMs: number, webrtcPeers: (channelId: string) => number = () => 0): ChannelSummary[] {
    this.expire(nowMs);
    const live: ChannelSummary[] = [];
    for (const [id, swarm] of this.peers) {
      const record = this.records.get(id);
      if (record === undefined) continue;
      if (!swarm.hasSource) continue;
      // Each rendition is a swarm of its own, the base under the channel's id. A native viewer
      // uses one peer id in all the swarms it is in (it relays the lowest while playing a
      // higher one), so it is counted once; WebRTC signalling only tells how many per swarm.
      const swarmIds = record.renditions?.map((e) => e.channelId) ?? [id];
      let native = swarm.viewerCount;
      if (swarmIds.length !== 1 || swarmIds[0] !== id) {
        const ids = new Set<string>();
        for (const swarmId of swarmIds) for (const p of this.peers.get(swarmId)?.values() ?? []) if (p.role !== 'source') ids.add(p.peerId);
        native = ids.size;
      }
      // The source is one of the WebRTC peers too.
      const webrtc = Math.max(0, ...swarmIds.map((swarmId) => webrtcPeers(swarmId) - 1));
      const viewers = Math.max(native, webrtc);
      live.push({
        id,
        name: record.name,
        bitrateBps: record.bitrateBps,
        viewers,
        sameNameAs: [],
        ...(record.renditions !== undefined
          ? { renditions: record.renditions.map((e) => ({ name: e.name, height: e.height, bitrateBps: e.bitrateBps })) }
          : {}),
      });
    }
    for (const c of live) c.sameNameAs = live.filter((o) => o !== c && o.name === c.name).map((o) => o.id);
    return live.sort((a, b) => b.viewers - a.viewers || a.name.localeCompare(b.name));
  }

  private expire(nowMs: number): void {
    if (nowMs - this.lastExpiryMs < 1000) return;
    this.lastExpiryMs = nowMs;
    for (const [id, swarm] of this.peers) {
      for (const p of swarm.values()) if (nowMs - p.lastSeenMs > this.config.peerTtlMs) swarm.delete(p.peerId);
      if (swarm.size === 0) this.peers.delete(id);
    }
  }
}
