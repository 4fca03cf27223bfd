// Adaptive bitrate, without I/O: which rendition a viewer should be on (AbrController), and how
// its player output moves from one rendition's stream to another's at a keyframe both share,
// without a gap (RenditionSwitch). Runtimes (native viewer, browser, simulator) feed both.

import { CHUNK_MS, type Chunk, FLAG_KEYFRAME } from './chunk.js';

export interface AbrRendition {
  name: string;
  /** Video and audio, bit/s. */
  bitrateBps: number;
}

export interface AbrConfig {
  /** Up one rendition only when the measured fetch rate is this many times its bitrate. @default 1.5 */
  upFactor: number;
  /** Down when the fetch rate falls under this many times the current bitrate. @default 1.1 */
  downFactor: number;
  /** Calm time (no missed media, no switch) before trying a higher rendition. @default 15000 */
  upHoldMs: number;
  /** Hold after a higher rendition failed soon after switching to it; doubles each time. @default 30000 */
  failedUpHoldMs: number;
  /** @default 300000 */
  maxHoldMs: number;
  /** A rendition missing media within this long after the switch to it counts as a failed try. @default 30000 */
  trialMs: number;
  /** After a switch, wait this long before judging the new rendition. @default 3000 */
  settleMs: number;
  /** Fetch-rate samples needed before a down-switch on rate alone. @default 8 */
  minSamples: number;
  /** Playout slack needed to try a higher rendition. @default 1000 */
  minSlackMs: number;
}

export const DEFAULT_ABR_CONFIG: AbrConfig = {
  upFactor: 1.5,
  downFactor: 1.1,
  upHoldMs: 15_000,
  failedUpHoldMs: 30_000,
  maxHoldMs: 300_000,
  trialMs: 30_000,
  settleMs: 3000,
  minSamples: 8,
  minSlackMs: 1000,
};

export interface AbrInput {
  nowMs: number;
  /** Fetch rate of requested chunks, bit/s (bytes over request-to-arrival time); undefined: none was requested yet. */
  fetchBps: number | undefined;
  /** Samples behind fetchBps. */
  fetchSamples: number;
  /** Playout slack: how long before the next chunk would be late. */
  slackMs: number;
  /** Media was missed (skipped or late) lately: the swarm does not bring this rendition in time. */
  short: boolean;
  /** Playback is stalled right now (nothing played for a while, the next chunk overdue). @default false */
  stalled?: boolean;
}

export type AbrReason = 'missed media' | 'stalling' | 'slow fetches' | 'fast fetches';

/**
 * Picks the rendition. Starts low (a low rendition starts fast and plays everywhere), goes up
 * one step at a time after a calm spell when chunks arrive well faster than the next rendition
 * would need (or none had to be fetched: all came pushed in time), and down at once when media
 * is missed or fetches slow down. A higher rendition that fails soon after the switch is not
 * tried again for a while (doubling), so a viewer on the edge of a rendition does not flap
 * between two.
 */
export class AbrController {
  readonly config: AbrConfig;
  private index: number;
  private lastSwitchMs: number;
  private lastShortMs: number | undefined;
  private holdUntilMs = Number.NEGATIVE_INFINITY;
  private holdMs: number;
  private lastUpMs: number | undefined;
  /** Switches made: up and down. */
  readonly switches = { up: 0, down: 0 };

  constructor(
    readonly ladder: readonly AbrRendition[],
    startIndex: number,
    nowMs: number,
    config: Partial<AbrConfig> = {},
  ) {
    if (ladder.length === 0) throw new Error('AbrController needs at least one rendition');
    this.config = { ...DEFAULT_ABR_CONFIG, ...config };
    this.index = Math.max(0, Math.min(ladder.length - 1, startIndex));
    this.lastSwitchMs = nowMs;
    this.holdMs = this.config.failedUpHoldMs;
  }

  get current(): number {
    return this.index;
  }

  /** The rendition to be on now, and why it differs from the current one (if it does). */
  decide(input: AbrInput): { index: number; reason?: AbrReason } {
    const c = this.config;
    const now = input.nowMs;
    if (input.short || input.stalled === true) this.lastShortMs = now;
    const settled = now - this.lastSwitchMs >= c.settleMs;
    const rate = (i: number) => (this.ladder[i] as AbrRendition).bitrateBps;
    if (this.index > 0 && settled) {
      if (input.short) return { index: this.fitting(input.fetchBps, this.index - 1), reason: 'missed media' };
      // A stall is a miss on its way: going down now spares the wait for the late chunk.
      if (input.stalled === true) return { index: this.fitting(input.fetchBps, this.index - 1), reason: 'stalling' };
      if (input.fetchBps !== undefined && input.fetchSamples >= c.minSamples && input.fetchBps < rate(this.index) * c.downFactor) {
        return { index: this.fitting(input.fetchBps, this.index - 1), reason: 'slow fetches' };
      }
    }
    const calmSince = Math.max(this.lastSwitchMs, this.lastShortMs ?? Number.NEGATIVE_INFINITY);
    if (
      this.index + 1 < this.ladder.length &&
      now - calmSince >= c.upHoldMs &&
      now >= this.holdUntilMs &&
      input.slackMs >= c.minSlackMs &&
      // No fetch to measure: every chunk came pushed, in time (a viewer alone with the
      // broadcaster, which pushes each fresh chunk to it, never asks for one). Nothing says the
      // link is slow, and only the try's probation can tell: waiting for a sample waited forever.
      (input.fetchBps === undefined || input.fetchBps >= rate(this.index + 1) * c.upFactor)
    ) {
      return { index: this.index + 1, reason: 'fast fetches' };
    }
    return { index: this.index };
  }

  /** The output is now on `index` (the switch happened at a keyframe). */
  switched(index: number, nowMs: number): void {
    if (index === this.index) return;
    if (index > this.index) {
      this.switches.up++;
      this.lastUpMs = nowMs;
    } else {
      this.switches.down++;
      // Down soon after going up: that rendition is beyond this viewer for now.
      if (this.lastUpMs !== undefined && nowMs - this.lastUpMs <= this.config.trialMs) {
        this.holdUntilMs = nowMs + this.holdMs;
        this.holdMs = Math.min(this.config.maxHoldMs, this.holdMs * 2);
      }
      this.lastUpMs = undefined;
    }
    this.index = index;
    this.lastSwitchMs = nowMs;
  }

  /** A switch up to a higher rendition never happened (its swarm did not deliver): hold off as after a failure. */
  abandoned(nowMs: number): void {
    this.holdUntilMs = nowMs + this.holdMs;
    this.holdMs = Math.min(this.config.maxHoldMs, this.holdMs * 2);
  }

  /** The highest rendition at or below `atMost` whose rate the fetch rate carries with margin. */
  private fitting(fetchBps: number | undefined, atMost: number): number {
    if (fetchBps === undefined) return atMost;
    let i = atMost;
    while (i > 0 && (this.ladder[i] as AbrRendition).bitrateBps * this.config.upFactor > fetchBps) i--;
    return i;
  }
}

/** Keyframes of two renditions of one encode within this of each other are the same instant. */
export const SAME_KEYFRAME_MS = 300;
/** Chunks of the rendition being switched to kept while waiting for the output to reach them. */
const MAX_HELD_CHUNKS = 20_000 / CHUNK_MS;
/** How long the output may wait for a target running behind it to reach the switch point. */
export const MAX_SWITCH_WAIT_MS = 2000;

export type SwitchOutput =
  | { type: 'play'; chunk: Chunk }
  | { type: 'switched'; from: number; to: number }
  /** The target stayed behind the output for longer than MAX_SWITCH_WAIT_MS: switch given up. */
  | { type: 'abandoned'; target: number };

/**
 * The player output of a viewer on several renditions. Chunks played by the current rendition
 * go out; while a switch is pending, the target rendition's chunks are held, and at the current
 * rendition's next keyframe the output moves to the target's keyframe of the same instant
 * (capture times match: one encode cut both). A target running ahead is held until the output
 * gets there. A target running behind makes the output wait at that keyframe, up to
 * MAX_SWITCH_WAIT_MS, holding the current rendition's chunks so nothing is lost if it gives up.
 */
export class RenditionSwitch {
  private held: Chunk[] = [];
  private pending: number | undefined;
  /** The current rendition's chunks from the switch keyframe on, while waiting for the target. */
  private waiting: Chunk[] = [];
  /** Capture time of the newest chunk seen from the current rendition. */
  private lastOutputMs: number | undefined;

  constructor(private currentIndex: number) {}

  get current(): number {
    return this.currentIndex;
  }

  get target(): number | undefined {
    return this.pending;
  }

  /**
   * Starts, retargets or (with undefined) cancels a switch; returns chunks of the current
   * rendition that were held while waiting, for the output.
   */
  setTarget(index: number | undefined): SwitchOutput[] {
    const next = index === this.currentIndex ? undefined : index;
    if (next === this.pending) return [];
    this.held = [];
    this.pending = next;
    return this.release();
  }

  /**
   * The current rendition has stalled: cut over now to the target's first held keyframe past
   * what the output played, if there is one (the media in between is lost, as it would be to
   * the stall). Returns [] when the target has no such keyframe yet.
   */
  cutNow(): SwitchOutput[] {
    if (this.pending === undefined) return [];
    const after = this.lastOutputMs ?? Number.NEGATIVE_INFINITY;
    const at = this.held.findIndex((c) => (c.flags & FLAG_KEYFRAME) !== 0 && c.captureTimeMs > after + SAME_KEYFRAME_MS);
    if (at < 0) return [];
    this.waiting = [];
    return this.cutOver(at);
  }

  /** A chunk played, in order, by rendition `index`'s playout; returns what the output does. */
  played(index: number, chunk: Chunk): SwitchOutput[] {
    if (index === this.pending) return this.onTarget(chunk);
    if (index !== this.currentIndex) return [];
    this.lastOutputMs = chunk.captureTimeMs;
    if (this.waiting.length > 0) {
      this.waiting.push(chunk);
      const first = this.waiting[0] as Chunk;
      if (chunk.captureTimeMs - first.captureTimeMs <= MAX_SWITCH_WAIT_MS) return [];
      const target = this.pending as number;
      this.pending = undefined;
      this.held = [];
      return [{ type: 'abandoned', target }, ...this.release()];
    }
    if (this.pending === undefined || (chunk.flags & FLAG_KEYFRAME) === 0) return [{ type: 'play', chunk }];
    const at = this.held.findIndex((c) => isKeyframeAt(c, chunk.captureTimeMs));
    if (at >= 0) return this.cutOver(at);
    const newest = this.held[this.held.length - 1];
    if (newest !== undefined && newest.captureTimeMs < chunk.captureTimeMs) {
      // The target has not reached this instant (it plays behind the output, or level with it
      // and a moment later): wait here for it to reach this keyframe.
      this.waiting = [chunk];
      this.held = [];
      return [];
    }
    // The target is past this instant without its keyframe (it started later), or has nothing
    // yet: drop what the output has passed.
    this.held = this.held.filter((c) => c.captureTimeMs > chunk.captureTimeMs - SAME_KEYFRAME_MS);
    return [{ type: 'play', chunk }];
  }

  private onTarget(chunk: Chunk): SwitchOutput[] {
    const wanted = this.waiting[0];
    if (wanted !== undefined) {
      if ((chunk.flags & FLAG_KEYFRAME) === 0) return [];
      if (isKeyframeAt(chunk, wanted.captureTimeMs)) {
        this.waiting = [];
        this.held = [chunk];
        return this.cutOver(0);
      }
      if (chunk.captureTimeMs < wanted.captureTimeMs) return [];
      // The target gave the awaited keyframe up and is ahead now: the output goes on with the
      // current rendition and switches at this keyframe's twin, as with a target ahead.
      this.held = [chunk];
      return this.release();
    }
    this.held.push(chunk);
    if (this.held.length > MAX_HELD_CHUNKS) {
      // Keep the held run starting at a keyframe.
      let k = this.held.findIndex((c, i) => i > 0 && (c.flags & FLAG_KEYFRAME) !== 0);
      if (k < 0) k = this.held.length - MAX_HELD_CHUNKS;
      this.held = this.held.slice(k);
    }
    return [];
  }

  private cutOver(at: number): SwitchOutput[] {
    const from = this.currentIndex;
    const to = this.pending as number;
    const out: SwitchOutput[] = [{ type: 'switched', from, to }];
    for (const c of this.held.slice(at)) out.push({ type: 'play', chunk: c });
    this.lastOutputMs = this.held[this.held.length - 1]?.captureTimeMs ?? this.lastOutputMs;
    this.currentIndex = to;
    this.pending = undefined;
    this.held = [];
    return out;
  }

  private release(): SwitchOutput[] {
    const out = this.waiting.map((chunk): SwitchOutput => ({ type: 'play', chunk }));
    this.waiting = [];
    return out;
  }
}

function isKeyframeAt(c: Chunk, captureTimeMs: number): boolean {
  return (c.flags & FLAG_KEYFRAME) !== 0 && Math.abs(c.captureTimeMs - captureTimeMs) <= SAME_KEYFRAME_MS;
}
