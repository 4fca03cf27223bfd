// A viewer's renditions, native or in a browser: one lane (a swarm's core and what connects it)
// per rendition it is in (normally one; two while it tries or switches to another), driven by
// the shared AbrSession. A channel without a ladder is a ladder of one. What a lane is made of
// is the runtime's; when lanes open and close, how they share the upload cap, and what they
// counted once gone are decided here.

import { Emitter } from '../common/events.js';
import type { AbrReason } from '../protocol/abr.js';
import { AbrSession, type AbrTotals } from '../protocol/abr-session.js';
import type { Chunk } from '../protocol/chunk.js';
import type { PeerCore } from '../protocol/peer-core.js';

/** A rendition as the channel record lists it. */
export interface RenditionSpec {
  name: string;
  /** Hex key of the rendition's stream (the channel id for the base). */
  channelId: string;
  bitrateBps: number;
  height: number | undefined;
}

/** One rendition's swarm as the runtime made it. */
export interface RenditionLane {
  readonly core: PeerCore;
  /** Leaves the swarm. */
  stop(): Promise<void> | void;
}

/** What a lane's core tells the session: chunks played in order, chunks given up. */
export type LaneFeed = { type: 'play'; chunk: Chunk } | { type: 'skip'; seq: number };

export interface RenditionLaneEvents {
  /** A chunk for the player, in order. */
  play: Chunk;
  /** The current rendition gave chunk `seq` up: the output has a gap. */
  skip: number;
  /** The output moved to another rendition at a keyframe: chunk numbers start afresh. */
  switched: { from: RenditionSpec; to: RenditionSpec; reason: AbrReason | 'chosen' | undefined };
  /** A rendition is being tried. */
  trying: { to: RenditionSpec; reason: AbrReason | 'chosen' };
  /** A try was given up: the viewer stays where it is. */
  'gave-up': { staying: RenditionSpec; tried: RenditionSpec; why: string };
}

export interface RenditionLanesOptions<L extends RenditionLane, C extends Record<string, number>> {
  ladder: readonly RenditionSpec[];
  /** 'auto', or the name of the rendition to stay on. */
  quality: string;
  /**
   * A new lane in rendition `index`'s swarm. Its core's play and skip events go to `feed`;
   * `previousGone` resolves once a lane of the same rendition closed a moment ago is stopped
   * (the same peer id must not be in one swarm twice).
   */
  open(spec: RenditionSpec, index: number, feed: (e: LaneFeed) => void, previousGone: Promise<void>): L;
  /** Counts of a lane that outlive it (summed by counts()). */
  counts(lane: L): C;
  /** Whether to relay, and the cap (bit/s) the lanes share by their rates; undefined: none. */
  upload: { enabled: boolean; limitBps: number | undefined };
  /** How long a closed lane stays, for neighbours still fetching from it. @default 2000 */
  retireAfterMs?: number;
}

const RETIRE_AFTER_MS = 2000;

export class RenditionLanes<L extends RenditionLane, C extends Record<string, number>> {
  readonly events = new Emitter<RenditionLaneEvents>();
  readonly ladder: readonly RenditionSpec[];
  private readonly open = new Map<number, L>();
  private readonly session: AbrSession;
  /** Closed lanes, stopped after retireAfterMs (or at once when their rendition is opened again). */
  private readonly retiring = new Map<number, { lane: L; timer: ReturnType<typeof setTimeout>; stop: () => Promise<void> }>();
  /** What stopped lanes had counted. */
  private gone: C | undefined;
  private upload: { enabled: boolean; limitBps: number | undefined };
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  /** The lane that fed the output when stop() began: figures still read it while it stops. */
  private lastLane: L | undefined;

  constructor(private readonly o: RenditionLanesOptions<L, C>) {
    this.ladder = o.ladder;
    this.upload = o.upload;
    const fixed = o.ladder.findIndex((l) => l.name === o.quality);
    if (o.quality !== 'auto' && fixed < 0) throw new Error(`no rendition named ${o.quality}`);
    this.session = new AbrSession(o.ladder, o.quality === 'auto' ? 'auto' : fixed, Date.now(), {
      open: (index) => this.openLane(index).core,
      close: (index) => this.closeLane(index),
      output: (e) => {
        if (e.type === 'play') this.events.emit('play', e.chunk);
        else if (e.type === 'skip') this.events.emit('skip', e.seq);
        else if (e.type === 'switched') this.events.emit('switched', { from: this.spec(e.from), to: this.spec(e.to), reason: e.reason });
        else if (e.type === 'trying') this.events.emit('trying', { to: this.spec(e.index), reason: e.reason });
        else this.events.emit('gave-up', { staying: this.spec(this.session.current), tried: this.spec(e.index), why: e.why });
      },
      lanesChanged: () => this.shareUpload(),
    });
    // The first lane opened inside the session's constructor, before it could be shared to.
    this.shareUpload();
  }

  /** The lane feeding the output. */
  get lane(): L {
    return (this.open.get(this.session.current) ?? this.lastLane) as L;
  }

  get current(): RenditionSpec {
    return this.spec(this.session.current);
  }

  /** The rendition being tried or switched to, if any. */
  get target(): RenditionSpec | undefined {
    const t = this.session.target;
    return t === undefined ? undefined : this.spec(t);
  }

  /** The rendition the user chose to stay on; undefined: the viewer adapts. */
  get pinned(): RenditionSpec | undefined {
    const p = this.session.pinnedIndex;
    return p === undefined ? undefined : this.spec(p);
  }

  /** Renditions whose swarms this viewer is in: what it plays, tries, or relays. */
  get joined(): string[] {
    return this.session
      .openLanes()
      .sort((a, b) => a - b)
      .map((i) => this.spec(i).name);
  }

  get switches(): { up: number; down: number } {
    return this.session.switches;
  }

  /** Core counts over every lane, played and missed media only while a lane fed the output. */
  totals(): AbrTotals {
    return this.session.totals();
  }

  /** The runtime's counts over every lane, open, retiring and stopped. */
  counts(): C {
    const total = { ...this.gone } as Record<string, number>;
    for (const lane of [...this.open.values(), ...[...this.retiring.values()].map((r) => r.lane)]) {
      for (const [k, v] of Object.entries(this.o.counts(lane))) total[k] = (total[k] ?? 0) + v;
    }
    return total as C;
  }

  /** Starts adapting: the session looks at its lanes every tick. */
  startAdapting(): void {
    if (this.ladder.length < 2) return;
    this.timer = setInterval(() => this.session.tick(Date.now()), this.session.config.tickMs);
    this.timer.unref?.();
  }

  /** 'auto' to let the viewer adapt, or a rendition's name to stay on it. */
  setQuality(quality: string): void {
    if (this.stopped) return;
    const index = this.ladder.findIndex((l) => l.name === quality);
    if (quality !== 'auto' && index < 0) throw new Error(`no rendition named ${quality}`);
    this.session.pin(quality === 'auto' ? undefined : index, Date.now());
  }

  setUpload(upload: { enabled: boolean; limitBps: number | undefined }): void {
    this.upload = upload;
    this.shareUpload();
  }

  get uploadPolicy(): { enabled: boolean; limitBps: number | undefined } {
    return this.upload;
  }

  /** Stops every lane, retiring ones included. */
  async stop(): Promise<void> {
    // Out of `open` before they stop: their plays no longer reach the session (no switch, no
    // new lane while stopping), and counts() does not count them twice meanwhile.
    this.stopped = true;
    this.lastLane = this.lane;
    clearInterval(this.timer);
    const lanes = [...this.open.values()];
    this.open.clear();
    const retiring = [...this.retiring.keys()].map((index) => this.retireNow(index));
    await Promise.all([...lanes.map((lane) => this.stopLane(lane)), ...retiring]);
  }

  private spec(index: number): RenditionSpec {
    return this.ladder[index] as RenditionSpec;
  }

  /** Splits the upload cap between the open lanes (the session may still be in its constructor). */
  private shareUpload(): void {
    if (this.session === undefined) return;
    const { enabled, limitBps } = this.upload;
    for (const [index, share] of this.session.uploadShares()) {
      const limit = limitBps === undefined ? undefined : Math.max(1, Math.round(limitBps * share));
      this.open.get(index)?.core.setUploadPolicy(enabled, limit);
    }
  }

  private openLane(index: number): L {
    const previousGone = this.retireNow(index);
    let lane: L | undefined;
    const feed = (e: LaneFeed) => {
      if (lane === undefined || this.open.get(index) !== lane) return;
      if (e.type === 'play') this.session.played(index, e.chunk, Date.now());
      else this.session.skipped(index, e.seq);
    };
    lane = this.o.open(this.spec(index), index, feed, previousGone);
    this.open.set(index, lane);
    return lane;
  }

  private closeLane(index: number): void {
    const lane = this.open.get(index);
    this.open.delete(index);
    if (lane === undefined) return;
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= this.stopLane(lane);
      return stopping;
    };
    const timer = setTimeout(() => void this.retireNow(index), this.o.retireAfterMs ?? RETIRE_AFTER_MS);
    (timer as { unref?: () => void }).unref?.();
    this.retiring.set(index, { lane, timer, stop });
  }

  /** Stops a closed lane now (after its grace, or when its rendition is opened again). */
  private retireNow(index: number): Promise<void> {
    const r = this.retiring.get(index);
    if (r === undefined) return Promise.resolve();
    this.retiring.delete(index);
    clearTimeout(r.timer);
    return r.stop();
  }

  /** Stops a lane, keeping what it counted. */
  private async stopLane(lane: L): Promise<void> {
    const counted = this.o.counts(lane);
    const gone = (this.gone ?? {}) as Record<string, number>;
    for (const [k, v] of Object.entries(counted)) gone[k] = (gone[k] ?? 0) + v;
    this.gone = gone as C;
    await lane.stop();
  }
}
