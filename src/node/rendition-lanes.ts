// A native viewer's renditions: one swarm node per rendition it is on (normally one; two while
// it switches), the controller that picks the rendition, and the switch that keeps the player
// output continuous. A channel without a ladder is a ladder of one.

import { AbrController, type AbrReason, RenditionSwitch, type SwitchOutput } from '../protocol/abr.js';
import type { Chunk } from '../protocol/chunk.js';
import type { CoreStats } from '../protocol/peer-core.js';
import type { Logger } from './log.js';
import type { SwarmNode } from './swarm-node.js';

export interface LaneSpec {
  name: string;
  /** Hex key of the rendition's stream (the channel id for the base). */
  channelId: string;
  bitrateBps: number;
  height: number | undefined;
}

export type LaneOutput =
  | { type: 'play'; chunk: Chunk }
  /** The current rendition gave a chunk up: the output has a gap. */
  | { type: 'skip' }
  | { type: 'switched'; from: LaneSpec; to: LaneSpec; reason: AbrReason | undefined };

export interface RenditionLanesOptions {
  ladder: LaneSpec[];
  /** 'auto', or the name of the rendition to stay on. */
  quality: string;
  /** A new, not yet started swarm node for rendition `index`. */
  makeNode: (spec: LaneSpec, index: number) => SwarmNode;
  onOutput: (e: LaneOutput) => void;
  log: Logger;
}

/** How often the controller is asked. */
const ABR_TICK_MS = 1000;
/** A switch not done by then is given up (the target's swarm did not deliver). */
const SWITCH_TIMEOUT_MS = 20_000;
/** Nothing played for this long while a down-switch waits: cut over without waiting for a keyframe. */
const STALL_CUT_MS = 1000;
/** The old rendition's node stays this long after a switch, for neighbours fetching from it. */
const RETIRE_AFTER_MS = 2000;

/** Counts of a lane's core that outlive it: bytes moved, media played or missed while it fed the output. */
type Totals = Pick<
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

/** Counts that belong to the lane feeding the output. */
const OUTPUT_COUNTS = ['chunksPlayed', 'chunksLate', 'chunksSkipped', 'mediaMsPlayed', 'mediaMsMissed'] as const;

const ZERO: Totals = {
  mediaBytesIn: 0,
  mediaBytesInFromSource: 0,
  mediaBytesOut: 0,
  duplicateBytes: 0,
  chunksPlayed: 0,
  chunksLate: 0,
  chunksSkipped: 0,
  mediaMsPlayed: 0,
  mediaMsMissed: 0,
};

export class RenditionLanes {
  private readonly nodes = new Map<number, SwarmNode>();
  private readonly switch: RenditionSwitch;
  private readonly abr: AbrController | undefined;
  private readonly retired: Totals = { ...ZERO };
  /** The current lane's counts when it began to feed the output (it played into the switch before). */
  private feedBase: Totals = { ...ZERO };
  /** Bytes of lanes that never fed the output (abandoned targets). */
  private readonly probeBytes = { in: 0, out: 0, duplicate: 0 };
  private timer: NodeJS.Timeout | undefined;
  private pendingSince: number | undefined;
  private pendingReason: AbrReason | undefined;
  private lastPlayedAtMs: number | undefined;
  /** When the current lane began to feed the output. */
  private feedingSinceMs = 0;
  private stopped = false;
  readonly ladder: readonly LaneSpec[];

  constructor(private readonly o: RenditionLanesOptions) {
    this.ladder = o.ladder;
    const fixed = o.ladder.findIndex((l) => l.name === o.quality);
    // Auto starts on the lowest rendition: it starts fastest and plays on any line.
    const start = o.quality === 'auto' ? 0 : fixed;
    if (start < 0) throw new Error(`no rendition named ${o.quality}`);
    this.switch = new RenditionSwitch(start);
    if (o.quality === 'auto' && o.ladder.length > 1) {
      this.abr = new AbrController(
        o.ladder.map((l) => ({ name: l.name, bitrateBps: l.bitrateBps })),
        start,
        Date.now(),
      );
    }
    this.open(start);
  }

  /** The node of the rendition feeding the output. */
  get node(): SwarmNode {
    return this.nodes.get(this.switch.current) as SwarmNode;
  }

  get current(): LaneSpec {
    return this.ladder[this.switch.current] as LaneSpec;
  }

  /** The rendition being switched to, if any. */
  get target(): LaneSpec | undefined {
    return this.switch.target === undefined ? undefined : this.ladder[this.switch.target];
  }

  get switches(): { up: number; down: number } {
    return this.abr?.switches ?? { up: 0, down: 0 };
  }

  /** Starts the first rendition's node (its listener; announcing is the caller's). */
  async start(): Promise<void> {
    await this.node.start();
    if (this.abr !== undefined) {
      this.timer = setInterval(() => this.tick(Date.now()), ABR_TICK_MS);
      this.timer.unref();
    }
  }

  /** Core counts over every lane, played and missed media only while a lane fed the output. */
  totals(): Totals {
    const t = { ...this.retired };
    for (const [index, node] of this.nodes) {
      const s = node.core.getStats();
      t.mediaBytesIn += s.mediaBytesIn;
      t.mediaBytesInFromSource += s.mediaBytesInFromSource;
      t.mediaBytesOut += s.mediaBytesOut;
      t.duplicateBytes += s.duplicateBytes;
      if (index !== this.switch.current) continue;
      for (const k of OUTPUT_COUNTS) t[k] += s[k] - this.feedBase[k];
    }
    t.mediaBytesIn += this.probeBytes.in;
    t.mediaBytesOut += this.probeBytes.out;
    t.duplicateBytes += this.probeBytes.duplicate;
    return t;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all([...this.nodes.values()].map((n) => n.stop()));
  }

  private open(index: number): SwarmNode {
    const spec = this.ladder[index] as LaneSpec;
    const node = this.o.makeNode(spec, index);
    this.nodes.set(index, node);
    node.onEvent((e) => {
      if (this.nodes.get(index) !== node) return;
      if (e.type === 'skip' && index === this.switch.current && this.switch.target === undefined) this.o.onOutput({ type: 'skip' });
      if (e.type === 'play') this.emit(this.switch.played(index, e.chunk));
    });
    return node;
  }

  private emit(outputs: SwitchOutput[]): void {
    for (const out of outputs) {
      if (out.type === 'play') {
        this.lastPlayedAtMs = Date.now();
        this.o.onOutput(out);
      } else if (out.type === 'switched') this.onSwitched(out.from, out.to);
      else this.giveUp(out.target, 'its stream stayed behind');
    }
  }

  private onSwitched(from: number, to: number): void {
    const now = Date.now();
    this.abr?.switched(to, now);
    this.feedingSinceMs = now;
    this.o.onOutput({ type: 'switched', from: this.ladder[from] as LaneSpec, to: this.ladder[to] as LaneSpec, reason: this.pendingReason });
    this.pendingSince = undefined;
    const old = this.nodes.get(from);
    this.nodes.delete(from);
    const fresh = this.nodes.get(to)?.core.getStats();
    if (old !== undefined) {
      // What the old lane moved, and played and missed while it fed the output, stays counted.
      const s = old.core.getStats();
      this.retired.mediaBytesIn += s.mediaBytesIn;
      this.retired.mediaBytesInFromSource += s.mediaBytesInFromSource;
      this.retired.mediaBytesOut += s.mediaBytesOut;
      this.retired.duplicateBytes += s.duplicateBytes;
      for (const k of OUTPUT_COUNTS) this.retired[k] += s[k] - this.feedBase[k];
      setTimeout(() => void old.stop(), RETIRE_AFTER_MS).unref();
    }
    this.feedBase = { ...ZERO };
    if (fresh !== undefined) for (const k of OUTPUT_COUNTS) this.feedBase[k] = fresh[k];
  }

  private giveUp(target: number, why: string): void {
    const node = this.nodes.get(target);
    this.o.log.info(`switch to ${this.ladder[target]?.name} given up: ${why}`);
    this.emit(this.switch.setTarget(undefined));
    this.pendingSince = undefined;
    if (target > this.switch.current) this.abr?.abandoned(Date.now());
    if (node === undefined) return;
    this.nodes.delete(target);
    const s = node.core.getStats();
    this.probeBytes.in += s.mediaBytesIn;
    this.probeBytes.out += s.mediaBytesOut;
    this.probeBytes.duplicate += s.duplicateBytes;
    void node.stop();
  }

  private tick(now: number): void {
    if (this.stopped || this.abr === undefined) return;
    const core = this.node.core;
    const stats = core.getStats();
    if (!stats.started) return;
    const pending = this.switch.target;
    if (pending !== undefined) {
      if (this.pendingSince !== undefined && now - this.pendingSince > SWITCH_TIMEOUT_MS) {
        this.giveUp(pending, `no matching keyframe within ${SWITCH_TIMEOUT_MS / 1000} s`);
      } else if (pending < this.switch.current && this.lastPlayedAtMs !== undefined && now - this.lastPlayedAtMs >= STALL_CUT_MS) {
        // Going down because the current rendition starves: do not wait for its next keyframe.
        this.emit(this.switch.cutNow());
      }
      return;
    }
    const fetch = core.fetchRate();
    const choice = this.abr.decide({
      nowMs: now,
      fetchBps: fetch.bps,
      fetchSamples: fetch.samples,
      slackMs: core.playoutSlackMs(now),
      // Misses of a lane from before it fed the output (while it started up) do not count.
      short: core.supplyShort(now) && (stats.lastMissAtMs ?? 0) >= this.feedingSinceMs,
    });
    if (choice.index === this.switch.current) return;
    this.o.log.info(`switching to ${this.ladder[choice.index]?.name} (${choice.reason})`);
    this.pendingSince = now;
    this.pendingReason = choice.reason;
    this.emit(this.switch.setTarget(choice.index));
    const node = this.nodes.get(choice.index) ?? this.open(choice.index);
    node
      .start()
      .then(() => node.announceNow())
      .catch((err: Error) => {
        if (this.nodes.get(choice.index) === node) this.giveUp(choice.index, err.message);
      });
  }
}
