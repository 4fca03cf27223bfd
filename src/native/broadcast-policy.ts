// The broadcaster's decisions, without I/O: how chunks are numbered and flagged, what each
// rendition may upload, which rates the channel record announces, and where browsers find the
// HTTP origin. startBroadcast (broadcaster.ts) calls these with what it measured.

import type { EncodingOptions } from '../media/encoding.js';
import { nominalBitrateKbps } from '../media/encoding.js';
import type { InputSource } from '../media/input.js';
import { FLAG_KEYFRAME, FLAG_STREAM_START } from '../protocol/chunk.js';
import { isLoopbackHost } from '../protocol/ip-ranges.js';

/**
 * The broadcaster's default upload: this many copies of the stream. Unbounded, viewers ask a
 * broadcaster that answers at once for everything (16 copies to 100 viewers in meshtv bench);
 * bounded, they relay to each other, and one that the swarm cannot feed in time falls back to
 * the HTTP origin. 1.8 copies met every bench target (docs/architecture.md).
 */
export const SOURCE_UPLOAD_COPIES = 1.8;

/**
 * The HTTP origin's default budget, beside the swarm's: this many copies of the base
 * rendition. With the headroom each stream gets (origin-gate.ts), two browsers that reach no
 * peer stream from it at once, and what is left answers the late chunks of browsers with peers.
 */
export const ORIGIN_COPIES = 3;

/** The stream's rate assumed for the origin's budget until one is known (--copy, before measuring). */
const ORIGIN_RATE_UNKNOWN_BPS = 2_000_000;

/** The origin's budget in bit/s: the one given, or ORIGIN_COPIES times the base rendition's rate. */
export function originBudgetBps(limit: number | undefined, streamBps: number): number {
  return limit ?? ORIGIN_COPIES * originStreamBps(streamBps);
}

/** The rate one origin stream is counted at. */
export function originStreamBps(measuredBps: number): number {
  return measuredBps > 0 ? measuredBps : ORIGIN_RATE_UNKNOWN_BPS;
}

/**
 * That default is a budget on a line usually faster, so upload left unused may be spent at
 * the line's speed later (PeerCoreConfig.uploadBurstMs). Paced strictly, a chunk asked for
 * right after a push waited its turn at 1.8 copies, and a browser on a fast link measured
 * too little to move up a rendition. An explicit --upload-limit is taken as the line: no burst.
 */
export const SOURCE_UPLOAD_BURST_MS = 1000;

/** A rate is measured, rather than taken from the encoder's settings, after this much production. */
const MEASURE_AFTER_MS = 5000;

/** Where a lane's numbering stands: the next number, and whether its run has started. */
export interface ChunkNumbering {
  readonly seq: number;
  readonly started: boolean;
}

/**
 * The number and flags of a lane's next chunk, and the numbering after it. The run's first
 * keyframe chunk says the numbering starts there (see FLAG_STREAM_START); chunks before it
 * cannot be decoded and carry no such flag.
 */
export function numberChunk(n: ChunkNumbering, pieceFlags: number): { seq: number; flags: number; next: ChunkNumbering } {
  const first = !n.started && (pieceFlags & FLAG_KEYFRAME) !== 0;
  return {
    seq: n.seq,
    flags: pieceFlags | (first ? FLAG_STREAM_START : 0),
    next: { seq: n.seq + 1, started: n.started || first },
  };
}

/**
 * Each lane's nominal rate in bit/s, from the encoder's settings: a rendition's video rate
 * plus the audio, or the single stream's rate (0 for --copy, which has none).
 */
export function nominalLaneRates(source: InputSource, encoding: EncodingOptions): number[] {
  const audioBps = (encoding.audioBitrateKbps ?? (source.kind === 'testsrc' ? 96 : 128)) * 1000;
  if (encoding.renditions === undefined) return [(nominalBitrateKbps(source, encoding) ?? 0) * 1000];
  return encoding.renditions.map((r) => r.videoBitrateKbps * 1000 + audioBps);
}

/** Whether the broadcaster sets its upload cap itself (no --upload-limit, no core setting). */
export function usesDefaultCap(uploadLimit: number | 'unlimited' | undefined, coreLimitBps: number | undefined): boolean {
  return uploadLimit === undefined && coreLimitBps === undefined;
}

/**
 * A lane's part of an explicit upload cap, shared by the renditions by their rates: a busy high
 * rendition cannot starve the low one (meshtv sim showed the low swarm's viewers missing media
 * otherwise). undefined: no explicit cap.
 */
export function laneUploadLimit(uploadLimit: number | 'unlimited' | undefined, laneBps: number, ladderBps: number): number | undefined {
  if (typeof uploadLimit !== 'number') return undefined;
  return ladderBps === 0 ? uploadLimit : Math.max(1, Math.round((uploadLimit * laneBps) / ladderBps));
}

/** The default cap of a lane streaming at `bps`; undefined while its rate is unknown (a --copy input's first seconds). */
export function defaultUploadCap(bps: number): number | undefined {
  return bps > 0 ? Math.round(SOURCE_UPLOAD_COPIES * bps) : undefined;
}

/** What a lane produced, as its rate is measured from. */
export interface Production {
  readonly nominalBps: number;
  readonly bytesProduced: number;
  readonly firstChunkAtMs: number | undefined;
}

/** A lane's announced bitrate: measured once there is enough to measure, nominal before. */
export function laneBitrate(p: Production, nowMs: number): number {
  if (p.firstChunkAtMs === undefined || nowMs - p.firstChunkAtMs < MEASURE_AFTER_MS) return p.nominalBps;
  return Math.round((p.bytesProduced * 8 * 1000) / (nowMs - p.firstChunkAtMs));
}

/**
 * Rates kept rising up the ladder, as a channel record must list them: a busy scene can push a
 * low rendition's measured rate past its nominal one, and past the next rendition's.
 */
export function risingRates(rates: readonly number[]): number[] {
  const out: number[] = [];
  for (const r of rates) out.push(Math.max(r, (out[out.length - 1] ?? -1) + 1));
  return out;
}

/**
 * The origin URL a broadcaster publishes for browsers: at the address given, else the one its
 * server is bound to, else (bound to every interface) the one the trackers see it at. A
 * loopback origin is published to local trackers only: a browser elsewhere would fetch from its
 * own machine.
 */
export function originFor(o: {
  bound: string;
  port: number;
  announceAddress: string | undefined;
  seenAddress: string | undefined;
  trackers: readonly string[];
}): { url: string } | { refusal: string } {
  const wildcard = o.bound === '0.0.0.0' || o.bound === '::';
  const host = o.announceAddress ?? (wildcard ? o.seenAddress : o.bound);
  const remoteTracker = o.trackers.some((t) => !isLoopbackHost(new URL(t).hostname));
  if (host === undefined || (isLoopbackHost(host) && remoteTracker))
    return {
      refusal:
        `the HTTP origin on ${o.bound}:${o.port} is not published: browsers on other machines could not reach ${host ?? o.bound}; ` +
        'serve it with --http-host 0.0.0.0 (and, behind NAT, --announce-address PUBLIC-ADDRESS)',
    };
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${o.port}` };
}

/** S, the source load: bytes the broadcaster sent (swarm and origin) over the bytes it produced. */
export function sourceLoad(sentBytes: number, producedBytes: number): number {
  return producedBytes === 0 ? 0 : sentBytes / producedBytes;
}
