// The TV gateway's line-up: the live channels of its trackers, merged by id, each with its
// lasting number (tv-numbers.ts). Refreshed in the background and before a playlist is served
// when the last look is a few seconds old.

import type { ChannelSummary } from '../api/tracker-api.js';
import type { Logger } from '../common/log.js';
import { listChannels } from './tracker-client.js';
import { assignNumbers, type ChannelNumbers, loadNumbers, saveNumbers } from './tv-numbers.js';

export interface LineupChannel {
  readonly id: string;
  readonly name: string;
  readonly number: number;
  /** The broadcaster's category, once trackers send one (the programme guide). */
  readonly category: string | undefined;
  /** The trackers that list it, to join its swarm through. */
  readonly trackers: string[];
}

/** A playlist older than this is looked up again before it is served. */
const FRESH_MS = 3000;

export class TvDirectory {
  private numbers: ChannelNumbers;
  private lineup = new Map<string, LineupChannel>();
  private refreshedAtMs = 0;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly trackers: readonly string[],
    private readonly numbersFile: string,
    private readonly log: Logger,
  ) {
    this.numbers = loadNumbers(numbersFile, log);
  }

  channels(): LineupChannel[] {
    return [...this.lineup.values()].sort((a, b) => a.number - b.number);
  }

  get(id: string): LineupChannel | undefined {
    return this.lineup.get(id);
  }

  /** Looks the trackers up again unless the last look is recent. */
  async fresh(maxAgeMs = FRESH_MS): Promise<void> {
    if (Date.now() - this.refreshedAtMs > maxAgeMs) await this.refresh();
  }

  /** One look at every tracker at a time; a tracker that fails keeps its channels out this round. */
  refresh(): Promise<void> {
    this.refreshing ??= this.lookUp().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async lookUp(): Promise<void> {
    const answers = await Promise.allSettled(this.trackers.map((t) => listChannels(t)));
    const found = new Map<string, { summary: ChannelSummary; trackers: string[] }>();
    answers.forEach((a, i) => {
      const tracker = this.trackers[i] as string;
      if (a.status === 'rejected') {
        this.log.debug(`cannot list channels: ${(a.reason as Error).message}`);
        return;
      }
      for (const c of a.value) {
        const known = found.get(c.id);
        if (known === undefined) found.set(c.id, { summary: c, trackers: [tracker] });
        else known.trackers.push(tracker);
      }
    });
    if (answers.every((a) => a.status === 'rejected') && this.trackers.length > 0)
      this.log.warn(`no tracker answered (${(answers[0] as PromiseRejectedResult).reason.message}); keeping the last line-up`);
    else this.update(found);
    this.refreshedAtMs = Date.now();
  }

  private update(found: Map<string, { summary: ChannelSummary; trackers: string[] }>): void {
    const { numbers, changed } = assignNumbers(this.numbers, [...found.keys()], Date.now());
    this.numbers = numbers;
    if (changed) {
      try {
        saveNumbers(this.numbersFile, numbers);
      } catch (err) {
        this.log.warn(`cannot save channel numbers to ${this.numbersFile}: ${(err as Error).message}`);
      }
    }
    const lineup = new Map<string, LineupChannel>();
    for (const [id, { summary, trackers }] of found) {
      const number = numbers.get(id)?.number;
      // Past the numbers file's bound, a channel has no number and stays out of the playlist.
      if (number === undefined) continue;
      const category = (summary as { category?: unknown }).category;
      lineup.set(id, { id, name: summary.name, number, category: typeof category === 'string' ? category : undefined, trackers });
    }
    this.lineup = lineup;
  }
}
