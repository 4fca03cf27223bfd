// The channels the TV gateway holds joined: one viewer session each (viewer-session.ts), joined
// by the first request for it, kept while players read it and for a linger time after, and left
// by the policy in tv-pool.ts. Players reach a channel's outputs through hold()/release().

import { UserError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { HlsSegmenterConfig } from '../media/hls-segmenter.js';
import { type StartBurst, StreamOutput } from '../media/stream-output.js';
import type { PeerCoreConfig } from '../protocol/core-types.js';
import type { NetworkOptions } from './swarm-node.js';
import type { LineupChannel } from './tv-directory.js';
import { decideJoin, type HeldChannel, lingerExpired } from './tv-pool.js';
import { prepareSession, type ViewerSession } from './viewer-session.js';

export interface TvChannelsOptions {
  maxChannels: number;
  lingerMs: number;
  host: string;
  /** The first channel's peer port; the next channels take the ports after it (0: any free one). */
  port: number;
  announceAddress?: string;
  maxPeers?: number;
  timeshift?: { windowMs: number; maxBytes?: number };
  core?: Partial<PeerCoreConfig>;
  network?: NetworkOptions;
  /** Where a new stream player starts (StreamOutput); absent: the newest keyframe. */
  startBurst?: StartBurst;
  log: Logger;
}

/** A channel held joined, and who reads it. */
export interface HeldEntry {
  readonly channel: LineupChannel;
  readonly slot: number;
  readonly joinedAtMs: number;
  /** Resolves once the swarm is joined. */
  readonly ready: Promise<ViewerSession>;
  session: ViewerSession | undefined;
  /** Until the swarm is joined: a player asked for it and waits, so it is in use. */
  joining: boolean;
  streamClients: number;
  lastHlsAtMs: number | undefined;
  idleSinceMs: number;
}

/** An HLS player polls at least every few seconds; one silent for longer has gone. */
const HLS_IDLE_MS = 10_000;
/** Ports a channel's renditions may take after its first (see viewer-lanes.ts). */
const PORTS_PER_CHANNEL = 8;

export class TvChannels {
  private readonly held = new Map<string, HeldEntry>();
  private readonly timer: NodeJS.Timeout;
  /** Requests refused at the cap, for /metrics. */
  refusedAtCap = 0;

  constructor(private readonly o: TvChannelsOptions) {
    this.timer = setInterval(() => this.leaveLingering(), 1000);
    this.timer.unref();
  }

  entries(): HeldEntry[] {
    return [...this.held.values()];
  }

  /** Players reading a held channel now. */
  players(e: HeldEntry, nowMs = Date.now()): number {
    const reading = e.streamClients + (e.lastHlsAtMs !== undefined && nowMs - e.lastHlsAtMs < HLS_IDLE_MS ? 1 : 0);
    // A channel still joining was asked for and has its player waiting: never the one to leave.
    return e.joining ? Math.max(1, reading) : reading;
  }

  /** The channel's session, joining it first if needed; a UserError with the cap's message when full. */
  async join(channel: LineupChannel): Promise<HeldEntry> {
    const have = this.held.get(channel.id);
    if (have !== undefined) {
      await have.ready;
      return have;
    }
    const decision = decideJoin(this.heldChannels(), channel.id, this.o.maxChannels);
    if (decision.kind === 'full') {
      this.refusedAtCap++;
      this.o.log.warn(`refused channel #${channel.number} ${channel.id.slice(0, 12)}: ${this.o.maxChannels} channels already playing`);
      throw new GatewayRefusal(decision.message, 503);
    }
    if (decision.kind === 'join' && decision.leave !== undefined) void this.leave(decision.leave, 'making room');
    const entry = this.add(channel);
    try {
      await entry.ready;
    } catch (err) {
      this.held.delete(channel.id);
      throw err;
    }
    return entry;
  }

  private add(channel: LineupChannel): HeldEntry {
    const slot = this.freeSlot();
    const log = this.o.log.child(`#${channel.number}`);
    const ready = prepareSession({
      ref: { channelId: channel.id, trackers: channel.trackers },
      host: this.o.host,
      port: this.o.port === 0 ? 0 : this.o.port + slot * PORTS_PER_CHANNEL,
      ...(this.o.announceAddress !== undefined ? { announceAddress: this.o.announceAddress } : {}),
      hls: { uriPrefix: `${channel.id}/` } satisfies Partial<HlsSegmenterConfig>,
      ...(this.o.maxPeers !== undefined ? { maxPeers: this.o.maxPeers } : {}),
      ...(this.o.timeshift !== undefined ? { timeshift: this.o.timeshift } : {}),
      ...(this.o.core !== undefined ? { core: this.o.core } : {}),
      ...(this.o.network !== undefined ? { network: this.o.network } : {}),
      stream: new StreamOutput(undefined, this.o.startBurst),
      log,
    }).then(async (session) => {
      entry.session = session;
      try {
        await session.start();
      } catch (err) {
        await session.stop().catch(() => {});
        throw err;
      }
      session.output.ended.then(() => log.info(`channel ended: ${channel.name}`));
      return session;
    });
    ready
      .finally(() => {
        entry.joining = false;
      })
      .catch(() => {});
    const now = Date.now();
    const entry: HeldEntry = {
      channel,
      slot,
      joinedAtMs: now,
      ready,
      session: undefined,
      joining: true,
      streamClients: 0,
      lastHlsAtMs: undefined,
      idleSinceMs: now,
    };
    this.held.set(channel.id, entry);
    this.o.log.info(`joining #${channel.number} ${channel.name}`);
    ready.catch(() => {});
    return entry;
  }

  private freeSlot(): number {
    const used = new Set([...this.held.values()].map((e) => e.slot));
    let slot = 0;
    while (used.has(slot)) slot++;
    return slot;
  }

  private heldChannels(nowMs = Date.now()): HeldChannel[] {
    return [...this.held.values()].map((e) => ({ id: e.channel.id, players: this.players(e, nowMs), idleSinceMs: e.idleSinceMs }));
  }

  /** Counts a stream player in; the returned function counts it out. */
  streamPlayer(e: HeldEntry): () => void {
    e.streamClients++;
    return () => {
      e.streamClients--;
      e.idleSinceMs = Date.now();
    };
  }

  hlsRequest(e: HeldEntry): void {
    const now = Date.now();
    e.lastHlsAtMs = now;
    e.idleSinceMs = Math.max(e.idleSinceMs, now);
  }

  private leaveLingering(): void {
    const now = Date.now();
    const held = this.heldChannels(now).map((c) => {
      const e = this.held.get(c.id) as HeldEntry;
      // An HLS player's last request counts as its leaving.
      return { ...c, idleSinceMs: Math.max(c.idleSinceMs, e.lastHlsAtMs ?? 0) };
    });
    for (const id of lingerExpired(held, now, this.o.lingerMs)) void this.leave(id, 'nobody watched it for a while');
  }

  private async leave(id: string, why: string): Promise<void> {
    const e = this.held.get(id);
    if (e === undefined) return;
    this.held.delete(id);
    this.o.log.info(`leaving #${e.channel.number} ${e.channel.name} (${why})`);
    const session = await e.ready.catch(() => undefined);
    if (session === undefined) return;
    session.output.stream.end();
    await session.stop().catch((err: Error) => this.o.log.warn(`while leaving ${id.slice(0, 12)}: ${err.message}`));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.held.keys()].map((id) => this.leave(id, 'stopping')));
  }
}

/** A request the gateway answers with an HTTP error and a message: past the cap (503), not live (404). */
export class GatewayRefusal extends UserError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}
