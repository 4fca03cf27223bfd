// Playout clock of a viewer: decides when each chunk is handed to the player and when a
// missing chunk is given up. Chunks go out as soon as they are contiguous (lowest lag). A
// missing chunk is skipped once its deadline has passed and something later is ready, unless it
// is on its way: then it is waited for (a stall) up to maxLagMs behind capture, and the delay
// stays, so a viewer whose buffer is too short for its swarm gets a longer one instead of a
// glitch every few chunks. Deadlines follow the source's capture clock: chunk captured at C is
// due at C + offset, the offset set when playback starts and grown by stalls.
// Pure logic: time is an input.

import { type Chunk, FLAG_KEYFRAME, FLAG_STREAM_START } from './chunk.js';

export interface PlayoutConfig {
  /** Extra time after the start lag before a chunk counts as late. @default 1500 */
  slackMs: number;
  /** Duration assumed per chunk until measured (CHUNK_MS in the core's config). */
  nominalChunkMs: number;
  /**
   * Most delay behind capture that waiting for a chunk may build up. A chunk missing at its
   * deadline that is on its way is waited for (a stall) as long as it would play within this
   * of its capture, and the delay it adds stays: later chunks get as long to arrive. A viewer
   * that started close to live on a slow swarm would otherwise skip chunk after chunk.
   * @default 8000
   */
  maxLagMs?: number;
  /**
   * Playback starts no closer than this behind the first chunk's capture: a viewer that gets
   * its first keyframe straight from the broadcaster waits a moment, so its deadlines are not
   * tighter than what the swarm can meet for the chunks that follow. @default 0
   */
  minStartLagMs?: number;
  /**
   * Playback never starts on a chunk captured longer ago than this (PeerCoreConfig.maxStartAgeMs):
   * it is a replay, or the channel stopped. @default no bound
   */
  maxStartAgeMs?: number;
}

export type PlayoutAction =
  | { readonly type: 'play'; readonly chunk: Chunk; readonly lagMs: number; readonly late: boolean }
  | { readonly type: 'skip'; readonly seq: number; readonly mediaMs: number };

export class Playout {
  private startSeq: number | undefined;
  private next = 0;
  private offsetMs = 0;
  private lastSeq = -1;
  private lastCaptureMs = 0;
  private chunkMsEstimate: number;
  private started = false;
  startedAtMs: number | undefined;
  /** The chosen start that was too old to play, and its age then (see maxStartAgeMs). */
  staleStart: { seq: number; ageMs: number } | undefined;

  constructor(private readonly config: PlayoutConfig) {
    this.chunkMsEstimate = config.nominalChunkMs;
  }

  get isStarted(): boolean {
    return this.started;
  }
  /** Next sequence number the player needs (or the chosen start before playback). */
  get nextSeq(): number | undefined {
    return this.started ? this.next : this.startSeq;
  }
  get chunkMs(): number {
    return this.chunkMsEstimate;
  }

  /**
   * Whether a chunk is the first of a broadcaster run (FLAG_STREAM_START) that playback has
   * started before and not yet reached: the player should start over there.
   */
  beginsNewRun(chunk: Chunk): boolean {
    return this.started && (chunk.flags & FLAG_STREAM_START) !== 0 && chunk.seq >= this.next;
  }

  /** Chooses where playback begins: a chunk flagged as a keyframe start. */
  chooseStart(seq: number): void {
    if (!this.started) this.startSeq = seq;
  }

  /** Deadline of a chunk on the local clock; undefined before playback has started. */
  deadlineMs(seq: number): number | undefined {
    if (!this.started) return undefined;
    return this.lastCaptureMs + (seq - this.lastSeq) * this.chunkMsEstimate + this.offsetMs;
  }

  /** Time left before the next needed chunk is late (the viewer's safety margin). */
  slackMs(nowMs: number): number {
    const d = this.deadlineMs(this.next);
    return d === undefined ? 0 : Math.max(0, d - nowMs);
  }

  /**
   * Advances playback as far as the held chunks allow. `get` looks a chunk up; `newestHeld`
   * bounds skipping; `awaited` tells whether a missing chunk is on its way (asked for, or
   * offered by a neighbour), which is worth a stall rather than a skip.
   */
  advance(
    nowMs: number,
    get: (seq: number) => Chunk | undefined,
    newestHeld: number,
    awaited: (seq: number) => boolean = () => false,
  ): PlayoutAction[] {
    const actions: PlayoutAction[] = [];
    if (!this.started) {
      if (this.startSeq === undefined) return actions;
      const first = get(this.startSeq);
      if (first === undefined || (first.flags & FLAG_KEYFRAME) === 0) return actions;
      if (nowMs - first.captureTimeMs < (this.config.minStartLagMs ?? 0)) return actions;
      const ageMs = nowMs - first.captureTimeMs;
      if (this.config.maxStartAgeMs !== undefined && ageMs > this.config.maxStartAgeMs) {
        if (this.staleStart?.seq !== first.seq) this.staleStart = { seq: first.seq, ageMs };
        return actions;
      }
      this.started = true;
      this.startedAtMs = nowMs;
      this.next = this.startSeq;
      this.offsetMs = nowMs - first.captureTimeMs + this.config.slackMs;
      this.lastSeq = first.seq - 1;
      this.lastCaptureMs = first.captureTimeMs - this.chunkMsEstimate;
    }
    for (;;) {
      const c = get(this.next);
      if (c !== undefined) {
        const deadline = this.deadlineMs(this.next) ?? nowMs;
        if (this.lastSeq === c.seq - 1 && c.captureTimeMs > this.lastCaptureMs) {
          // Learn the real chunk duration from consecutive capture times (EWMA).
          this.chunkMsEstimate = 0.9 * this.chunkMsEstimate + 0.1 * (c.captureTimeMs - this.lastCaptureMs);
        }
        const late = nowMs > deadline;
        // A stall moves every later deadline back by as much: the delay it built up stays.
        if (late) this.offsetMs += nowMs - deadline;
        actions.push({ type: 'play', chunk: c, lagMs: nowMs - c.captureTimeMs, late });
        this.lastSeq = c.seq;
        this.lastCaptureMs = c.captureTimeMs;
        this.next++;
        continue;
      }
      const deadline = this.deadlineMs(this.next) as number;
      const captureMs = this.lastCaptureMs + (this.next - this.lastSeq) * this.chunkMsEstimate;
      const worthWaiting = awaited(this.next) && nowMs - captureMs < (this.config.maxLagMs ?? 8000);
      if (nowMs >= deadline && newestHeld > this.next && !worthWaiting) {
        actions.push({ type: 'skip', seq: this.next, mediaMs: this.chunkMsEstimate });
        this.next++;
        continue;
      }
      return actions;
    }
  }
}
