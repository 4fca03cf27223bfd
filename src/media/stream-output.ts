// Continuous MPEG-TS for players (VLC, mpv, ffplay): every client gets the played chunks in
// order, starting from the newest keyframe chunk so its decoder can start at once. A client
// that cannot keep up is cut off rather than buffered without bound.

import { type Chunk, FLAG_KEYFRAME } from '../protocol/chunk.js';

export interface StreamSink {
  write(data: Uint8Array): void;
  /** Bytes queued for this client and not yet sent. */
  readonly pendingBytes: number;
  end(): void;
}

export class StreamOutput {
  private backlog: Chunk[] = [];
  private readonly sinks = new Set<StreamSink>();
  private isEnded = false;

  constructor(private readonly maxPendingBytes = 8 * 1024 * 1024) {}

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
    for (const c of this.backlog) sink.write(c.payload);
  }

  removeClient(sink: StreamSink): void {
    this.sinks.delete(sink);
  }

  play(chunk: Chunk): void {
    if (this.isEnded) return;
    if ((chunk.flags & FLAG_KEYFRAME) !== 0) this.backlog = [];
    if (this.backlog.length > 0 || (chunk.flags & FLAG_KEYFRAME) !== 0) this.backlog.push(chunk);
    for (const sink of this.sinks) {
      if (sink.pendingBytes > this.maxPendingBytes) {
        this.sinks.delete(sink);
        sink.end();
        continue;
      }
      sink.write(chunk.payload);
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
