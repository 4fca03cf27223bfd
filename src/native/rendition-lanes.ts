// A native viewer's renditions: one swarm node per rendition it is in (normally one; two while
// it tries or switches to another), driven by the shared AbrSession. A channel without a
// ladder is a ladder of one.

import type { Logger } from '../common/log.js';
import type { AbrReason } from '../protocol/abr.js';
import { AbrSession, type AbrTotals } from '../protocol/abr-session.js';
import type { Chunk } from '../protocol/chunk.js';
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
  | { type: 'skip'; seq: number }
  | { type: 'switched'; from: LaneSpec; to: LaneSpec; reason: AbrReason | 'chosen' | undefined };

export interface RenditionLanesOptions {
  ladder: LaneSpec[];
  /** 'auto', or the name of the rendition to stay on. */
  quality: string;
  /** A new, not yet started swarm node for rendition `index`. */
  makeNode: (spec: LaneSpec, index: number) => SwarmNode;
  /** The viewer's upload cap (bit/s), shared between its lanes by their rates; undefined: none. */
  uploadLimitBps: number | undefined;
  onOutput: (e: LaneOutput) => void;
  log: Logger;
}

/** The old rendition's node stays this long after a switch, for neighbours fetching from it. */
const RETIRE_AFTER_MS = 2000;

export class RenditionLanes {
  private readonly nodes = new Map<number, SwarmNode>();
  private readonly session: AbrSession;
  /** Nodes of closed lanes, stopped after RETIRE_AFTER_MS (or at once when the lane is opened again). */
  private readonly retiring = new Map<number, { timer: NodeJS.Timeout; stop: () => Promise<void> }>();
  private closedControlBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  readonly ladder: readonly LaneSpec[];

  constructor(private readonly o: RenditionLanesOptions) {
    this.ladder = o.ladder;
    const fixed = o.ladder.findIndex((l) => l.name === o.quality);
    if (o.quality !== 'auto' && fixed < 0) throw new Error(`no rendition named ${o.quality}`);
    this.session = new AbrSession(
      o.ladder.map((l) => ({ name: l.name, bitrateBps: l.bitrateBps })),
      o.quality === 'auto' ? 'auto' : fixed,
      Date.now(),
      {
        open: (index) => this.open(index).core,
        close: (index) => this.close(index),
        output: (e) => {
          const name = (i: number) => this.ladder[i]?.name ?? String(i);
          if (e.type === 'play' || e.type === 'skip') o.onOutput(e);
          else if (e.type === 'switched') {
            o.onOutput({ type: 'switched', from: this.ladder[e.from] as LaneSpec, to: this.ladder[e.to] as LaneSpec, reason: e.reason });
          } else if (e.type === 'trying') o.log.info(`trying ${name(e.index)} (${e.reason})`);
          else o.log.info(`staying on ${name(this.session.current)}: ${name(e.index)} ${e.why}`);
        },
        lanesChanged: () => this.shareUpload(),
      },
    );
  }

  /** The node of the rendition feeding the output. */
  get node(): SwarmNode {
    return this.nodes.get(this.session.current) as SwarmNode;
  }

  get current(): LaneSpec {
    return this.ladder[this.session.current] as LaneSpec;
  }

  /** The rendition being tried or switched to, if any. */
  get target(): LaneSpec | undefined {
    const t = this.session.target;
    return t === undefined ? undefined : this.ladder[t];
  }

  /** Renditions whose swarms this viewer is in: what it plays, tries, or relays. */
  get joined(): string[] {
    return this.session
      .openLanes()
      .sort((a, b) => a - b)
      .map((i) => this.ladder[i]?.name ?? String(i));
  }

  get switches(): { up: number; down: number } {
    return this.session.switches;
  }

  /** Starts the first rendition's node (its listener; announcing is the caller's). */
  async start(): Promise<void> {
    await this.node.start();
    this.started = true;
    if (this.session.adaptive) {
      this.timer = setInterval(() => this.session.tick(Date.now()), this.session.config.tickMs);
      this.timer.unref();
    }
  }

  /** Core counts over every lane, played and missed media only while a lane fed the output. */
  totals(): AbrTotals {
    return this.session.totals();
  }

  /** Control bytes of every lane, closed ones included. */
  get controlBytes(): number {
    let total = this.closedControlBytes;
    for (const node of this.nodes.values()) total += node.controlBytes;
    return total;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const retiring = [...this.retiring.values()];
    this.retiring.clear();
    for (const r of retiring) clearTimeout(r.timer);
    await Promise.all([...[...this.nodes.values()].map((n) => n.stop()), ...retiring.map((r) => r.stop())]);
  }

  /** Splits the upload cap between the open lanes (the session may still be in its constructor). */
  private shareUpload(): void {
    const limit = this.o.uploadLimitBps;
    if (limit === undefined || this.session === undefined) return;
    for (const [index, share] of this.session.uploadShares()) {
      const core = this.nodes.get(index)?.core;
      if (core !== undefined) core.setUploadPolicy(core.uploadPolicy.enabled, Math.max(1, Math.round(limit * share)));
    }
  }

  private open(index: number): SwarmNode {
    // A lane closed a moment ago and opened again: its old node must be gone before the new
    // one listens on the same port and announces the same peer id.
    const prior = this.retiring.get(index);
    if (prior !== undefined) {
      clearTimeout(prior.timer);
      this.retiring.delete(index);
    }
    const before = prior?.stop() ?? Promise.resolve();
    const node = this.o.makeNode(this.ladder[index] as LaneSpec, index);
    this.nodes.set(index, node);
    node.onEvent((e) => {
      if (this.nodes.get(index) !== node) return;
      if (e.type === 'play') this.session.played(index, e.chunk, Date.now());
      else if (e.type === 'skip') this.session.skipped(index, e.seq);
    });
    // The first node is started by start(); the others join as the session tries them.
    if (this.started) {
      before
        .then(() => node.start())
        .then(() => node.announceNow())
        .catch((err: Error) => this.o.log.warn(`cannot join the ${this.ladder[index]?.name} swarm: ${err.message}`));
    }
    return node;
  }

  private close(index: number): void {
    const node = this.nodes.get(index);
    this.nodes.delete(index);
    if (node === undefined) return;
    this.closedControlBytes += node.controlBytes;
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= node.stop();
      return stopping;
    };
    const timer = setTimeout(
      () => {
        this.retiring.delete(index);
        void stop();
      },
      this.stopped ? 0 : RETIRE_AFTER_MS,
    );
    timer.unref();
    this.retiring.set(index, { timer, stop });
  }
}
