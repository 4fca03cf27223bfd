// Discrete-event simulation of a whole swarm in virtual time, driving the unchanged PeerCore
// (src/protocol/peer-core.ts) for the source and every viewer, in the manner of quinn-proto's
// test Pair: inputs at virtual times, outputs drained after every input, timers at pollTimeout().
// The simulator owns what a runtime owns (tracker, dialling, links, bandwidth, churn) and never
// decides anything about chunks. No clock and no Math.random: a seed fixes the whole run.

import { AbrSession } from '../protocol/abr-session.js';
import { type Chunk, FLAG_KEYFRAME, signChunk } from '../protocol/chunk.js';
import type { WireMessage } from '../protocol/codec.js';
import { DEFAULT_PEER_CORE_CONFIG } from '../protocol/core-types.js';
import type { PeerCandidate } from '../protocol/membership.js';
import { type RandomFn, seededRandom } from '../protocol/random.js';
import { EventQueue } from './event-queue.js';
import { fakeSigner } from './fake-crypto.js';
import { HOSTILE_TICK_MS, onTick, passesOwnMessage } from './hostile.js';
import { MsHistogram } from './metrics.js';
import { drawAbrProfiles, drawLinkLatencyMs, drawProfiles } from './network.js';
import { PathModel } from './path-model.js';
import { laneHooks } from './sim-agents.js';
import { DEFAULT_SIM_CONFIG, type SimConfig, type SimRendition, type SimResult, type SimTotals } from './sim-config.js';
import { SimCoreEvents } from './sim-core-events.js';
import { SimLinks } from './sim-links.js';
import {
  ABR_TICK,
  AbrAgent,
  AGENT_JOIN,
  ANSWER,
  ARRIVE,
  CONNECT,
  DELIVER,
  DIAL_FAIL,
  DISCONNECT,
  HOSTILE_TICK,
  JOIN,
  LEAVE,
  PUBLISH,
  removeAt,
  SimEvent,
  SimHost,
  type SimLink,
  type SimPeer,
  TIMER,
  UNLIST,
  WAKE,
} from './sim-peer.js';
import { candidateOf, mix, PeerFactory } from './sim-peers.js';
import { emptySimTotals, runResult } from './sim-results.js';
import { announceBytes, SimTracker } from './sim-tracker.js';

export class Simulator {
  private readonly config: SimConfig;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly random: RandomFn;
  /** Per rendition (one without a ladder): stream key, chunk payload, source peer. */
  private readonly channelKeys: Uint8Array[] = [];
  private readonly payloads: Uint8Array[] = [];
  private readonly sources: SimPeer[] = [];
  private readonly tracker: SimTracker;
  private readonly sign = fakeSigner();
  private readonly source: SimPeer;
  /** Viewers currently in the swarm (for churn). */
  private readonly aliveViewers: SimPeer[] = [];
  private readonly agents: AbrAgent[] = [];
  private nowMs = 0;
  private readonly lag = new MsHistogram(120_000);
  private readonly totals: SimTotals = emptySimTotals();
  private readonly chunkCount: number;
  private readonly slackMs: number;
  private readonly peers: PeerFactory;
  private readonly links: SimLinks;
  private readonly coreEvents: SimCoreEvents;

  constructor(config: Partial<SimConfig>) {
    this.config = { ...DEFAULT_SIM_CONFIG, ...config };
    const c = this.config;
    this.random = seededRandom(mix(c.seed, 0x5eed));
    const rates = c.renditions?.map((r) => r.bitrateBps) ?? [c.bitrateBps];
    rates.forEach((rate, i) => {
      this.channelKeys.push(new Uint8Array(32).map((_, k) => (mix(c.seed, k + 32 * i) & 0xff) as number));
      this.payloads.push(new Uint8Array(Math.round((rate * c.chunkMs) / 8000)));
    });
    this.chunkCount = Math.floor((c.durationS * 1000) / c.chunkMs);
    this.slackMs = c.core.playoutSlackMs ?? DEFAULT_PEER_CORE_CONFIG.playoutSlackMs;
    this.peers = new PeerFactory({ config: c, channelKeys: this.channelKeys, random: this.random, now: () => this.nowMs });
    this.links = new SimLinks({
      queue: this.queue,
      totals: this.totals,
      drain: (p, now) => this.drain(p, now),
      newestSeq: () => this.newestSeq,
      path: new PathModel(c.loss, c.jitterMs, seededRandom(mix(c.seed, 0x1055))),
    });
    this.coreEvents = new SimCoreEvents({
      totals: this.totals,
      lag: this.lag,
      links: this.links,
      slackMs: this.slackMs,
      chunkCount: this.chunkCount,
    });
    const profileRandom = seededRandom(mix(c.seed, 0x9f0f11e));
    const profiles =
      c.renditions === undefined
        ? drawProfiles(
            { peers: c.peers, bitrateBps: c.bitrateBps, rho: c.rho, freeRiders: c.freeRiders, sourceUploadFactor: c.sourceUploadFactor },
            profileRandom,
          )
        : drawAbrProfiles(
            {
              peers: c.peers,
              ladderBps: rates,
              weakShare: c.weakShare,
              freeRiders: c.freeRiders,
              sourceUploadFactor: c.sourceUploadFactor,
            },
            profileRandom,
          );
    const sourceHost = new SimHost(profiles.source);
    for (let i = 0; i < rates.length; i++) this.sources.push(this.peers.newPeer('source', sourceHost, 0, i));
    this.tracker = new SimTracker(this.sources, c.trackerAnswerPeers, this.random);
    this.source = this.sources[0] as SimPeer;
    const joinRandom = seededRandom(mix(c.seed, 0x10e1));
    for (const profile of profiles.viewers) {
      const joinAt = Math.floor(joinRandom() * c.joinWindowS * 1000);
      if (c.renditions !== undefined) {
        const agentIndex = this.agents.push(new AbrAgent(new SimHost(profile), joinAt)) - 1;
        this.queue.push(joinAt, new SimEvent(AGENT_JOIN, this.source, undefined, undefined, agentIndex, 0, undefined));
        continue;
      }
      const p = this.peers.newPeer('viewer', new SimHost(profile), joinAt, 0);
      this.queue.push(p.joinedAtMs, new SimEvent(JOIN, p, undefined, undefined, 0, 0, undefined));
    }
    // Hostile peers join with the audience, on lines like the honest viewers' (src/sim/hostile.ts).
    const hostileRandom = seededRandom(mix(c.seed, 0xbad));
    for (let i = 0; i < Math.round(c.attackers * c.peers); i++) {
      const profile = profiles.viewers[Math.floor(hostileRandom() * profiles.viewers.length)];
      if (profile === undefined) break;
      const p = this.peers.newPeer(
        'viewer',
        new SimHost({ ...profile, freeRider: true }),
        Math.floor(hostileRandom() * c.joinWindowS * 1000),
        0,
        c.attack,
      );
      this.queue.push(p.joinedAtMs, new SimEvent(JOIN, p, undefined, undefined, 0, 0, undefined));
      this.queue.push(p.joinedAtMs + HOSTILE_TICK_MS, new SimEvent(HOSTILE_TICK, p, undefined, undefined, 0, 0, undefined));
    }
    for (const source of this.sources) this.queue.push(0, new SimEvent(JOIN, source, undefined, undefined, 0, 0, undefined));
    for (let seq = 0; seq < this.chunkCount; seq++)
      this.queue.push(seq * c.chunkMs, new SimEvent(PUBLISH, this.source, undefined, undefined, seq, 0, undefined));
    if (c.churnPerMin > 0) this.scheduleLeave(c.joinWindowS * 1000);
  }

  /** Runs the whole stream; `onSecond` is called after every second of virtual time (progress, memory sampling). */
  run(onSecond?: (virtualMs: number) => void): SimResult {
    const endMs = this.config.durationS * 1000;
    const handle = (e: SimEvent, now: number) => this.handle(e, now);
    for (let t = 0; t < endMs; t = Math.min(endMs, t + 1000)) {
      this.queue.run(Math.min(endMs, t + 1000) - 1, handle);
      onSecond?.(t + 1000);
    }
    return this.finish(endMs);
  }

  private handle(e: SimEvent, now: number): void {
    this.totals.events++;
    this.nowMs = now;
    const p = e.peer;
    switch (e.kind) {
      case PUBLISH:
        this.publish(e.x, now);
        return;
      case ARRIVE: {
        // The chunk's last byte reached the receiver's access link: queue it on its download.
        const from = e.other as SimPeer;
        if (!p.alive || (!from.alive && e.x > from.leftAtMs) || !(e.link as SimLink).open) return;
        const done = Math.max(now, p.host.downloadFreeAtMs) + e.bytes / p.profile.downloadBytesPerMs;
        p.host.downloadFreeAtMs = done;
        this.queue.push(done, new SimEvent(DELIVER, p, from, e.msg, 0, e.bytes, undefined, e.link));
        return;
      }
      case DELIVER: {
        const from = e.other as SimPeer;
        if (!p.alive || !(e.link as SimLink).open) return;
        p.core.handleMessage(now, from.id, e.msg as WireMessage);
        this.drain(p, now);
        return;
      }
      case TIMER:
        if (!p.alive || e.x !== p.timerAtMs) return;
        p.timerAtMs = -1;
        p.core.handleTimeout(now);
        this.drain(p, now);
        return;
      case JOIN:
        if (p.agent === undefined && !p.isSource) p.aliveIndex = this.aliveViewers.push(p) - 1;
        if (p.alive) this.wake(p, now);
        return;
      case AGENT_JOIN:
        this.startAgent(this.agents[e.x] as AbrAgent, now);
        return;
      case ABR_TICK: {
        const agent = this.agents[e.x] as AbrAgent;
        agent.session.tick(now);
        this.queue.push(now + agent.session.config.tickMs, new SimEvent(ABR_TICK, this.source, undefined, undefined, e.x, 0, undefined));
        return;
      }
      case WAKE:
        if (p.alive && e.x === p.wakeAtMs) this.wake(p, now);
        return;
      case ANSWER:
        if (p.alive) this.dialFrom(p, e.list as SimPeer[], now);
        return;
      case CONNECT:
        this.connect(p, e.other as SimPeer, e.x, now);
        return;
      case DIAL_FAIL:
        p.membership.dialEnded(candidateOf(e.other as SimPeer));
        return;
      case DISCONNECT:
        this.links.disconnect(p, e.other as SimPeer, now);
        return;
      case LEAVE:
        this.churnOne(now);
        return;
      case UNLIST:
        this.tracker.unlist(p);
        return;
      case HOSTILE_TICK:
        if (!p.alive) return;
        for (const link of p.links.values())
          for (const msg of onTick(p.hostile as NonNullable<SimPeer['hostile']>, e.x, this.newestSeq))
            this.links.send(p, link.other.id, msg, now);
        this.queue.push(now + HOSTILE_TICK_MS, new SimEvent(HOSTILE_TICK, p, undefined, undefined, e.x + 1, 0, undefined));
        return;
    }
  }

  private publish(seq: number, now: number): void {
    const c = this.config;
    this.sources.forEach((source, i) => {
      const chunk: Chunk = signChunk(
        {
          channelKey: this.channelKeys[i] as Uint8Array,
          seq,
          captureTimeMs: now,
          flags: seq % Math.max(1, Math.round(c.keyframeIntervalMs / c.chunkMs)) === 0 ? FLAG_KEYFRAME : 0,
          payload: this.payloads[i] as Uint8Array,
        },
        this.sign,
      );
      this.totals.bytesProduced += chunk.payload.length;
      source.core.publish(now, chunk);
      this.drain(source, now);
    });
    this.totals.chunksPublished++;
  }

  /** After every input: send what the core queued, record its events, re-arm its timer. */
  private drain(p: SimPeer, now: number): void {
    const core = p.core;
    const hostile = p.hostile;
    for (let t = core.pollTransmit(); t !== undefined; t = core.pollTransmit())
      if (hostile === undefined || passesOwnMessage(hostile, t.msg)) this.links.send(p, t.to, t.msg, now);
    for (let e = core.pollEvent(); e !== undefined; e = core.pollEvent()) if (hostile === undefined) this.coreEvents.record(p, e, now);
    const at = core.pollTimeout();
    if (at !== undefined && at !== p.timerAtMs) {
      p.timerAtMs = at;
      this.queue.push(at, new SimEvent(TIMER, p, undefined, undefined, at, 0, undefined));
    }
  }

  /** Membership's turn: an announce if one is due, then its next wake-up. */
  private wake(p: SimPeer, now: number): void {
    if (p.membership.poll(now)) this.announce(p, now);
    this.scheduleWake(p);
  }

  private scheduleWake(p: SimPeer): void {
    const at = p.membership.wakeAtMs();
    if (at === p.wakeAtMs || at === Number.POSITIVE_INFINITY) return;
    p.wakeAtMs = at;
    this.queue.push(at, new SimEvent(WAKE, p, undefined, undefined, at, 0, undefined));
  }

  private announce(p: SimPeer, now: number): void {
    if (!p.isSource) this.tracker.list(p);
    const answer = p.membership.numWant(now) > 0 ? this.tracker.sample(p) : [];
    this.totals.trackerBytes += announceBytes(answer.length);
    const rttMs = 2 * (p.profile.accessLatencyMs + 10);
    this.queue.push(now + rttMs, new SimEvent(ANSWER, p, undefined, undefined, 0, 0, answer));
  }

  private dialFrom(p: SimPeer, answer: SimPeer[], now: number): void {
    const byId = new Map<string, SimPeer>();
    const candidates: PeerCandidate[] = [];
    for (const q of answer)
      if (q !== p) {
        byId.set(q.id, q);
        candidates.push(candidateOf(q));
      }
    for (const c of p.membership.answered(now, this.config.announceIntervalMs, candidates)) {
      const q = byId.get(c.peerId as string) as SimPeer;
      if (!q.alive) {
        this.queue.push(now + this.config.dialTimeoutMs, new SimEvent(DIAL_FAIL, p, q, undefined, 0, 0, undefined));
        continue;
      }
      const latency = drawLinkLatencyMs(p.profile, q.profile, this.random);
      // The TCP handshake takes one round trip before either side can send.
      this.queue.push(now + 2 * latency, new SimEvent(CONNECT, p, q, undefined, latency, 0, undefined));
    }
    this.scheduleWake(p);
  }

  private connect(p: SimPeer, q: SimPeer, latencyMs: number, now: number): void {
    if (!q.alive) {
      this.queue.push(now + this.config.dialTimeoutMs, new SimEvent(DIAL_FAIL, p, q, undefined, 0, 0, undefined));
      return;
    }
    p.membership.dialEnded(candidateOf(q));
    this.links.connect(p, q, latencyMs, now);
  }

  /** The newest chunk the broadcaster has cut (hostile peers aim at the live edge). */
  private get newestSeq(): number {
    return Math.max(0, this.totals.chunksPublished - 1);
  }

  private scheduleLeave(afterMs: number): void {
    const ratePerMs = (this.config.churnPerMin * this.config.peers) / 60_000;
    const gap = -Math.log(1 - this.random()) / ratePerMs;
    this.queue.push(afterMs + gap, new SimEvent(LEAVE, this.source, undefined, undefined, 0, 0, undefined));
  }

  /** One viewer leaves without goodbye and a newcomer with the same capacities joins at once. */
  private churnOne(now: number): void {
    this.scheduleLeave(now);
    if (this.aliveViewers.length === 0) return;
    const victim = this.aliveViewers[Math.floor(this.random() * this.aliveViewers.length)] as SimPeer;
    victim.alive = false;
    victim.leftAtMs = now;
    removeAt(this.aliveViewers, victim.aliveIndex, (q, i) => {
      q.aliveIndex = i;
    });
    const [lo, hi] = this.config.leaveDetectMs;
    for (const link of victim.links.values()) {
      this.queue.push(now + lo + (hi - lo) * this.random(), new SimEvent(DISCONNECT, link.other, victim, undefined, 0, 0, undefined));
    }
    this.queue.push(now + this.config.trackerPeerTtlMs, new SimEvent(UNLIST, victim, undefined, undefined, 0, 0, undefined));
    const newcomer = this.peers.newPeer('viewer', new SimHost(victim.profile), now, 0);
    this.queue.push(now, new SimEvent(JOIN, newcomer, undefined, undefined, 0, 0, undefined));
  }

  /**
   * A viewer on a ladder joins: its session opens the lanes (each a peer in one rendition's
   * swarm, all on the viewer's one access link) and is asked every tick, as a native viewer's.
   */
  private startAgent(agent: AbrAgent, now: number): void {
    const c = this.config;
    const ladder = c.renditions as SimRendition[];
    const agentIndex = this.agents.indexOf(agent);
    const hooks = laneHooks(agent, {
      now: () => this.nowMs,
      openLane: (_, index) => {
        const lane = this.peers.newPeer('viewer', agent.host, this.nowMs, index);
        this.queue.push(this.nowMs, new SimEvent(JOIN, lane, undefined, undefined, 0, 0, undefined));
        return lane;
      },
      closeLane: (lane) => this.leaveGracefully(lane, this.nowMs),
      lag: this.lag,
    });
    agent.session = new AbrSession(ladder, 'auto', now, hooks, { relayLowest: c.relayLowest });
    hooks.lanesChanged?.();
    this.queue.push(now + agent.session.config.tickMs, new SimEvent(ABR_TICK, this.source, undefined, undefined, agentIndex, 0, undefined));
  }

  /** A lane closed by its viewer: its neighbours hear of it after one link delay, the tracker at once. */
  private leaveGracefully(p: SimPeer, now: number): void {
    p.alive = false;
    p.leftAtMs = now;
    for (const link of p.links.values()) {
      this.queue.push(now + link.latencyMs, new SimEvent(DISCONNECT, link.other, p, undefined, 0, 0, undefined));
    }
    p.links.clear();
    this.tracker.unlist(p);
  }

  private finish(endMs: number): SimResult {
    const { config, sources, agents, lag, totals, chunkCount } = this;
    return runResult({ config, sources, all: this.peers.all, agents, lag, totals, chunkCount }, endMs);
  }
}
