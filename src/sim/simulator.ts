// Discrete-event simulation of a whole swarm in virtual time, driving the unchanged PeerCore
// (src/protocol/peer-core.ts) for the source and every viewer, in the manner of quinn-proto's
// test Pair: inputs at virtual times, outputs drained after every input, timers at pollTimeout().
// The simulator owns what a runtime owns (tracker, dialling, links, bandwidth, churn) and never
// decides anything about chunks. No clock and no Math.random: a seed fixes the whole run.

import { AbrSession, type AbrSessionHooks } from '../protocol/abr-session.js';
import { Admission } from '../protocol/admission.js';
import { type Chunk, FLAG_KEYFRAME, signChunk } from '../protocol/chunk.js';
import { MsgType, PEER_ID_BYTES, type WireMessage } from '../protocol/codec.js';
import { Membership, type PeerCandidate } from '../protocol/membership.js';
import { type CoreEvent, DEFAULT_PEER_CORE_CONFIG, MISBEHAVIOUR_GROUPS, PeerCore, type PeerId } from '../protocol/peer-core.js';
import { type RandomFn, seededRandom } from '../protocol/random.js';
import { tcpWireBytes } from '../transport/framing.js';
import { EventQueue } from './event-queue.js';
import { fakeSigner, fakeVerify } from './fake-crypto.js';
import { type AttackKind, HOSTILE_DIAL_TARGET, HOSTILE_TICK_MS, onLinkOpen, onTick, passesOwnMessage } from './hostile.js';
import { MsHistogram } from './metrics.js';
import { drawAbrProfiles, drawLinkLatencyMs, drawProfiles } from './network.js';
import { DEFAULT_SIM_CONFIG, type PeerResult, type SimConfig, type SimRendition, type SimResult, type SimTotals } from './sim-config.js';
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
  SimPeer,
  TIMER,
  UNLIST,
  WAKE,
} from './sim-peer.js';
import { agentResult, peerResult } from './sim-results.js';
import { announceBytes, SimTracker } from './sim-tracker.js';
import { messageWireBytes } from './wire-size.js';

// The scenario and result types are part of this module's interface.
export * from './sim-config.js';

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
  private readonly all: SimPeer[] = [];
  /** Viewers currently in the swarm (for churn). */
  private readonly aliveViewers: SimPeer[] = [];
  private readonly agents: AbrAgent[] = [];
  private nowMs = 0;
  private readonly lag = new MsHistogram(120_000);
  private readonly totals: SimTotals = {
    sourceWireBytesOut: 0,
    sourceMediaBytesOut: 0,
    mediaBytesDelivered: 0,
    duplicateBytes: 0,
    controlBytes: 0,
    trackerBytes: 0,
    freeRiderMediaBytesOut: 0,
    bytesProduced: 0,
    events: 0,
    misbehaved: 0,
    misbehavedReasons: {},
    hostileDropped: 0,
    chunksPublished: 0,
  };
  private readonly chunkCount: number;
  private readonly slackMs: number;
  private nextIndex = 0;

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
    for (let i = 0; i < rates.length; i++) this.sources.push(this.newPeer('source', sourceHost, 0, i));
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
      const p = this.newPeer('viewer', new SimHost(profile), joinAt, 0);
      this.queue.push(p.joinedAtMs, new SimEvent(JOIN, p, undefined, undefined, 0, 0, undefined));
    }
    // Hostile peers join with the audience, on lines like the honest viewers' (src/sim/hostile.ts).
    const hostileRandom = seededRandom(mix(c.seed, 0xbad));
    for (let i = 0; i < Math.round(c.attackers * c.peers); i++) {
      const profile = profiles.viewers[Math.floor(hostileRandom() * profiles.viewers.length)];
      if (profile === undefined) break;
      const p = this.newPeer(
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

  private newPeer(role: 'source' | 'viewer', host: SimHost, joinedAtMs: number, rendition: number, hostile?: AttackKind): SimPeer {
    const profile = host.profile;
    const index = this.nextIndex++;
    // A broadcaster with a ladder splits its upload between the renditions by their rates, as
    // startBroadcast does, so a busy high rendition cannot starve the low one.
    const rates = this.config.renditions?.map((r) => r.bitrateBps);
    const share = role === 'source' && rates !== undefined ? (rates[rendition] as number) / rates.reduce((a, b) => a + b, 0) : 1;
    const localPeerId = new Uint8Array(PEER_ID_BYTES);
    new DataView(localPeerId.buffer).setUint32(0, index);
    const core = new PeerCore(
      // The runtime grants the core what the simulated user grants: the link's upload as a cap,
      // and no upload at all for a free rider.
      { ...this.config.core, role, uploadEnabled: !profile.freeRider, uploadLimitBps: profile.uploadBytesPerMs * 8000 * share },
      {
        channelKey: this.channelKeys[rendition] as Uint8Array,
        localPeerId,
        verify: fakeVerify,
        random: seededRandom(mix(this.config.seed, index + 1)),
        // Simulated links cost what native TCP links cost (sim/wire-size.ts).
        wireBytes: tcpWireBytes,
      },
    );
    const p = new SimPeer(role === 'source' ? (rendition === 0 ? 's' : `s${rendition}`) : `v${index}`, core, host, joinedAtMs, rendition);
    p.isSource = role === 'source';
    p.hostile = hostile;
    // The policy native nodes run, reading the simulated links and bans. A hostile peer dials
    // as many as it can, full or not.
    p.membership = new Membership(
      { role, dialTarget: hostile === undefined ? this.config.dialTarget : HOSTILE_DIAL_TARGET },
      {
        core,
        linkCount: () => p.links.size,
        linkedTo: (id) => p.links.has(id),
        accepts: (id) =>
          hostile !== undefined ||
          (core.acceptsNeighbour() && (id === undefined || p.admission?.refusal(this.nowMs, id, id) === undefined)),
      },
      this.random,
    );
    this.all.push(p);
    return p;
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
        this.disconnect(p, e.other as SimPeer, now);
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
            this.send(p, link.other.id, msg, now);
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
      if (hostile === undefined || passesOwnMessage(hostile, t.msg)) this.send(p, t.to, t.msg, now);
    for (let e = core.pollEvent(); e !== undefined; e = core.pollEvent()) if (hostile === undefined) this.onCoreEvent(p, e, now);
    const at = core.pollTimeout();
    if (at !== undefined && at !== p.timerAtMs) {
      p.timerAtMs = at;
      this.queue.push(at, new SimEvent(TIMER, p, undefined, undefined, at, 0, undefined));
    }
  }

  /**
   * Control messages go out ahead of queued media (a runtime keeps its own send queue and
   * writes control frames first), so they cost only latency. Chunks wait in the sender's
   * upload queue, serialized at its capacity, then in the receiver's download queue.
   */
  private send(p: SimPeer, to: PeerId, msg: WireMessage, now: number): void {
    const link = p.links.get(to);
    if (link === undefined) return;
    const bytes = messageWireBytes(msg, link.txSeq);
    if (msg.type === MsgType.ChunkData) {
      const media = msg.chunk.payload.length;
      if (p.profile.uploadBytesPerMs === 0) {
        // The core was told this peer uploads nothing; if it sends anyway, count it and drop it.
        this.totals.freeRiderMediaBytesOut += media;
        return;
      }
      p.mediaBytesOut += media;
      p.wireBytesOut += bytes;
      if (p.profile.freeRider) this.totals.freeRiderMediaBytesOut += media;
      this.totals.controlBytes += bytes - media;
      const finish = Math.max(now, p.host.uploadFreeAtMs) + bytes / p.profile.uploadBytesPerMs;
      p.host.uploadFreeAtMs = finish;
      this.queue.push(finish + link.latencyMs, new SimEvent(ARRIVE, link.other, p, msg, finish, bytes, undefined, link.remote));
      return;
    }
    p.wireBytesOut += bytes;
    // What hostile peers send is the attack, not the protocol's overhead.
    if (p.hostile === undefined) this.totals.controlBytes += bytes;
    this.queue.push(now + link.latencyMs, new SimEvent(DELIVER, link.other, p, msg, 0, bytes, undefined, link.remote));
  }

  private onCoreEvent(p: SimPeer, e: CoreEvent, now: number): void {
    const agent = p.agent;
    if (agent !== undefined && (e.type === 'play' || e.type === 'skip')) {
      // A lane of a viewer on a ladder: its session decides what reaches the player.
      if (e.type === 'play') agent.session.played(p.rendition, e.chunk, now);
      else agent.session.skipped(p.rendition, e.seq);
      return;
    }
    switch (e.type) {
      case 'play': {
        if (p.firstPlayMs < 0) {
          p.firstPlayMs = now;
          p.startSeq = e.chunk.seq;
          // The core's playout: deadline = capture time + (first play - first capture + slack).
          p.offsetMs = now - e.chunk.captureTimeMs + this.slackMs;
          p.onTime = new Uint8Array(Math.max(0, this.chunkCount - p.startSeq));
        }
        this.lag.add(e.lagMs);
        if (!e.late && p.onTime !== undefined) p.onTime[e.chunk.seq - p.startSeq] = 1;
        return;
      }
      case 'misbehaved': {
        // Honest simulated peers never misbehave: without hostile peers, a report is a core bug.
        this.totals.misbehaved++;
        if (p.links.get(e.peer)?.other.hostile !== undefined) this.totals.hostileDropped++;
        const reason = MISBEHAVIOUR_GROUPS[e.code];
        this.totals.misbehavedReasons[reason] = (this.totals.misbehavedReasons[reason] ?? 0) + 1;
        const link = p.links.get(e.peer);
        if (link !== undefined) {
          // As CoreDriver.punish: drop it, and refuse its key and its address (one per peer here).
          p.admission ??= new Admission();
          p.admission.ban(now, link.other.id, link.other.id);
          this.disconnect(p, link.other, now);
          this.disconnect(link.other, p, now);
        }
        return;
      }
      default:
        return;
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
    if (!p.alive || p.links.has(q.id) || !p.core.acceptsNeighbour()) return;
    // The dialled side decides as CoreDriver.refuseIncoming: bans first, then, when full, the
    // neighbour idle for longest makes room.
    if (q.admission?.refusal(now, p.id, p.id) !== undefined || p.admission?.refusal(now, q.id, q.id) !== undefined) return;
    if (!q.core.acceptsNeighbour()) {
      const idle = q.core.idleNeighbour(now);
      const gone = idle === undefined ? undefined : q.links.get(idle)?.other;
      if (gone === undefined) return;
      this.disconnect(q, gone, now);
      this.disconnect(gone, q, now);
      if (!q.core.acceptsNeighbour()) return;
    }
    const pq: SimLink = { other: q, open: true, remote: undefined, latencyMs, txSeq: { seq: 0 } };
    const qp: SimLink = { other: p, open: true, remote: pq, latencyMs, txSeq: { seq: 0 } };
    pq.remote = qp;
    p.links.set(q.id, pq);
    q.links.set(p.id, qp);
    p.core.handleConnected(now, q.id);
    q.core.handleConnected(now, p.id);
    this.drain(p, now);
    this.drain(q, now);
    for (const [a, b] of [
      [p, q],
      [q, p],
    ] as const)
      if (a.hostile !== undefined) for (const msg of onLinkOpen(a.hostile, this.newestSeq)) this.send(a, b.id, msg, now);
  }

  /** The newest chunk the broadcaster has cut (hostile peers aim at the live edge). */
  private get newestSeq(): number {
    return Math.max(0, this.totals.chunksPublished - 1);
  }

  private disconnect(p: SimPeer, gone: SimPeer, now: number): void {
    const link = p.links.get(gone.id);
    if (!p.alive || link === undefined) return;
    link.open = false;
    p.links.delete(gone.id);
    p.core.handleDisconnected(now, gone.id);
    this.drain(p, now);
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
    const newcomer = this.newPeer('viewer', new SimHost(victim.profile), now, 0);
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
    const hooks: AbrSessionHooks = {
      open: (index) => {
        const lane = this.newPeer('viewer', agent.host, this.nowMs, index);
        lane.agent = agent;
        agent.lanes.set(index, lane);
        this.queue.push(this.nowMs, new SimEvent(JOIN, lane, undefined, undefined, 0, 0, undefined));
        return lane.core;
      },
      close: (index) => {
        const lane = agent.lanes.get(index);
        if (lane === undefined) return;
        agent.lanes.delete(index);
        agent.closedBytesOut += lane.mediaBytesOut;
        this.leaveGracefully(lane, this.nowMs);
      },
      output: (e) => {
        if (e.type !== 'play') return;
        if (agent.firstPlayMs < 0) agent.firstPlayMs = this.nowMs;
        this.lag.add(this.nowMs - e.chunk.captureTimeMs);
      },
      // The lanes share the viewer's uplink, as a native viewer's share its --upload-limit.
      lanesChanged: () => {
        if (agent.session === undefined) return;
        const cap = agent.host.profile.uploadBytesPerMs * 8000;
        for (const [index, share] of agent.session.uploadShares()) {
          agent.lanes.get(index)?.core.setUploadPolicy(!agent.host.profile.freeRider, cap * share);
        }
      },
    };
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
    const peers: PeerResult[] = [];
    // The sources share one host: its wire and media bytes are counted on each lane.
    for (const source of this.sources) {
      this.totals.sourceWireBytesOut += source.wireBytesOut;
      this.totals.sourceMediaBytesOut += source.mediaBytesOut;
    }
    for (const p of this.all) {
      if (p.isSource || p.hostile !== undefined) continue;
      const stats = p.core.getStats();
      this.totals.mediaBytesDelivered += stats.mediaBytesIn;
      this.totals.duplicateBytes += stats.duplicateBytes;
      if (p.agent !== undefined) continue;
      peers.push(peerResult(p, endMs, this.chunkCount, this.config.chunkMs));
    }
    for (const agent of this.agents) if (agent.session !== undefined) peers.push(agentResult(agent, endMs));
    return {
      config: this.config,
      peers,
      lag: this.lag,
      totals: { ...this.totals, misbehavedReasons: { ...this.totals.misbehavedReasons } },
    };
  }
}

/** A simulated peer as a tracker names it (its name stands for its address). */
function candidateOf(q: SimPeer): PeerCandidate {
  return { peerId: q.id, role: q.isSource ? 'source' : 'viewer', address: q.id, port: 0 };
}

/** Derives a 32-bit seed from a seed and a stream number (splitmix-style). */
export function mix(seed: number, n: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(n >>> 0, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
