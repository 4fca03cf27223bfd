// HLS for players that want a playlist (smart TVs, Safari, hls.js): groups the played chunks
// into segments that each start at a keyframe chunk (PAT/PMT + keyframe, so every segment
// decodes on its own) and keeps a sliding live playlist (RFC 8216). Durations come from the
// video PTS, falling back to capture times when a stream has no video timestamps.
// Pure: chunks in, playlist text and segment bytes out; no clock, no I/O.

import { CHUNK_MS, FLAG_END_OF_STREAM, FLAG_KEYFRAME } from '../protocol/chunk.js';
import { findVideoPid, ptsDelta, ptsOf } from './ts-probe.js';

export interface HlsSegmenterConfig {
  /** Segments listed in the live playlist. @default 6 */
  windowSegments: number;
  /** A keyframe chunk starts a new segment once the current one holds this much media. @default 2000 */
  minSegmentMs: number;
  /**
   * Segments kept downloadable after they leave the playlist: a client that loaded the playlist
   * just before may still ask for them (RFC 8216 §6.2.2). @default 3
   */
  retainedSegments: number;
  /** A segment that grows beyond this (no keyframe for a long time) is closed and the next waits for a keyframe. @default 32 MiB */
  maxSegmentBytes: number;
  /** A keyframe whose PTS jumps further ahead than this, or back, breaks the timeline (new encoder run). @default 10000 */
  maxTimestampJumpMs: number;
  /** Duration assumed for a chunk that cannot be timed otherwise. @default CHUNK_MS */
  nominalChunkMs: number;
  /** Prefix of segment URIs in the playlist, relative to the playlist. @default 'live/' */
  uriPrefix: string;
}

export const DEFAULT_HLS_SEGMENTER: HlsSegmenterConfig = {
  windowSegments: 6,
  minSegmentMs: 2000,
  retainedSegments: 3,
  maxSegmentBytes: 32 * 1024 * 1024,
  maxTimestampJumpMs: 10_000,
  nominalChunkMs: CHUNK_MS,
  uriPrefix: 'live/',
};

/** What the segmenter needs of a played chunk. */
export interface PlayedChunk {
  readonly payload: Uint8Array;
  readonly flags: number;
  readonly captureTimeMs: number;
}

export interface HlsSegment {
  /** Media sequence number (RFC 8216 §6.2.1). */
  readonly sequence: number;
  /** Preceded by EXT-X-DISCONTINUITY: a chunk was skipped or the timeline restarted before it. */
  readonly discontinuity: boolean;
  /** Discontinuity sequence number of this segment (tags up to and including its own). */
  readonly discontinuitySequence: number;
  readonly durationMs: number;
  /** Capture time of its first byte at the broadcaster (EXT-X-PROGRAM-DATE-TIME). */
  readonly programDateTimeMs: number;
  readonly data: Uint8Array;
}

/** What a media playlist lists of a segment. */
export type ListedSegment = Omit<HlsSegment, 'data'>;

/**
 * A media playlist (RFC 8216): the segments listed, with their capture times as
 * EXT-X-PROGRAM-DATE-TIME; `startOffsetS` adds EXT-X-START with that (negative) offset while live.
 */
export function mediaPlaylist(o: {
  targetDurationS: number;
  mediaSequence: number;
  discontinuities: number;
  segments: readonly ListedSegment[];
  uriPrefix: string;
  ended: boolean;
  startOffsetS?: number;
}): string {
  const first = o.segments[0];
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${o.targetDurationS}`, `#EXT-X-MEDIA-SEQUENCE:${o.mediaSequence}`];
  if (o.discontinuities > 0 && first !== undefined) {
    lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${first.discontinuitySequence - (first.discontinuity ? 1 : 0)}`);
  }
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  if (!o.ended && o.startOffsetS !== undefined) lines.push(`#EXT-X-START:TIME-OFFSET=${o.startOffsetS}`);
  for (const s of o.segments) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTimeMs).toISOString()}`);
    lines.push(`#EXTINF:${(s.durationMs / 1000).toFixed(3)},`);
    lines.push(`${o.uriPrefix}${s.sequence}.ts`);
  }
  if (o.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

interface OpenSegment {
  parts: Uint8Array[];
  bytes: number;
  chunks: number;
  discontinuity: boolean;
  firstCaptureMs: number;
  lastCaptureMs: number;
  videoPid: number | undefined;
  /** PTS of the first video frame of the keyframe chunk that opened the segment. */
  firstPts: number | undefined;
  /** Smallest and largest video PTS seen, in ticks relative to firstPts. */
  minRel: number | undefined;
  maxRel: number | undefined;
  frames: number;
}

/** Keyframes land on frame boundaries; allow for a frame of rounding when deciding to cut. */
const CUT_TOLERANCE_MS = 50;
const TICKS_PER_MS = 90;

export class HlsSegmenter {
  private readonly config: HlsSegmenterConfig;
  private readonly segments: HlsSegment[] = [];
  private open: OpenSegment | undefined;
  private nextSequence = 0;
  private discontinuities = 0;
  private pendingDiscontinuity = false;
  private maxDurationMs = 0;
  private isEnded = false;
  private readonly listeners = new Set<() => void>();
  /** Chunks dropped while waiting for a keyframe (at the start and after a skip). */
  droppedChunks = 0;

  constructor(config: Partial<HlsSegmenterConfig> = {}) {
    this.config = { ...DEFAULT_HLS_SEGMENTER, ...config };
  }

  get ended(): boolean {
    return this.isEnded;
  }

  /** EXT-X-TARGETDURATION: the longest segment so far, rounded up; it never decreases. */
  get targetDurationS(): number {
    return Math.max(1, Math.ceil(this.maxDurationMs / 1000 - 1e-3));
  }

  /** Called whenever a segment is completed or the stream ends. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A chunk handed to the player, in order. */
  play(chunk: PlayedChunk): void {
    if (this.isEnded) return;
    if ((chunk.flags & FLAG_KEYFRAME) !== 0) this.playKeyframe(chunk);
    else if (this.open === undefined) this.droppedChunks++;
    else this.append(this.open, chunk);
    if ((chunk.flags & FLAG_END_OF_STREAM) !== 0) this.end();
  }

  /** A chunk was given up: the segment in progress ends before the gap, the next starts at a keyframe. */
  skip(): void {
    if (this.isEnded) return;
    if (this.open !== undefined) this.close(this.open, undefined);
    this.open = undefined;
    this.pendingDiscontinuity = this.nextSequence > 0;
  }

  /** The channel ended: the last segment is closed and the playlist gets EXT-X-ENDLIST. */
  end(): void {
    if (this.isEnded) return;
    if (this.open !== undefined) this.close(this.open, undefined);
    this.open = undefined;
    this.isEnded = true;
    this.notify();
  }

  /** The playlist, or undefined while no segment is complete yet. */
  playlist(): string | undefined {
    if (this.segments.length === 0 && !this.isEnded) return undefined;
    const listed = this.segments.slice(-this.config.windowSegments);
    return mediaPlaylist({
      targetDurationS: this.targetDurationS,
      mediaSequence: listed[0]?.sequence ?? this.nextSequence,
      discontinuities: this.discontinuities,
      segments: listed,
      uriPrefix: this.config.uriPrefix,
      ended: this.isEnded,
    });
  }

  /** A segment's bytes while it is listed or retained. */
  segment(sequence: number): Uint8Array | undefined {
    return this.segments.find((s) => s.sequence === sequence)?.data;
  }

  /** The segments held (listed and retained), oldest first. */
  held(): readonly HlsSegment[] {
    return this.segments;
  }

  private playKeyframe(chunk: PlayedChunk): void {
    const open = this.open;
    const videoPid = findVideoPid(chunk.payload) ?? open?.videoPid;
    const pts = videoPid === undefined ? undefined : ptsOf(chunk.payload, videoPid)[0];
    if (open === undefined) {
      this.start(chunk, videoPid, pts, this.pendingDiscontinuity);
      return;
    }
    const rel = open.firstPts !== undefined && pts !== undefined ? ptsDelta(pts, open.firstPts) : undefined;
    if (rel !== undefined && open.maxRel !== undefined) {
      const jumpMs = (rel - open.maxRel) / TICKS_PER_MS;
      if (jumpMs < -1000 || jumpMs > this.config.maxTimestampJumpMs) {
        // The timeline restarted (the broadcaster's encoder was restarted): say so to the player.
        this.close(open, undefined);
        this.start(chunk, videoPid, pts, true);
        return;
      }
    }
    const elapsedMs = rel !== undefined ? rel / TICKS_PER_MS : chunk.captureTimeMs - open.firstCaptureMs;
    if (elapsedMs >= this.config.minSegmentMs - CUT_TOLERANCE_MS) {
      this.close(open, elapsedMs);
      this.start(chunk, videoPid, pts, false);
    } else {
      this.append(open, chunk);
    }
  }

  private start(chunk: PlayedChunk, videoPid: number | undefined, pts: number | undefined, discontinuity: boolean): void {
    this.pendingDiscontinuity = false;
    const open: OpenSegment = {
      parts: [],
      bytes: 0,
      chunks: 0,
      discontinuity,
      firstCaptureMs: chunk.captureTimeMs,
      lastCaptureMs: chunk.captureTimeMs,
      videoPid,
      firstPts: pts,
      minRel: undefined,
      maxRel: undefined,
      frames: 0,
    };
    this.open = open;
    this.append(open, chunk);
  }

  private append(open: OpenSegment, chunk: PlayedChunk): void {
    open.parts.push(chunk.payload);
    open.bytes += chunk.payload.length;
    open.chunks++;
    open.lastCaptureMs = chunk.captureTimeMs;
    if (open.videoPid !== undefined && open.firstPts !== undefined) {
      for (const pts of ptsOf(chunk.payload, open.videoPid)) {
        const rel = ptsDelta(pts, open.firstPts);
        open.minRel = open.minRel === undefined ? rel : Math.min(open.minRel, rel);
        open.maxRel = open.maxRel === undefined ? rel : Math.max(open.maxRel, rel);
        open.frames++;
      }
    }
    if (open.bytes > this.config.maxSegmentBytes) {
      this.close(open, undefined);
      this.open = undefined;
      this.pendingDiscontinuity = true;
    }
  }

  /** Completes a segment; without a measured duration, it is estimated from its own content. */
  private close(open: OpenSegment, measuredMs: number | undefined): void {
    const durationMs = measuredMs !== undefined && measuredMs > 0 ? measuredMs : this.contentDurationMs(open);
    const data = new Uint8Array(open.bytes);
    let o = 0;
    for (const p of open.parts) {
      data.set(p, o);
      o += p.length;
    }
    if (open.discontinuity) this.discontinuities++;
    this.segments.push({
      sequence: this.nextSequence++,
      discontinuity: open.discontinuity,
      discontinuitySequence: this.discontinuities,
      durationMs,
      programDateTimeMs: open.firstCaptureMs,
      data,
    });
    this.maxDurationMs = Math.max(this.maxDurationMs, durationMs);
    while (this.segments.length > this.config.windowSegments + this.config.retainedSegments) this.segments.shift();
    this.notify();
  }

  /** Video span plus one frame when measurable; else capture times; else the nominal chunk length. */
  private contentDurationMs(open: OpenSegment): number {
    if (open.frames >= 2 && open.minRel !== undefined && open.maxRel !== undefined && open.maxRel > open.minRel) {
      const spanMs = (open.maxRel - open.minRel) / TICKS_PER_MS;
      return spanMs + spanMs / (open.frames - 1);
    }
    if (open.chunks >= 2 && open.lastCaptureMs > open.firstCaptureMs) {
      const spanMs = open.lastCaptureMs - open.firstCaptureMs;
      return spanMs + spanMs / (open.chunks - 1);
    }
    return open.chunks * this.config.nominalChunkMs;
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}

/**
 * A master playlist with one variant: the viewer's own output, whose rendition the viewer picks
 * (a player on the same machine cannot see the swarm, so it cannot pick better). BANDWIDTH is
 * the highest rate that output may carry, as RFC 8216 §4.3.4.2 asks.
 */
export function masterPlaylist(peakBps: number, mediaUri: string): string {
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-STREAM-INF:BANDWIDTH=${Math.max(1, Math.round(peakBps))}`,
    mediaUri,
    '',
  ].join('\n');
}
