// The download side of a PeerCore (viewers): what each neighbour offers, which chunk to ask of
// whom and when (earliest deadline first, ./scheduler.ts), what to do with a Busy, a Reject or
// a request that times out, the last-resort fetches from the HTTP origin, playback
// (./playout.ts), and starting over when the broadcaster restarts.

import { type Chunk, FLAG_KEYFRAME } from './chunk.js';
import { type HaveMsg, haveRoomMs, MsgType, NO_SEQ } from './codec.js';
import type { CoreState } from './core-state.js';
import { DEFAULT_SERVICE_MS, type Neighbour } from './neighbour.js';
import { requestOverdue, strike } from './neighbour-rules.js';
import { Playout } from './playout.js';
import { type SchedulerInput, type SchedulerNeighbour, scheduleRequests } from './scheduler.js';
import { chooseStartSeq, offeredBy } from './start-choice.js';
import { BUSY_RETRY_MAX_MS } from './upload-pacer.js';

/** A viewer offered only stale chunks says so again at most this often. */
const NOT_LIVE_REPEAT_MS = 30_000;

export class Fetching {
  playout: Playout;
  /** When the newest verified chunk was stored (viewers): silence is how a restart shows. */
  lastNewChunkAtMs: number | undefined;
  /** When playback last skipped a chunk or played one late. */
  lastMissAtMs: number | undefined;
  /** When the last 'not-live' event went out. */
  private notLiveSaidAtMs = Number.NEGATIVE_INFINITY;
  private readonly originAsked = new Set<number>();
  /** Scratch space of schedule(), reused: it runs after most messages. */
  private readonly schedulerViews: SchedulerNeighbour[] = [];
  private readonly isSettled = (s: number) => this.state.chunks.has(s) || this.state.requests.has(s);
  private readonly firstSeenMs = (s: number) => this.state.chunks.firstSeenMs(s);
  private readonly deadlineMs = (s: number) => this.playout.deadlineMs(s);
  /** A missing chunk on its way: asked for, or offered by a neighbour we can ask. */
  private readonly awaited = (s: number) => {
    return this.state.requests.has(s) || offeredBy(this.state.neighbourList, s);
  };

  /** The scheduler's input, reused: a plan runs after most messages, and a new object each time was garbage. */
  private readonly planInput: { -readonly [K in keyof SchedulerInput]: SchedulerInput[K] };

  constructor(private readonly state: CoreState) {
    this.playout = this.newPlayout();
    this.planInput = {
      nowMs: 0,
      fromSeq: 0,
      toSeq: 0,
      isSettled: this.isSettled,
      firstSeenMs: this.firstSeenMs,
      deadlineMs: this.deadlineMs,
      neighbours: this.schedulerViews,
      maxPendingPerPeer: 0,
      maxNewRequests: 64,
      sourceGraceMs: 0,
      urgentMs: 0,
      defaultServiceMs: DEFAULT_SERVICE_MS,
      random: state.components.random,
    };
  }

  /** Keeps a new chunk (ours as the source, or verified). */
  store(nowMs: number, chunk: Chunk): void {
    const chunks = this.state.chunks;
    if (chunk.seq > chunks.newest) this.lastNewChunkAtMs = nowMs;
    chunks.add(chunk);
    const start = chunks.start();
    for (const seq of this.originAsked) if (seq < start) this.originAsked.delete(seq);
  }

  /**
   * A HAVE that says its sender's queue is full leaves the sender alone until it has room, as a
   * Busy would (no sooner than busyFloorMs). At 1,000 peers x 30 s, seeds 1-4: 6-9% fewer
   * events, continuity and lag within the seeds' spread (docs/simulator.md).
   */
  onHave(nowMs: number, n: Neighbour, msg: HaveMsg): void {
    const roomMs = haveRoomMs(msg.flags);
    if (roomMs > 0) n.busyUntilMs = Math.max(n.busyUntilMs, nowMs + Math.max(roomMs, this.state.config.busyFloorMs));
    this.state.noteHas(nowMs, n, msg.seq);
    if ((msg.flags & FLAG_KEYFRAME) !== 0 && (n.newestKeySeq === NO_SEQ || msg.seq > n.newestKeySeq)) n.newestKeySeq = msg.seq;
    this.scheduleOne(nowMs, msg.seq);
  }

  onReject(nowMs: number, n: Neighbour, seq: number): void {
    const s = this.state;
    if (s.requests.remove(n, seq) && n.holds.has(seq)) {
      // It advertised the chunk, we asked, it refused: a broken promise.
      n.holds.delete(seq);
      const out = strike(n, 'refuses-advertised', s.config);
      if (out !== undefined) {
        s.misbehaved(n, out);
        return;
      }
    }
    this.scheduleOne(nowMs, seq);
  }

  /**
   * Not a broken promise: it holds the chunk but will not send it now. Ask someone else, and
   * leave it alone until it expects room (its hint, spread so the askers it turned away come
   * back one by one: a fixed 300 ms left uploads idle that had room sooner, and brought a herd
   * back to those that did not). It still holds the chunk and may be the one with room once
   * the backoff is over (forgetting that left idle uploads idle). The source too: a capped
   * broadcaster answers a newcomer's first burst Busy, and forgotten, a chunk only it held was
   * offered by nobody and skipped. Except a newcomer's start chunk: a busy source is forgotten
   * for it, so the start moves to a keyframe other viewers offer (waiting on a flooded source,
   * newcomers of a flash crowd took 6 s to start in meshtv bench).
   */
  onBusy(nowMs: number, n: Neighbour, seq: number, retryMs: number): void {
    if (this.state.requests.remove(n, seq)) {
      n.busyUntilMs = nowMs + this.busyBackoff(n, retryMs);
      n.lastActiveMs = nowMs;
    }
    if (n.role === 'source' && !this.playout.isStarted && seq === this.playout.nextSeq) n.holds.delete(seq);
    this.scheduleOne(nowMs, seq);
  }

  /** The timer's look at one neighbour's requests: forgets old Cancels, gives up overdue requests. */
  expireRequests(nowMs: number, n: Neighbour): void {
    const s = this.state;
    if (n.cancelled.size > 0) for (const [seq, at] of n.cancelled) if (nowMs - at > s.config.requestTimeoutMs) n.cancelled.delete(seq);
    if (n.pending.size === 0) return;
    for (const [seq, sentAt] of n.pending) {
      if (!requestOverdue(sentAt, nowMs, s.config)) continue;
      s.requests.remove(n, seq);
      n.holds.delete(seq);
      // Taken back like a request answered elsewhere: a slow holder need not send it, and a
      // copy that still comes is a duplicate, not a second strike for a replay (at 10,000
      // peers one honest viewer was dropped so).
      n.cancelled.set(seq, nowMs);
      s.send(nowMs, n.peer, { type: MsgType.Cancel, seq });
      const out = strike(n, 'withholds-advertised', s.config);
      if (out !== undefined) {
        s.misbehaved(n, out);
        return;
      }
    }
  }

  /** The chunk came (or playback skipped it): take back the requests for it still out. */
  cancelRequests(nowMs: number, seq: number): void {
    const s = this.state;
    for (const o of s.neighbourList) {
      if (!s.requests.remove(o, seq)) continue;
      o.cancelled.set(seq, nowMs);
      s.send(nowMs, o.peer, { type: MsgType.Cancel, seq });
    }
  }

  schedule(nowMs: number): void {
    if (this.state.config.role !== 'viewer') return;
    if (!this.playout.isStarted) this.chooseStart();
    this.advancePlayout(nowMs);
    const from = this.playout.nextSeq;
    if (from === undefined) return;
    this.requestPlan(nowMs, Math.max(from, this.state.chunks.start()), this.state.chunks.horizon());
    if (this.state.config.originFallback && this.playout.isStarted) this.askOrigin(nowMs, from);
  }

  /**
   * After a HAVE, Busy or Reject about one chunk, only that chunk can have a new holder to ask:
   * plan it alone (a full schedule after every such message was most of a swarm's CPU time).
   */
  private scheduleOne(nowMs: number, seq: number): void {
    if (this.state.config.role !== 'viewer' || !this.playout.isStarted) {
      this.schedule(nowMs);
      return;
    }
    const from = this.playout.nextSeq as number;
    const chunks = this.state.chunks;
    if (seq < Math.max(from, chunks.start()) || seq > chunks.horizon() || chunks.has(seq)) return;
    if (this.state.requests.has(seq)) return;
    this.requestPlan(nowMs, seq, seq);
  }

  /** Asks neighbours for the chunks in [fromSeq, toSeq] that the scheduler picks. */
  private requestPlan(nowMs: number, fromSeq: number, toSeq: number): void {
    const config = this.state.config;
    const neighbours = this.schedulerViews;
    neighbours.length = 0;
    // Planning one chunk (after a HAVE), only its holders matter: the scheduler skips the rest.
    const one = fromSeq === toSeq ? fromSeq : undefined;
    for (const n of this.state.neighbourList)
      if (n.role !== undefined && !n.closing && n.busyUntilMs <= nowMs && (one === undefined || n.holds.has(one))) neighbours.push(n);
    if (neighbours.length === 0) return;
    const input = this.planInput;
    input.nowMs = nowMs;
    input.fromSeq = fromSeq;
    input.toSeq = toSeq;
    input.maxPendingPerPeer = config.maxPendingPerPeer;
    input.sourceGraceMs = config.sourceGraceMs;
    input.urgentMs = config.urgentMs;
    const plan = scheduleRequests(input);
    // Only a viewer in its first urgentJoinMs of playback flags requests urgent.
    const joining = nowMs - (this.playout.startedAtMs ?? nowMs) < config.urgentJoinMs;
    for (const { peer, seq } of plan) {
      this.state.requests.add(this.state.neighbours.get(peer) as Neighbour, seq, nowMs);
      const deadline = this.playout.deadlineMs(seq);
      const urgent = joining && deadline !== undefined && deadline - nowMs < config.urgentRequestMs;
      this.state.send(nowMs, peer, urgent ? { type: MsgType.Request, seq, urgent } : { type: MsgType.Request, seq });
    }
  }

  /** Last resort: chunks due very soon that no neighbour offers or is sending. */
  private askOrigin(nowMs: number, from: number): void {
    const s = this.state;
    // Not bounded by what neighbours advertise: with no neighbour at all, a chunk whose deadline
    // is this close was captured long enough ago that the origin holds it.
    for (let seq = from; seq <= from + s.config.maxAheadChunks; seq++) {
      if (s.chunks.has(seq) || s.requests.has(seq) || this.originAsked.has(seq) || offeredBy(s.neighbourList, seq)) continue;
      // While neighbours keep bringing chunks, one at the edge of what arrived is most likely
      // on its way (pushed chunks come unannounced): only a hole behind a newer chunk is worth
      // the origin's upload. On a slow link, fetching the edge too doubled the traffic and made
      // everything late. Once nothing has come for originUrgentMs, the edge is asked too.
      const flowing = nowMs - (this.lastNewChunkAtMs ?? Number.NEGATIVE_INFINITY) < s.config.originUrgentMs;
      if (s.neighbourList.length > 0 && flowing && seq >= s.chunks.newest) break;
      const deadline = this.playout.deadlineMs(seq);
      if (deadline === undefined || deadline - nowMs > s.config.originUrgentMs) break;
      this.originAsked.add(seq);
      s.events.push({ type: 'origin-fetch', seq });
    }
  }

  /**
   * Joins at the newest keyframe chunk the neighbours offer (start-choice.ts); past a start
   * found too old to play, only a newer one.
   */
  private chooseStart(): void {
    const stale = this.playout.staleStart?.seq;
    const current = this.playout.nextSeq;
    const seq = chooseStartSeq(current === stale ? undefined : current, this.state.neighbourList, this.state.chunks);
    if (seq !== undefined && (stale === undefined || seq > stale)) this.playout.chooseStart(seq);
  }

  advancePlayout(nowMs: number): void {
    const s = this.state;
    if (s.config.role !== 'viewer') return;
    const staleBefore = this.playout.staleStart;
    const actions = this.playout.advance(nowMs, (seq) => s.chunks.get(seq), s.chunks.newest, this.awaited);
    const stale = this.playout.staleStart;
    // Said once, and again at most every NOT_LIVE_REPEAT_MS while newer stale starts come.
    if (stale !== undefined && stale !== staleBefore && !(nowMs - this.notLiveSaidAtMs < NOT_LIVE_REPEAT_MS)) {
      this.notLiveSaidAtMs = nowMs;
      s.events.push({ type: 'not-live', seq: stale.seq, ageMs: stale.ageMs });
    }
    for (const a of actions) {
      if (a.type === 'play') {
        s.stats.chunksPlayed++;
        s.stats.lastLagMs = a.lagMs;
        if (a.late) {
          this.lastMissAtMs = nowMs;
          s.stats.chunksLate++;
          s.stats.mediaMsMissed += this.playout.chunkMs;
        } else s.stats.mediaMsPlayed += this.playout.chunkMs;
      } else {
        // A request still out for a skipped chunk would only spend the holder's upload on a
        // copy nobody plays (3 per mille of what viewers received at rho 1.05).
        if (s.requests.has(a.seq)) this.cancelRequests(nowMs, a.seq);
        this.lastMissAtMs = nowMs;
        s.stats.chunksSkipped++;
        s.stats.mediaMsMissed += a.mediaMs;
      }
      s.events.push(a);
    }
  }

  /**
   * A restarted broadcaster numbers its chunks from its clock, far past where it stopped, and
   * our window ignores claims that far ahead. When nothing new has come for a while and a
   * neighbour offers a keyframe chunk beyond the window, the channel restarted: start over
   * from there, as a newcomer would (the new chunks are verified like any others, so a liar
   * can at most restart a stream that had already stopped).
   */
  detectRestart(nowMs: number): void {
    const s = this.state;
    if (s.config.role !== 'viewer' || !this.playout.isStarted || this.lastNewChunkAtMs === undefined) return;
    if (nowMs - this.lastNewChunkAtMs < s.config.restartSilenceMs) return;
    let ahead = false;
    for (const n of s.neighbourList) {
      if (!n.closing && n.newestKeySeq !== NO_SEQ && s.chunks.beyondReach(n.newestKeySeq)) ahead = true;
    }
    if (ahead) this.restart();
  }

  /**
   * Whether a verified chunk belongs to a new run of the broadcaster that playback has not
   * reached: flagged as a run's first chunk, or numbered far past our window (its numbers jumped).
   */
  startsNewRun(chunk: Chunk): boolean {
    if (!this.playout.isStarted) return false;
    return this.state.chunks.beyondReach(chunk.seq) || this.playout.beginsNewRun(chunk);
  }

  /** Starts over as a newcomer: the channel's numbering jumped (a broadcaster restart). */
  restart(): void {
    const s = this.state;
    s.chunks.clear();
    this.originAsked.clear();
    this.lastNewChunkAtMs = undefined;
    s.forgetSourceHolds();
    for (const n of s.neighbourList) {
      s.requests.removeAll(n);
      n.holds.clear();
    }
    // Back on a restarted broadcaster, the swarm is formed already: resume at once.
    this.playout = this.newPlayout(0);
    s.events.push({ type: 'restarted' });
  }

  private newPlayout(minStartLagMs = this.state.config.minStartLagMs): Playout {
    const c = this.state.config;
    return new Playout({
      slackMs: c.playoutSlackMs,
      nominalChunkMs: c.nominalChunkMs,
      maxLagMs: c.maxPlayoutLagMs,
      minStartLagMs,
      maxStartAgeMs: c.maxStartAgeMs,
    });
  }

  /**
   * How long to leave a neighbour alone after its Busy: until it expects room, spread over up to
   * twice that, so the askers it turned away do not all come back at the same moment. The
   * source, the last resort, no sooner than busyBackoffMs: asked back at its hint, its Busy
   * answers alone came to 4% of a copy of the stream at 10,000 peers (S 1.52 -> 1.57). A
   * viewer no sooner than busyFloorMs (see PeerCoreConfig).
   */
  private busyBackoff(n: Neighbour, retryMs: number): number {
    const c = this.state.config;
    const floor = n.role === 'source' ? c.busyBackoffMs : c.busyFloorMs;
    const hint = Math.max(floor, Math.min(BUSY_RETRY_MAX_MS, retryMs));
    return hint * (1 + this.state.components.random());
  }
}
