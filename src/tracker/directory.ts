// The tracker's state: signed channel records and the peers announced for each channel, with
// expiry. Time is an input and randomness is injected, so the rules are testable without HTTP.

import { type ChannelSummary, MAX_SAME_NAME_IDS } from '../api/tracker-api.js';
import type { ChannelRecord, SignedChannelRecord } from '../protocol/channel-record.js';
import type { RandomFn } from '../protocol/random.js';
import { GuideStore } from './guide-store.js';
import { nameSkeleton } from './names.js';
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
  /** The address group (IPv4 address, IPv6 /64) it came from, whose entries per channel are capped. */
  group?: string;
}

/** Why the directory refused something, as a code for metrics and HTTP statuses, and a message for people. */
export type RefusalCode =
  | 'too-many-channels'
  | 'too-many-channels-from-address'
  | 'directory-full'
  | 'swarm-full'
  | 'id-in-use'
  | 'address-cap'
  | 'too-many-sources'
  | 'stale-record'
  | 'stale-thumbnail'
  | 'stale-guide'
  | 'unknown-channel';

export class Refusal {
  constructor(
    readonly code: RefusalCode,
    readonly message: string,
  ) {}
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
  /**
   * Entries one address group may hold in one channel: carrier-grade NAT puts hundreds of
   * subscribers behind one IPv4 address, but one host must not fill a channel's answers. @default 256
   */
  maxPeersPerAddress: number;
  /** Sources listed per channel at once (a restart overlaps the old run for a moment). @default 4 */
  maxSourcesPerChannel: number;
  /** Channel records one address group may hold (an operator with a line-up of channels on one server). @default 64 */
  maxChannelsPerAddress: number;
  /** How long one channel listing is served before it is built again. @default 1000 */
  listingCacheMs: number;
}

export const DEFAULT_DIRECTORY_CONFIG: DirectoryConfig = {
  announceIntervalMs: 5000,
  peerTtlMs: 15000,
  maxPeersPerAnswer: 30,
  maxPeersPerChannel: 50000,
  maxChannels: 10000,
  maxPeersPerAddress: 256,
  maxSourcesPerChannel: 4,
  maxChannelsPerAddress: 64,
  listingCacheMs: 1000,
};

/** All thumbnails together stay under this. */
export const MAX_THUMBNAIL_TOTAL_BYTES = 64 * 1024 * 1024;

export class Directory {
  private readonly records = new Map<string, ChannelRecord>();
  private readonly signatures = new Map<string, string>();
  private readonly recordStoredAt = new Map<string, number>();
  /** Who published each record (address group), and how many records each group holds. */
  private readonly recordGroup = new Map<string, string>();
  private readonly recordsPerGroup = new Map<string, number>();
  /** A rendition's swarm id -> its channel's id (renditions are swarms of their own). */
  private readonly renditionOf = new Map<string, string>();
  /** Each record's name skeleton (names.ts), computed once per record. */
  private readonly skeletons = new Map<string, string>();
  private listing: { builtAtMs: number; channels: ChannelSummary[] } | undefined;
  private readonly thumbnails = new Map<string, { issuedAtMs: number; jpeg: Uint8Array; signature?: string }>();
  private readonly peers = new Map<string, PeerList<PeerEntry>>();
  private lastExpiryMs = Number.NEGATIVE_INFINITY;
  /** Each channel's signed guide and logo, dropped with its record. */
  readonly guides = new GuideStore((id) => this.peers.has(id));

  constructor(
    readonly config: DirectoryConfig,
    private readonly random: RandomFn,
  ) {}

  /**
   * Stores a verified record; an older record never replaces a newer one. When the directory is
   * full, records of channels nobody has announced for a peer lifetime make room. With its
   * signature, the record can be handed on for peers to check. `group` is the address group
   * that published it, whose records are capped.
   */
  putRecord(record: ChannelRecord, nowMs: number = record.issuedAtMs, signature?: string, group?: string): Refusal | undefined {
    const id = record.channelId;
    const old = this.records.get(id);
    if (old !== undefined && old.issuedAtMs > record.issuedAtMs)
      return new Refusal('stale-record', 'an older record cannot replace a newer one');
    if (
      group !== undefined &&
      this.recordGroup.get(id) !== group &&
      (this.recordsPerGroup.get(group) ?? 0) >= this.config.maxChannelsPerAddress
    )
      return new Refusal('too-many-channels-from-address', `this address already publishes ${this.config.maxChannelsPerAddress} channels`);
    if (old === undefined && this.records.size >= this.config.maxChannels) {
      this.expire(nowMs);
      for (const [other, storedAt] of this.recordStoredAt)
        if (!this.peers.has(other) && nowMs - storedAt > this.config.peerTtlMs) this.deleteRecord(other);
      if (this.records.size >= this.config.maxChannels) return new Refusal('directory-full', 'the directory is full');
    }
    if (old !== undefined) for (const r of old.renditions ?? []) this.renditionOf.delete(r.channelId);
    this.records.set(id, record);
    this.skeletons.set(id, nameSkeleton(record.name));
    for (const r of record.renditions ?? []) if (r.channelId !== id) this.renditionOf.set(r.channelId, id);
    if (signature !== undefined) this.signatures.set(id, signature);
    else this.signatures.delete(id);
    this.recordStoredAt.set(id, nowMs);
    this.setRecordGroup(id, group);
    this.listing = undefined;
    return undefined;
  }

  private deleteRecord(id: string): void {
    for (const r of this.records.get(id)?.renditions ?? []) this.renditionOf.delete(r.channelId);
    this.records.delete(id);
    this.skeletons.delete(id);
    this.signatures.delete(id);
    this.recordStoredAt.delete(id);
    this.thumbnails.delete(id);
    this.guides.delete(id);
    this.setRecordGroup(id, undefined);
  }

  private setRecordGroup(id: string, group: string | undefined): void {
    const was = this.recordGroup.get(id);
    if (was === group) return;
    if (was !== undefined) {
      const left = (this.recordsPerGroup.get(was) ?? 1) - 1;
      if (left > 0) this.recordsPerGroup.set(was, left);
      else this.recordsPerGroup.delete(was);
      this.recordGroup.delete(id);
    }
    if (group !== undefined) {
      this.recordGroup.set(id, group);
      this.recordsPerGroup.set(group, (this.recordsPerGroup.get(group) ?? 0) + 1);
    }
  }

  /** Whether peers of this swarm may be stored: its channel (or the channel it is a rendition of) has a record. */
  knows(channelId: string): boolean {
    return this.records.has(channelId) || this.renditionOf.has(channelId);
  }

  /**
   * Records a peer's announce and returns up to `numWant` peers it should try (at most
   * maxPeersPerAnswer). A source must have proven itself to the caller (a signature by the
   * channel key). A peer of a channel without a record is answered with nobody and not stored:
   * keys cost nothing, so random channels (proven sources included) must not fill the
   * directory; a viewer waiting for its broadcaster, or a broadcaster whose record has not
   * reached this tracker yet, simply asks again.
   */
  announce(
    nowMs: number,
    channelId: string,
    entry: Omit<PeerEntry, 'lastSeenMs'>,
    numWant = this.config.maxPeersPerAnswer,
  ): PeerEntry[] | Refusal {
    this.expire(nowMs);
    const c = this.config;
    let swarm = this.peers.get(channelId);
    if (swarm === undefined) {
      if (!this.knows(channelId)) return [];
      if (this.peers.size >= c.maxChannels) return new Refusal('too-many-channels', 'too many channels');
      swarm = new PeerList();
      this.peers.set(channelId, swarm);
    }
    const existing = swarm.get(entry.peerId);
    // A viewer's peer id is only claimed: another address may not take over or move its entry,
    // nor anyone unproven a source's. A proven source takes its id back from whoever holds it
    // (the broadcaster's id is in every answer, and would be squatted while it restarts).
    const proven = entry.role === 'source';
    if (!proven && existing?.role === 'source') return new Refusal('id-in-use', "this peer id is a source's");
    if (!proven && existing?.seenFrom !== undefined && entry.seenFrom !== undefined && existing.seenFrom !== entry.seenFrom)
      return new Refusal('id-in-use', 'this peer id is in use from another address');
    if (existing === undefined) {
      if (swarm.size >= c.maxPeersPerChannel) return new Refusal('swarm-full', 'the swarm is full');
      if (entry.group !== undefined && swarm.countIn(entry.group) >= c.maxPeersPerAddress)
        return new Refusal('address-cap', `this address already has ${c.maxPeersPerAddress} peers in this channel`);
    }
    if (entry.role === 'source' && existing?.role !== 'source' && swarm.sourceCount >= c.maxSourcesPerChannel)
      return new Refusal('too-many-sources', `this channel already has ${c.maxSourcesPerChannel} sources`);
    swarm.set({ ...entry, lastSeenMs: nowMs });
    const limit = Math.min(numWant, c.maxPeersPerAnswer);
    if (limit <= 0) return [];
    // Always offer the source while it is listed, then a random sample of the viewers.
    return swarm.sample(limit, entry.peerId, this.random);
  }

  /**
   * Removes a peer's entry; with `seenFrom`, only when the request comes from the entry's own
   * address; a source's only when `proven` (its stop carries the channel key's signature).
   */
  leave(channelId: string, peerId: string, seenFrom?: string, proven = false): void {
    const swarm = this.peers.get(channelId);
    const entry = swarm?.get(peerId);
    if (entry === undefined || (seenFrom !== undefined && entry.seenFrom !== undefined && entry.seenFrom !== seenFrom)) return;
    if (entry.role === 'source' && !proven) return;
    swarm?.delete(peerId);
  }

  /** Stores a verified thumbnail unless a newer one is held; only for channels with a record. */
  putThumbnail(channelId: string, issuedAtMs: number, jpeg: Uint8Array, signature?: string): Refusal | undefined {
    if (!this.records.has(channelId)) return new Refusal('unknown-channel', 'unknown channel: publish its record first');
    const old = this.thumbnails.get(channelId);
    if (old !== undefined && old.issuedAtMs > issuedAtMs)
      return new Refusal('stale-thumbnail', 'an older thumbnail cannot replace a newer one');
    this.thumbnails.set(channelId, { issuedAtMs, jpeg, ...(signature !== undefined ? { signature } : {}) });
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

  /** The thumbnail with its time and signature (hex), so a reader can check it against the channel key. */
  signedThumbnail(channelId: string): { issuedAtMs: number; jpeg: Uint8Array; signature?: string } | undefined {
    return this.thumbnails.get(channelId);
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
    // Built at most once per listingCacheMs: a listing costs every live channel, and anyone may ask.
    if (this.listing !== undefined && nowMs - this.listing.builtAtMs < this.config.listingCacheMs && nowMs >= this.listing.builtAtMs)
      return this.listing.channels;
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
        sameNameCount: 0,
        ...(record.renditions !== undefined
          ? { renditions: record.renditions.map((e) => ({ name: e.name, height: e.height, bitrateBps: e.bitrateBps })) }
          : {}),
        ...this.guides.summary(id, nowMs),
      });
    }
    // Channels grouped by their names' skeletons in one pass; each names a few of its twins.
    const bySkeleton = new Map<string, ChannelSummary[]>();
    for (const c of live) {
      const key = this.skeletons.get(c.id) ?? c.name;
      const group = bySkeleton.get(key);
      if (group === undefined) bySkeleton.set(key, [c]);
      else group.push(c);
    }
    for (const group of bySkeleton.values()) {
      if (group.length === 1) continue;
      const named = group.slice(0, MAX_SAME_NAME_IDS + 1);
      for (const c of group) {
        c.sameNameCount = group.length - 1;
        c.sameNameAs = named
          .filter((o) => o !== c)
          .slice(0, MAX_SAME_NAME_IDS)
          .map((o) => o.id);
      }
    }
    live.sort((a, b) => b.viewers - a.viewers || a.name.localeCompare(b.name));
    this.listing = { builtAtMs: nowMs, channels: live };
    return live;
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
