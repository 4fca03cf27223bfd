// The broadcaster's renditions: one stream key, chunk numbering and swarm node each (a channel
// without a ladder is a ladder of one), and the channel record that lists them.

import { bytesToHex } from '../common/hex.js';
import type { Logger } from '../common/log.js';
import { type ChannelKey, deriveRenditionKey, type NodeKey } from '../crypto/keys.js';
import type { Rendition } from '../media/renditions.js';
import type { TsPiece } from '../media/ts-chunker.js';
import { type ChannelRecord, renditionProofBytes, signChannelRecord } from '../protocol/channel-record.js';
import { type Chunk, signChunk } from '../protocol/chunk.js';
import type { PeerCoreConfig } from '../protocol/core-types.js';
import {
  type ChunkNumbering,
  defaultUploadCap,
  laneBitrate,
  laneUploadLimit,
  numberChunk,
  risingRates,
  SOURCE_UPLOAD_BURST_MS,
} from './broadcast-policy.js';
import { firstSeq } from './run-numbering.js';
import { type NetworkOptions, SwarmNode } from './swarm-node.js';
import { publishChannelRecord } from './tracker-client.js';

/** Viewers a broadcaster with fewer neighbours dials from a tracker answer. */
const SOURCE_DIAL_TARGET = 8;
const RECORD_REFRESH_MS = 10_000;

/** One rendition's stream: its key, numbering, swarm node and counts. */
export interface SourceLane {
  readonly name: string;
  readonly key: ChannelKey;
  readonly node: SwarmNode;
  readonly height: number | undefined;
  readonly nominalBps: number;
  numbering: ChunkNumbering;
  chunksProduced: number;
  bytesProduced: number;
  firstChunkAtMs: number | undefined;
}

/** What the lanes' swarm nodes are made with (BroadcastOptions' network part). */
export interface SourceLaneOptions {
  key: ChannelKey;
  nodeKey: NodeKey;
  ladder: readonly Rendition[] | undefined;
  nominalBps: readonly number[];
  host: string;
  port: number;
  announceAddress?: string;
  trackers: string[];
  maxPeers?: number;
  core?: Partial<PeerCoreConfig>;
  uploadLimit?: number | 'unlimited';
  defaultCap: boolean;
  network?: NetworkOptions;
  /** Saved numbering floors by stream id (run-numbering.ts). */
  savedFloors: ReadonlyMap<string, number>;
  beforeAnnounce: (trackerUrl: string) => Promise<unknown> | undefined;
  log: Logger;
}

/** The lanes, their nodes made but not started. */
export function makeSourceLanes(o: SourceLaneOptions): SourceLane[] {
  const ladderBps = o.nominalBps.reduce((x, y) => x + y, 0);
  return (o.ladder ?? [undefined]).map((r, i) => {
    const key = r === undefined || i === 0 ? o.key : deriveRenditionKey(o.key, r.name);
    const nominalBps = o.nominalBps[i] as number;
    // The default cap follows each rendition's measured rate (capUploads).
    const uploadLimitBps = laneUploadLimit(o.uploadLimit, nominalBps, ladderBps);
    const node = new SwarmNode({
      role: 'source',
      channelKey: key.publicKey,
      sign: key.sign,
      nodeKey: o.nodeKey,
      host: o.host,
      // Renditions past the base listen on the next ports (any free one when the base's is).
      port: o.port === 0 ? 0 : o.port + i,
      ...(o.announceAddress ? { announceAddress: o.announceAddress } : {}),
      trackers: o.trackers,
      beforeAnnounce: o.beforeAnnounce,
      // Browsers and native peers meet the source over WebRTC through the trackers' signalling.
      webrtc: true,
      // A broadcaster restarted under a waiting audience dials some of it while its encoder
      // starts: they get the new run's first chunks as they are cut, instead of finding the
      // broadcaster at their next tracker ask. Viewers dial it otherwise.
      dialTarget: SOURCE_DIAL_TARGET,
      core: {
        ...(o.defaultCap ? { uploadBurstMs: SOURCE_UPLOAD_BURST_MS } : {}),
        ...o.core,
        ...(uploadLimitBps !== undefined ? { uploadLimitBps } : {}),
        ...(o.maxPeers !== undefined ? { maxNeighbours: o.maxPeers } : {}),
      },
      ...o.network,
      log: o.log.child(r === undefined ? 'swarm' : `swarm ${r.name}`),
    });
    // A restarted broadcaster numbers past its last run (see run-numbering.ts).
    const numbering = { seq: firstSeq(Date.now(), o.savedFloors.get(key.channelId)), started: false };
    return {
      name: r?.name ?? 'main',
      key,
      node,
      height: r?.height,
      nominalBps,
      numbering,
      chunksProduced: 0,
      bytesProduced: 0,
      firstChunkAtMs: undefined,
    };
  });
}

/** A piece from the encoder as the lane's next signed chunk, counted. */
export function cutChunk(lane: SourceLane, piece: TsPiece): Chunk {
  const { seq, flags, next } = numberChunk(lane.numbering, piece.flags);
  lane.numbering = next;
  const chunk = signChunk(
    { channelKey: lane.key.publicKey, seq, captureTimeMs: piece.captureTimeMs, flags, payload: piece.payload },
    lane.key.sign,
  );
  lane.firstChunkAtMs ??= Date.now();
  lane.chunksProduced++;
  lane.bytesProduced += chunk.payload.length;
  return chunk;
}

/** The default upload cap: SOURCE_UPLOAD_COPIES times each rendition's rate, nominal until measured. */
export function capUploads(lanes: readonly SourceLane[], nowMs: number): void {
  for (const l of lanes) {
    const cap = defaultUploadCap(laneBitrate(l, nowMs));
    if (cap !== undefined) l.node.core.setUploadPolicy(true, cap);
  }
}

/**
 * The channel's signed record in the trackers' directory, published again every
 * RECORD_REFRESH_MS with the rates measured meanwhile.
 */
export class RecordPublisher {
  /** Where browsers fetch late chunks (undefined: not published). */
  originUrl: string | undefined;
  /** The newest publication per tracker, settled either way (see beforeAnnounce). */
  private readonly published = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: {
      key: ChannelKey;
      name: string;
      trackers: readonly string[];
      lanes: () => readonly SourceLane[];
      ladder: boolean;
      log: Logger;
    },
  ) {}

  /** Each lane's announce to a tracker waits for the record: a tracker refuses a swarm whose record it does not hold yet. */
  beforeAnnounce(trackerUrl: string): Promise<unknown> | undefined {
    return this.published.get(trackerUrl);
  }

  /** Publishes to every tracker; resolves when one took it, else throws the first one's error. */
  publish(): Promise<void> {
    const signed = signChannelRecord(this.record(), this.o.key.sign);
    return Promise.any(
      this.o.trackers.map((t) => {
        const done = publishChannelRecord(t, signed);
        this.published.set(
          t,
          done.catch(() => undefined),
        );
        return done;
      }),
    ).catch((e: AggregateError) => {
      throw e.errors[0];
    });
  }

  /** Publishes now, logging a failure (the refresh tries again). */
  publishSoon(): void {
    this.publish().catch((err: Error) => this.o.log.warn(err.message));
  }

  startRefresh(): void {
    this.timer = setInterval(() => this.publishSoon(), RECORD_REFRESH_MS);
  }

  stopRefresh(): void {
    clearInterval(this.timer);
  }

  private record(): ChannelRecord {
    const now = Date.now();
    const lanes = this.o.lanes();
    const rates = risingRates(lanes.map((l) => laneBitrate(l, now)));
    const { key } = this.o;
    return {
      channelId: key.channelId,
      name: this.o.name,
      bitrateBps: laneBitrate(lanes[0] as SourceLane, now),
      issuedAtMs: now,
      ...(this.originUrl ? { originUrl: this.originUrl } : {}),
      ...(this.o.ladder
        ? {
            renditions: lanes.map((l, i) => ({
              name: l.name,
              channelId: l.key.channelId,
              height: l.height ?? 0,
              bitrateBps: rates[i] as number,
              proof: bytesToHex(l.key.sign(renditionProofBytes(key.channelId, l.name))),
            })),
          }
        : {}),
    };
  }
}
