// Continuous MPEG-TS for players (VLC, mpv, ffplay): every client gets the played chunks in
// order, starting from the newest keyframe chunk so its decoder can start at once. A client
// that cannot keep up is cut off rather than buffered without bound.
//
// With a start burst (the TV gateway), a new client may start a keyframe earlier: players
// probe the stream before showing anything (ffmpeg reads a second of it by default, VLC
// buffers), so a burst of that much media at once lets them start without waiting for it to
// arrive in real time, at the cost of starting that much behind the live edge, bounded.

import { type Chunk, FLAG_KEYFRAME } from '../protocol/chunk.js';

/** Most a new client's start is given: a few seconds of any sane stream. */
export const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;

export interface StreamSink {
  write(data: Uint8Array): void;
  /** Bytes queued for this client and not yet sent. */
  readonly pendingBytes: number;
  end(): void;
}

/** Where a new client starts, when not at the newest keyframe. */
export interface StartBurst {
  /** Media a new client should get at once: it starts at the newest keyframe at least this old. */
  burstMs: number;
  /** But never further behind the newest chunk than this. */
  maxBehindMs: number;
}

export class StreamOutput {
  private backlog: Chunk[] = [];
  private readonly sinks = new Set<StreamSink>();
  private isEnded = false;

  constructor(
    private readonly maxPendingBytes = 8 * 1024 * 1024,
    private readonly start?: StartBurst,
  ) {}

  get clientCount(): number {
    return this.sinks.size;
  }

  /** True once the channel has ended: no more data will come. */
  get ended(): boolean {
    return this.isEnded;
  }

  addClient(sink: StreamSink): void {
    if (this.isEnded) {
      sink.end();
      return;
    }
    this.sinks.add(sink);
    for (const c of this.backlog.slice(this.startIndex())) sink.write(c.payload);
  }

  /** Media time from a new client's first chunk to the newest one: how far behind live it starts. */
  get startBehindMs(): number {
    const first = this.backlog[this.startIndex()];
    const newest = this.backlog[this.backlog.length - 1];
    return first === undefined || newest === undefined ? 0 : newest.captureTimeMs - first.captureTimeMs;
  }

  /** The backlog index a new client starts at: a keyframe (the backlog's first chunk is one). */
  private startIndex(): number {
    const newest = this.backlog[this.backlog.length - 1];
    if (this.start === undefined || newest === undefined) return 0;
    // The newest keyframe a burst's worth old, else the oldest one within reach (the most media).
    let oldestInReach: number | undefined;
    let burst: number | undefined;
    for (let i = 0; i < this.backlog.length; i++) {
      const c = this.backlog[i] as Chunk;
      const ageMs = newest.captureTimeMs - c.captureTimeMs;
      if ((c.flags & FLAG_KEYFRAME) === 0 || ageMs > this.start.maxBehindMs) continue;
      oldestInReach ??= i;
      if (ageMs >= this.start.burstMs) burst = i;
    }
    return burst ?? oldestInReach ?? 0;
  }

  removeClient(sink: StreamSink): void {
    this.sinks.delete(sink);
  }

  play(chunk: Chunk): void {
    if (this.isEnded) return;
    if ((chunk.flags & FLAG_KEYFRAME) !== 0) this.backlog = this.keptBefore(chunk);
    if (this.backlog.length > 0 || (chunk.flags & FLAG_KEYFRAME) !== 0) this.backlog.push(chunk);
    this.boundBacklog();
    for (const sink of this.sinks) {
      if (sink.pendingBytes > this.maxPendingBytes) {
        this.sinks.delete(sink);
        sink.end();
        continue;
      }
      sink.write(chunk.payload);
    }
  }

  /** What stays of the backlog when keyframe `next` comes: nothing, or the groups a start may still use. */
  private keptBefore(next: Chunk): Chunk[] {
    if (this.start === undefined) return [];
    const maxBehindMs = this.start.maxBehindMs;
    const from = this.backlog.findIndex((c) => (c.flags & FLAG_KEYFRAME) !== 0 && next.captureTimeMs - c.captureTimeMs <= maxBehindMs);
    return from < 0 ? [] : this.backlog.slice(from);
  }

  /**
   * The backlog is the broadcaster's doing (keyframe spacing, capture times): whatever those
   * are, it keeps at most MAX_BACKLOG_BYTES, dropping whole groups from the oldest.
   */
  private boundBacklog(): void {
    let bytes = 0;
    for (const c of this.backlog) bytes += c.payload.length;
    while (bytes > MAX_BACKLOG_BYTES && this.backlog.length > 0) {
      const next = this.backlog.findIndex((c, i) => i > 0 && (c.flags & FLAG_KEYFRAME) !== 0);
      const dropped = this.backlog.splice(0, next < 0 ? this.backlog.length : next);
      for (const c of dropped) bytes -= c.payload.length;
    }
  }

  /** The channel ended: close every client. */
  end(): void {
    this.isEnded = true;
    this.backlog = [];
    for (const sink of this.sinks) sink.end();
    this.sinks.clear();
  }
}
