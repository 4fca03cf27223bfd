// One viewer's adaptive-bitrate session, without I/O: which renditions' swarms it is in (its
// lanes), when to try another rendition, when the try has proven itself, and the counts of
// what fed its player. The runtime opens and closes lanes (a swarm node each, or a simulated
// peer) and feeds their play and skip events; the native viewer and the simulator share it.

import {
  type AbrConfig,
  AbrController,
  type AbrReason,
  type AbrRendition,
  DEFAULT_ABR_CONFIG,
  RenditionSwitch,
  type SwitchOutput,
} from './abr.js';
import type { Chunk } from './chunk.js';
import { type CoreStats, emptyCoreStats } from './core-types.js';

/** What the session reads from a lane's core. */
export interface AbrLane {
  getStats(): CoreStats;
  fetchRate(): { peakBps: number | undefined; samples: number };
  playoutSlackMs(nowMs: number): number;
  supplyShort(nowMs: number): boolean;
}

export interface AbrSessionHooks {
  /** Join rendition `index`'s swarm; the lane's core is used for its counts and events. */
  open(index: number): AbrLane;
  /** Leave it (the runtime may wait a moment for neighbours still fetching from it). */
  close(index: number): void;
  output(e: AbrOutput): void;
  /** The set of open lanes changed: a runtime with an upload cap shares it anew (uploadShares). */
  lanesChanged?(): void;
}

export type AbrOutput =
  | { type: 'play'; chunk: Chunk }
  /** The rendition feeding the player gave chunk `seq` (its number in that rendition) up: the output has a gap. */
  | { type: 'skip'; seq: number }
  | { type: 'trying'; index: number; reason: AbrReason | 'chosen' }
  | { type: 'switched'; from: number; to: number; reason: AbrReason | 'chosen' | undefined }
  | { type: 'gave-up'; index: number; why: string };

/** Counts that outlive a lane: bytes it moved, media played or missed while it fed the output. */
export type AbrTotals = Pick<
  CoreStats,
  | 'mediaBytesIn'
  | 'mediaBytesInFromSource'
  | 'mediaBytesOut'
  | 'duplicateBytes'
  | 'chunksPlayed'
  | 'chunksLate'
  | 'chunksSkipped'
  | 'mediaMsPlayed'
  | 'mediaMsMissed'
>;

const BYTE_COUNTS = ['mediaBytesIn', 'mediaBytesInFromSource', 'mediaBytesOut', 'duplicateBytes'] as const;
/** Counts that belong to the lane feeding the output. */
const OUTPUT_COUNTS = ['chunksPlayed', 'chunksLate', 'chunksSkipped', 'mediaMsPlayed', 'mediaMsMissed'] as const;

function zero(): AbrTotals {
  const { neighbours, lastLagMs, lastChunkAtMs, newestSeq, started, lastMissAtMs, ...counts } = emptyCoreStats();
  return counts;
}

export interface AbrSessionConfig extends AbrConfig {
  /** How often the runtime calls tick(). @default 1000 */
  tickMs: number;
  /** A higher rendition must play this long without a miss (and the current one too) before the switch. @default 3000 */
  probeMs: number;
  /** A try not done by then is given up (its swarm did not deliver). @default 20000 */
  switchTimeoutMs: number;
  /** Nothing played for this long while a down-switch waits: cut over without waiting for a keyframe. @default 1000 */
  stallCutMs: number;
  /** Nothing played for this long, the next chunk overdue: the current rendition stalls, go down. @default 1500 */
  stalledMs: number;
  /**
   * Above the lowest rendition, stay in the lowest one's swarm as a relay. Weak lines can only
   * play the lowest rendition and cannot feed each other; strong lines that left it would leave
   * it short (see `meshtv sim --relay`). @default true
   */
  relayLowest: boolean;
}

export const DEFAULT_ABR_SESSION_CONFIG: Omit<AbrSessionConfig, keyof AbrConfig> = {
  tickMs: 1000,
  probeMs: 3000,
  switchTimeoutMs: 20_000,
  stallCutMs: 1000,
  stalledMs: 1500,
  relayLowest: true,
};

interface Try {
  index: number;
  reason: AbrReason | 'chosen';
  sinceMs: number;
  /** Down-switches are armed at once; a higher rendition only after its probe. */
  armed: boolean;
}

export class AbrSession {
  readonly config: AbrSessionConfig;
  private readonly lanes = new Map<number, AbrLane>();
  private readonly switch: RenditionSwitch;
  private readonly abr: AbrController | undefined;
  private readonly closed: AbrTotals = zero();
  /** The current lane's counts when it began to feed the output (it played into the switch before). */
  private feedBase: AbrTotals = zero();
  private feedingSinceMs: number;
  private attempt: Try | undefined;
  private lastPlayedAtMs: number | undefined;
  private stopping = false;
  /** A rendition the user chose (manual override); undefined: the controller chooses. */
  private pinned: number | undefined;
  /** Media time played per rendition by lanes that fed the output and are closed. */
  private readonly playedMsBy: number[];

  constructor(
    readonly ladder: readonly AbrRendition[],
    /** A rendition index to stay on, or 'auto'. */
    quality: number | 'auto',
    nowMs: number,
    private readonly hooks: AbrSessionHooks,
    config: Partial<AbrSessionConfig> = {},
  ) {
    this.config = { ...DEFAULT_ABR_CONFIG, ...DEFAULT_ABR_SESSION_CONFIG, ...config };
    // Auto starts on the lowest rendition: it starts fastest and plays on any line.
    const start = quality === 'auto' ? 0 : quality;
    if (!Number.isInteger(start) || start < 0 || start >= ladder.length) throw new Error(`no rendition ${start}`);
    this.switch = new RenditionSwitch(start);
    this.abr = quality === 'auto' && ladder.length > 1 ? new AbrController(ladder, start, nowMs, this.config) : undefined;
    this.feedingSinceMs = nowMs;
    this.playedMsBy = ladder.map(() => 0);
    this.lanes.set(start, hooks.open(start));
    hooks.lanesChanged?.();
  }

  get current(): number {
    return this.switch.current;
  }

  /** The rendition being tried or switched to. */
  get target(): number | undefined {
    return this.attempt?.index;
  }

  /** Whether the session adapts (auto with more than one rendition). */
  get adaptive(): boolean {
    return this.abr !== undefined;
  }

  get switches(): { up: number; down: number } {
    return this.abr?.switches ?? { up: 0, down: 0 };
  }

  /** The lane feeding the output. */
  get currentLane(): AbrLane {
    return this.lanes.get(this.switch.current) as AbrLane;
  }

  /** A lane's core played a chunk (in order). */
  played(index: number, chunk: Chunk, nowMs: number): void {
    if (!this.lanes.has(index)) return;
    this.emit(this.switch.played(index, chunk), nowMs);
  }

  /** A lane's core gave chunk `seq` up. */
  skipped(index: number, seq: number): void {
    if (index === this.switch.current && this.switch.target === undefined) this.hooks.output({ type: 'skip', seq });
  }

  /** Core counts over every lane, played and missed media only while a lane fed the output. */
  totals(): AbrTotals {
    const t = { ...this.closed };
    for (const [index, lane] of this.lanes) {
      const s = lane.getStats();
      for (const k of BYTE_COUNTS) t[k] += s[k];
      if (index === this.switch.current) for (const k of OUTPUT_COUNTS) t[k] += s[k] - this.feedBase[k];
    }
    return t;
  }

  /**
   * How to share an upload cap between the open lanes: by their renditions' rates, so the
   * lanes together stay within the cap and a relay lane takes no more than its stream's part.
   */
  uploadShares(): Map<number, number> {
    let total = 0;
    for (const index of this.lanes.keys()) total += (this.ladder[index] as AbrRendition).bitrateBps;
    const shares = new Map<number, number>();
    for (const index of this.lanes.keys()) shares.set(index, total === 0 ? 1 : (this.ladder[index] as AbrRendition).bitrateBps / total);
    return shares;
  }

  /** The lanes open now (the current one, one being tried, the relay). */
  openLanes(): number[] {
    return [...this.lanes.keys()];
  }

  /** Media time played per rendition while it fed the output. */
  playedMsByRendition(): number[] {
    const out = [...this.playedMsBy];
    const s = this.currentLane?.getStats();
    if (s !== undefined) out[this.current] = (out[this.current] ?? 0) + s.mediaMsPlayed - this.feedBase.mediaMsPlayed;
    return out;
  }

  /** Closes every lane (the viewer stops). */
  close(): void {
    this.stopping = true;
    for (const index of [...this.lanes.keys()]) this.closeLane(index, index === this.switch.current);
  }

  /**
   * The user's choice: stay on rendition `index` (switching there at the next shared keyframe,
   * without a try), or with undefined let the controller choose again. If the chosen rendition
   * cannot be reached within switchTimeoutMs, the choice is dropped and the session adapts.
   */
  pin(index: number | undefined, nowMs: number): void {
    if (index !== undefined && (!Number.isInteger(index) || index < 0 || index >= this.ladder.length))
      throw new Error(`no rendition ${index}`);
    this.pinned = index;
    if (index === undefined) return;
    if (this.attempt !== undefined && this.attempt.index !== index) this.cancel(nowMs);
    const attempt = this.attempt;
    if (attempt !== undefined) {
      // Already trying that one: the user's word is proof enough.
      attempt.reason = 'chosen';
      if (!attempt.armed) {
        attempt.armed = true;
        this.emit(this.switch.setTarget(index), nowMs);
      }
      return;
    }
    if (index === this.switch.current) return;
    this.begin({ index, reason: 'chosen', sinceMs: nowMs, armed: true }, nowMs);
  }

  /** The user's choice, if any. */
  get pinnedIndex(): number | undefined {
    return this.pinned;
  }

  tick(nowMs: number): void {
    const lane = this.currentLane;
    const stats = lane.getStats();
    if (!stats.started) return;
    if (this.attempt !== undefined) {
      this.follow(this.attempt, stats, nowMs);
      return;
    }
    if (this.abr === undefined || this.pinned !== undefined) return;
    const fetch = lane.fetchRate();
    const choice = this.abr.decide({
      nowMs,
      fetchBps: fetch.peakBps,
      fetchSamples: fetch.samples,
      slackMs: lane.playoutSlackMs(nowMs),
      // Misses of a lane from before it fed the output (while it started up) do not count.
      short: lane.supplyShort(nowMs) && (stats.lastMissAtMs ?? 0) >= this.feedingSinceMs,
      stalled:
        this.lastPlayedAtMs !== undefined &&
        nowMs - this.lastPlayedAtMs >= this.config.stalledMs &&
        nowMs - this.feedingSinceMs >= this.config.stalledMs &&
        lane.playoutSlackMs(nowMs) === 0,
    });
    if (choice.index === this.switch.current || choice.reason === undefined) return;
    this.begin({ index: choice.index, reason: choice.reason, sinceMs: nowMs, armed: choice.index < this.switch.current }, nowMs);
  }

  private begin(attempt: Try, nowMs: number): void {
    this.attempt = attempt;
    this.hooks.output({ type: 'trying', index: attempt.index, reason: attempt.reason });
    if (!this.lanes.has(attempt.index)) {
      this.lanes.set(attempt.index, this.hooks.open(attempt.index));
      this.hooks.lanesChanged?.();
    }
    if (attempt.armed) this.emit(this.switch.setTarget(attempt.index), nowMs);
  }

  /** Drops the attempt under way without holding its rendition off (the user chose another). */
  private cancel(nowMs: number): void {
    const attempt = this.attempt;
    if (attempt === undefined) return;
    this.attempt = undefined;
    this.emit(this.switch.setTarget(undefined), nowMs);
    this.closeLane(attempt.index, false);
  }

  private follow(attempt: Try, current: CoreStats, nowMs: number): void {
    const c = this.config;
    if (nowMs - attempt.sinceMs > c.switchTimeoutMs) {
      this.giveUp(`not done within ${c.switchTimeoutMs / 1000} s`, nowMs);
      return;
    }
    if (attempt.armed) {
      // Going down because the current rendition starves: do not wait for its next keyframe.
      if (this.lastPlayedAtMs !== undefined && nowMs - this.lastPlayedAtMs >= c.stallCutMs) this.emit(this.switch.cutNow(), nowMs);
      return;
    }
    // A higher rendition is on probation: it must play without a miss, and must not make the
    // current one miss (a download link too small for both shows there first).
    if ((current.lastMissAtMs ?? Number.NEGATIVE_INFINITY) >= attempt.sinceMs) {
      this.giveUp('the current rendition missed media during the try', nowMs);
      return;
    }
    const trial = (this.lanes.get(attempt.index) as AbrLane).getStats();
    if (trial.lastMissAtMs !== undefined) {
      this.giveUp('it missed media', nowMs);
      return;
    }
    if (trial.started && trial.mediaMsPlayed >= c.probeMs) {
      attempt.armed = true;
      this.emit(this.switch.setTarget(attempt.index), nowMs);
    }
  }

  private emit(outputs: SwitchOutput[], nowMs: number): void {
    for (const out of outputs) {
      if (out.type === 'play') {
        this.lastPlayedAtMs = nowMs;
        this.hooks.output(out);
      } else if (out.type === 'switched') this.onSwitched(out.from, out.to, nowMs);
      else this.giveUp('its stream stayed behind', nowMs);
    }
  }

  private onSwitched(from: number, to: number, nowMs: number): void {
    this.abr?.switched(to, nowMs);
    const reason = this.attempt?.reason;
    this.attempt = undefined;
    this.feedingSinceMs = nowMs;
    const fresh = this.lanes.get(to)?.getStats();
    this.closeLane(from, true);
    this.feedBase = zero();
    if (fresh !== undefined) for (const k of OUTPUT_COUNTS) this.feedBase[k] = fresh[k];
    this.hooks.output({ type: 'switched', from, to, reason });
  }

  private giveUp(why: string, nowMs: number): void {
    const attempt = this.attempt;
    if (attempt === undefined) return;
    this.attempt = undefined;
    this.emit(this.switch.setTarget(undefined), nowMs);
    if (attempt.reason === 'chosen') {
      // The rendition the user chose could not be reached: adapt again rather than freeze.
      this.pinned = undefined;
    } else if (attempt.index > this.switch.current) this.abr?.abandoned(nowMs);
    this.closeLane(attempt.index, false);
    this.hooks.output({ type: 'gave-up', index: attempt.index, why });
  }

  private closeLane(index: number, fedOutput: boolean): void {
    const lane = this.lanes.get(index);
    if (lane === undefined) return;
    const s = lane.getStats();
    if (fedOutput) {
      for (const k of OUTPUT_COUNTS) this.closed[k] += s[k] - this.feedBase[k];
      this.playedMsBy[index] = (this.playedMsBy[index] ?? 0) + s.mediaMsPlayed - this.feedBase.mediaMsPlayed;
    }
    // The lowest rendition's lane stays as a relay while the output plays a higher one.
    if (!this.stopping && this.config.relayLowest && index === 0 && this.switch.current > 0) return;
    this.lanes.delete(index);
    for (const k of BYTE_COUNTS) this.closed[k] += s[k];
    this.hooks.close(index);
    this.hooks.lanesChanged?.();
  }
}
