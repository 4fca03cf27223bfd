// The upload queue of a node with an upload cap (used by PeerCore). Accepted requests and fresh
// pushes wait here and go to the runtime one chunk at a time as the cap allows, so the
// runtime's send queue stays short and a request that would wait too long is answered Busy
// instead. Pure: time is an input, and it never touches a neighbour or a chunk itself.

/** The part of PeerCoreConfig the pacer reads; read live, so a new upload policy applies at once. */
export interface UploadPacerConfig {
  readonly uploadEnabled: boolean;
  readonly uploadLimitBps: number | undefined;
  readonly maxUploadBacklogMs: number;
  readonly uploadLeadMs: number;
  readonly uploadBurstMs: number;
}

/** Longest retry hint a Busy carries. */
export const BUSY_RETRY_MAX_MS = 2000;

interface Queued<T> {
  readonly to: T;
  readonly seq: number;
  readonly bytes: number;
}

export class UploadPacer<T> {
  /** When the chunks handed to the runtime will have left, at the cap. */
  private busyUntilMs = 0;
  /** Fresh pushes first, then accepted requests in order. */
  private readonly queue: Queued<T>[] = [];
  private queuedBytes = 0;
  /** When pump() should run again (undefined: nothing waits). */
  private wakeAtMs: number | undefined;

  constructor(private readonly config: UploadPacerConfig) {}

  /** With a cap, uploads are paced here; without one, chunks go to the runtime at once. */
  get paced(): boolean {
    return this.config.uploadLimitBps !== undefined && this.config.uploadLimitBps > 0;
  }

  get wakeMs(): number | undefined {
    return this.wakeAtMs;
  }

  /** Whether one more request may be accepted: what is queued leaves within maxUploadBacklogMs. */
  hasRoom(nowMs: number): boolean {
    return this.roomInMs(nowMs) === 0;
  }

  /** How long until one more request would be accepted: the retry hint of a Busy. */
  roomInMs(nowMs: number): number {
    if (!this.config.uploadEnabled || this.config.uploadLimitBps === 0) return BUSY_RETRY_MAX_MS;
    if (!this.paced) return 0;
    const backlogMs = Math.max(0, this.busyUntilMs - nowMs) + this.uploadMs(this.queuedBytes);
    return Math.min(BUSY_RETRY_MAX_MS, Math.max(0, Math.ceil(backlogMs - this.config.maxUploadBacklogMs)));
  }

  /** Queues a chunk of `bytes` on the wire for `to`; `first` puts it ahead of the rest (a fresh push). */
  enqueue(to: T, seq: number, bytes: number, first: boolean): void {
    const item = { to, seq, bytes };
    if (first) this.queue.unshift(item);
    else this.queue.push(item);
    this.queuedBytes += bytes;
  }

  /**
   * Counts `bytes` of control sent now against the cap: they left ahead of the queue (a runtime
   * writes control first), so the chunks behind them leave that much later. The cap holds for
   * everything sent, not only for chunks.
   */
  charge(nowMs: number, bytes: number): void {
    if (!this.paced) return;
    this.busyUntilMs = Math.max(nowMs - this.config.uploadBurstMs, this.busyUntilMs) + this.uploadMs(bytes);
  }

  /** Drops a queued chunk for `to` that has not left yet; false when there was none. */
  cancel(to: T, seq: number): boolean {
    const i = this.queue.findIndex((item) => item.to === to && item.seq === seq);
    if (i < 0) return false;
    this.queuedBytes -= (this.queue[i] as Queued<T>).bytes;
    this.queue.splice(i, 1);
    return true;
  }

  /**
   * Hands to `send` what the cap lets leave now (uploadLeadMs before the previous chunk has
   * left). `send` returns false when it could not send (the neighbour left, the chunk was
   * evicted): that costs no upload time.
   */
  pump(nowMs: number, send: (to: T, seq: number) => boolean): void {
    // With the cap lifted, what still waits leaves at once.
    while (this.busyUntilMs - nowMs <= this.config.uploadLeadMs || !this.paced) {
      const item = this.queue.shift();
      if (item === undefined) break;
      this.queuedBytes -= item.bytes;
      if (!send(item.to, item.seq) || !this.paced) continue;
      this.busyUntilMs = Math.max(nowMs - this.config.uploadBurstMs, this.busyUntilMs) + this.uploadMs(item.bytes);
    }
    if (this.queue.length === 0) this.queuedBytes = 0;
    const wake = this.busyUntilMs - this.config.uploadLeadMs;
    this.wakeAtMs = this.queue.length > 0 && wake > nowMs ? wake : undefined;
  }

  private uploadMs(bytes: number): number {
    return (bytes * 8000) / (this.config.uploadLimitBps as number);
  }
}
