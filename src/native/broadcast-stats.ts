// The broadcaster's numbers for /stats.json and /metrics, summed over its renditions.

import { createMetrics } from '../common/metrics.js';
import { RateMeter } from '../common/rate-meter.js';
import type { Ingest } from '../media/ingest.js';
import { describeInput, type InputSource } from '../media/input.js';
import { sourceLoad } from './broadcast-policy.js';
import type { SourceLane } from './source-lanes.js';

export interface BroadcastStats {
  role: 'source';
  channelId: string;
  name: string;
  input: string;
  /** Times the input was started again after breaking or ending (live sources). */
  inputRestarts: number;
  /** The input ended: the last chunk went out with FLAG_END_OF_STREAM. */
  ended: boolean;
  peers: number;
  chunksProduced: number;
  /** Number of the newest chunk (what the origin can serve, with the window behind it). */
  newestSeq: number | undefined;
  bytesProduced: number;
  mediaBytesSent: number;
  /** Payload bytes served by the HTTP origin (browsers' last resort); part of S. */
  originBytesSent: number;
  controlBytes: number;
  /** Source load so far: media bytes sent / bytes produced. */
  sourceLoad: number;
  produceBps: number;
  uploadBps: number;
  /** The cap on uploads to the swarm, all renditions together; null while unbounded. */
  uploadLimitBps: number | null;
  /** Per rendition, when the channel has a ladder (the totals above cover them all). */
  renditions?: { name: string; channelId: string; peers: number; bytesProduced: number; mediaBytesSent: number; sourceLoad: number }[];
}

/** Running totals over the lanes, and the rates measured from them. */
export class SourceCounts {
  /** Payload bytes the HTTP origin served (HEAD requests excluded). */
  originBytesSent = 0;
  readonly produceMeter = new RateMeter();
  readonly uploadMeter = new RateMeter();

  constructor(
    readonly lanes: readonly SourceLane[],
    readonly ingest: Ingest,
  ) {}

  private sum(f: (l: SourceLane) => number): number {
    return this.lanes.reduce((t, l) => t + f(l), 0);
  }

  get peers(): number {
    return this.sum((l) => l.node.core.getStats().neighbours);
  }
  get chunksProduced(): number {
    return this.sum((l) => l.chunksProduced);
  }
  get bytesProduced(): number {
    return this.sum((l) => l.bytesProduced);
  }
  get mediaBytesSent(): number {
    return this.sum((l) => l.node.core.getStats().mediaBytesOut);
  }
  get controlBytes(): number {
    return this.sum((l) => l.node.controlBytes);
  }
  /** The cap on uploads to the swarm, all lanes together; null while one is unbounded. */
  get uploadLimitBps(): number | null {
    const limits = this.lanes.map((l) => l.node.core.uploadPolicy.limitBps);
    return limits.some((l) => l === undefined) ? null : limits.reduce((t: number, l) => t + (l as number), 0);
  }
}

export function broadcastStats(
  o: { name: string },
  plan: { key: { channelId: string }; source: InputSource; encoding: { renditions: unknown } },
  counts: SourceCounts,
  production: { inputEnded: boolean },
): BroadcastStats {
  const now = Date.now();
  const sent = counts.mediaBytesSent;
  const produced = counts.bytesProduced;
  return {
    role: 'source',
    channelId: plan.key.channelId,
    name: o.name,
    input: describeInput(plan.source),
    inputRestarts: counts.ingest.restarts,
    ended: production.inputEnded,
    peers: counts.peers,
    chunksProduced: counts.chunksProduced,
    newestSeq: (counts.lanes[0] as SourceLane).node.core.getStats().newestSeq,
    bytesProduced: produced,
    mediaBytesSent: sent,
    originBytesSent: counts.originBytesSent,
    controlBytes: counts.controlBytes,
    // S counts both ways the broadcaster's bytes leave: the swarm and the HTTP origin.
    sourceLoad: sourceLoad(sent + counts.originBytesSent, produced),
    produceBps: counts.produceMeter.sample(now, produced),
    uploadBps: counts.uploadMeter.sample(now, sent),
    uploadLimitBps: counts.uploadLimitBps,
    ...(plan.encoding.renditions !== undefined
      ? {
          renditions: counts.lanes.map((l) => {
            const core = l.node.core.getStats();
            return {
              name: l.name,
              channelId: l.key.channelId,
              peers: core.neighbours,
              bytesProduced: l.bytesProduced,
              mediaBytesSent: core.mediaBytesOut,
              sourceLoad: sourceLoad(core.mediaBytesOut, l.bytesProduced),
            };
          }),
        }
      : {}),
  };
}

export function broadcasterMetrics(counts: SourceCounts, stats: () => BroadcastStats): ReturnType<typeof createMetrics> {
  return createMetrics('meshtv_broadcaster', [
    { name: 'peers', help: 'Neighbours of the source (all renditions)', read: () => counts.peers },
    { name: 'chunks_produced', help: 'Chunks cut and signed since start', read: () => counts.chunksProduced },
    { name: 'bytes_produced', help: 'Stream bytes produced since start', read: () => counts.bytesProduced },
    { name: 'media_bytes_sent', help: 'Stream bytes sent to peers since start', read: () => counts.mediaBytesSent },
    { name: 'origin_bytes_sent', help: 'Stream bytes served by the HTTP origin since start', read: () => counts.originBytesSent },
    { name: 'control_bytes', help: 'Non-media bytes on peer links since start', read: () => counts.controlBytes },
    { name: 'source_load', help: 'S: bytes sent (P2P and origin) over bytes produced', read: () => stats().sourceLoad },
    {
      name: 'upload_limit_bits_per_second',
      help: 'Cap on uploads to the swarm, all renditions (absent while unbounded)',
      read: () => stats().uploadLimitBps ?? undefined,
    },
    { name: 'input_restarts', help: 'Times the input was restarted', read: () => counts.ingest.restarts },
  ]);
}
