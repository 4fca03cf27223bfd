// Whom a peer dials, how many, and when it asks a tracker for more: one policy for the native
// node, the browser tab and the simulator, so that the simulator measures the policy that ships.
// Sans I/O like the core: time is an argument, randomness is injected, and nothing here keeps a
// timer or a socket. A runtime feeds it tracker answers, dial results and its own state (links,
// bans, the core's supply signals, through MembershipView), and does what it says: announce at
// `wakeAtMs` when `poll` says so, dial the candidates `answered` returns.
//
// Who may stay linked (bans, caps per address, eviction of idle neighbours) is Admission's and
// the core's; this is only the outgoing side.

/** The core's signals the policy reads (PeerCore has them all). */
export interface SupplySignals {
  /** Playback missed media lately: the neighbours do not bring the stream in time. */
  supplyShort(nowMs: number): boolean;
  /** A neighbour said it is the channel's source. */
  hasSourceNeighbour(): boolean;
  /** Playback started, and when the last new chunk came (undefined: none yet). */
  getStats(): { started: boolean; lastChunkAtMs: number | undefined };
}

/** What the runtime tells the policy of its links when asked. */
export interface MembershipView {
  readonly core: SupplySignals;
  /** Links up, in any state. */
  linkCount(): number;
  /** A link to this peer id is up or being set up. */
  linkedTo(peerId: string): boolean;
  /** A link to this peer (by the id a tracker vouched for, or only its address) would be taken now: room in the core, no ban. */
  accepts(peerId: string | undefined, address: string | undefined): boolean;
}

/** A peer a tracker or the DHT named. */
export interface PeerCandidate {
  /** Undefined: known only by its address (the DHT). */
  peerId: string | undefined;
  role: 'source' | 'viewer';
  address: string;
  port: number;
}

/** The settings of Membership, each with its unit and reason. */
export interface MembershipConfig {
  role: 'source' | 'viewer';
  /**
   * Neighbours this peer dials up to; it still accepts up to the core's maximum. Browsers use
   * fewer (each WebRTC link costs a tab more than a TCP link costs a process). @default 8
   */
  dialTarget: number;
  /**
   * Dial the broadcaster only, and ask for nobody else: an edge that re-serves the stream (the
   * benchmark's HTTP fan-out) must not eat the swarm's upload. @default false
   */
  sourceOnly: boolean;
  /** Peers asked of a tracker when there is room to dial: a tracker's usual most. @default 30 */
  wantPeers: number;
  /** Nothing new for this long while playing, with no link to the source: starved. @default 1.5 s */
  starvedMs: number;
  /**
   * Between asks while the link to the source is lost: its former neighbours (at most its
   * maxNeighbours) find a restarted broadcaster within about this. @default 1 s
   */
  sourceLostRetryMs: number;
  /**
   * Between asks of a starved viewer that had no link to the source: this plus up to as much
   * again at random, so that thousands of starved viewers do not ask in step. @default 2 s
   */
  starvedRetryMs: number;
  /** How long one silence is searched for, in asks as above, before the regular announces resume. @default 30 s */
  searchMs: number;
  /** How often the core's signals are looked at (the runtime's wake-up while nothing else is due). @default 250 ms */
  checkMs: number;
  /** After the n-th failed announce in a row, the next in n times this, up to maxRetryMs. @default 2 s */
  retryStepMs: number;
  /** @default 30 s */
  maxRetryMs: number;
}

export const DEFAULT_MEMBERSHIP_CONFIG: MembershipConfig = {
  role: 'viewer',
  dialTarget: 8,
  sourceOnly: false,
  wantPeers: 30,
  starvedMs: 1500,
  sourceLostRetryMs: 1000,
  starvedRetryMs: 2000,
  searchMs: 30_000,
  checkMs: 250,
  retryStepMs: 2000,
  maxRetryMs: 30_000,
};

/** Peers dial this many times their usual number of neighbours while a viewer's supply is short. */
export const SHORT_SUPPLY_DIAL_FACTOR = 2;

export class Membership {
  readonly config: MembershipConfig;
  /** Dials in progress, by peer id (or address, for a candidate without one). */
  private readonly dialing = new Set<string>();
  private nextAnnounceMs = 0;
  private announcing = false;
  private failures = 0;
  /** A search for the source in progress: since when, and how often it asks. */
  private search: { sinceMs: number; periodMs: number } | undefined;
  /** The last ask of a search (the first ask of a new search comes at once, unless one was just made). */
  private lastSearchAskMs = Number.NEGATIVE_INFINITY;
  private hadSource = false;
  /** The silence already searched for (its last chunk's time): not searched again. */
  private searchedSilence: number | undefined;
  private lastCheckMs = Number.NEGATIVE_INFINITY;

  constructor(
    config: Partial<MembershipConfig>,
    private readonly view: MembershipView,
    private readonly random: () => number,
  ) {
    this.config = { ...DEFAULT_MEMBERSHIP_CONFIG, ...config };
  }

  /** Announces that failed in a row (0: the last one was answered). */
  get trackerFailures(): number {
    return this.failures;
  }

  /**
   * When the runtime should call poll() next (Infinity: not before an announce in flight ends,
   * when it calls answered() or failed() and asks again).
   */
  wakeAtMs(): number {
    let at = Number.POSITIVE_INFINITY;
    if (this.config.role === 'viewer') at = this.lastCheckMs + this.config.checkMs;
    if (this.announcing) return at;
    at = Math.min(at, this.nextAnnounceMs);
    if (this.search !== undefined) at = Math.min(at, this.lastSearchAskMs + this.search.periodMs);
    return at;
  }

  /**
   * Looks at the core's signals; true when an announce is due now. The runtime then sends one
   * with numWant() peers asked for, and reports answered() or failed().
   */
  poll(nowMs: number): boolean {
    if (this.config.role === 'viewer' && nowMs - this.lastCheckMs >= this.config.checkMs) {
      this.lastCheckMs = nowMs;
      this.watchSource(nowMs);
    }
    if (this.announcing) return false;
    if (nowMs >= this.nextAnnounceMs) return this.startAnnounce();
    if (this.search !== undefined && nowMs - this.lastSearchAskMs >= this.search.periodMs) {
      this.lastSearchAskMs = nowMs;
      return this.startAnnounce();
    }
    return false;
  }

  /** An announce the runtime sends outside the schedule (at start, or before a restart): counted as in flight. */
  announceNow(): void {
    this.startAnnounce();
  }

  /** Peers to ask a tracker for: only with room to dial them (a full list to a full node was most of its tracker traffic). */
  numWant(nowMs: number): number {
    return this.roomToDial(nowMs) || this.starvedOfSource(nowMs) ? this.config.wantPeers : 0;
  }

  /**
   * A tracker answered: the next announce in its interval. Returns the candidates to dial now
   * (each counted as dialling until dialEnded).
   */
  answered(nowMs: number, intervalMs: number, peers: readonly PeerCandidate[]): PeerCandidate[] {
    this.announcing = false;
    this.failures = 0;
    this.nextAnnounceMs = nowMs + intervalMs;
    const dial: PeerCandidate[] = [];
    // A viewer starved since the broadcaster went away reaches for the (new) broadcaster even
    // with every slot taken: its neighbours, starved too, have nothing to give it, and a
    // restarted broadcaster dials only a few viewers.
    if (this.starvedOfSource(nowMs))
      for (const p of peers)
        if (p.role === 'source' && this.dialable(p) && this.view.accepts(undefined, undefined)) this.startDial(p, dial);
    for (const p of peers) {
      if (!this.roomToDial(nowMs) || !this.view.accepts(undefined, undefined)) break;
      if (this.dialable(p)) this.startDial(p, dial);
    }
    return dial;
  }

  /** No tracker answered: the next try backs off (a busy tracker answers 429, a restarting one nothing). */
  failed(nowMs: number): void {
    this.announcing = false;
    this.failures++;
    this.nextAnnounceMs = nowMs + Math.min(this.config.maxRetryMs, this.config.retryStepMs * this.failures);
  }

  /** A peer found without a tracker (the DHT, by address): whether to dial it now (then counted as dialling). */
  found(nowMs: number, p: PeerCandidate): boolean {
    if (this.config.role === 'source' || !this.roomToDial(nowMs) || !this.dialable(p)) return false;
    this.dialing.add(keyOf(p));
    return true;
  }

  /** A dial ended, connected or not. */
  dialEnded(p: PeerCandidate): void {
    this.dialing.delete(keyOf(p));
  }

  /** Whether a DHT lookup is worth it: a viewer with room for more neighbours. */
  wantsPeers(nowMs: number): boolean {
    return this.config.role === 'viewer' && this.roomToDial(nowMs);
  }

  /** Links to open through WebRTC signalling now (a broadcaster waits to be asked). */
  webrtcWanted(nowMs: number): number {
    return this.config.role === 'source' ? 0 : Math.max(0, this.dialTarget(nowMs) - this.view.linkCount());
  }

  /** Neighbours to dial up to: more while a viewer's supply is short, so it finds better ones. */
  dialTarget(nowMs: number): number {
    const usual = this.config.dialTarget;
    return this.config.role === 'viewer' && this.view.core.supplyShort(nowMs) ? usual * SHORT_SUPPLY_DIAL_FACTOR : usual;
  }

  /** Links plus dials in progress are below the dial target. */
  roomToDial(nowMs: number): boolean {
    return this.view.linkCount() + this.dialing.size < this.dialTarget(nowMs);
  }

  /** A playing viewer with no link to the source that has received nothing new for a while. */
  starvedOfSource(nowMs: number): boolean {
    if (this.config.role !== 'viewer') return false;
    const s = this.view.core.getStats();
    if (!s.started || s.lastChunkAtMs === undefined || nowMs - s.lastChunkAtMs < this.config.starvedMs) return false;
    return !this.view.core.hasSourceNeighbour();
  }

  private startAnnounce(): boolean {
    this.announcing = true;
    return true;
  }

  private dialable(p: PeerCandidate): boolean {
    const c = this.config;
    return (
      !this.dialing.has(keyOf(p)) &&
      (p.peerId === undefined || !this.view.linkedTo(p.peerId)) &&
      this.view.accepts(p.peerId, p.address) &&
      // A broadcaster's former entry names its own address: a broadcaster dials viewers only.
      (c.role !== 'source' || p.role === 'viewer') &&
      (!c.sourceOnly || p.role === 'source')
    );
  }

  private startDial(p: PeerCandidate, into: PeerCandidate[]): void {
    this.dialing.add(keyOf(p));
    into.push(p);
  }

  /**
   * A viewer that loses its link to the source asks every sourceLostRetryMs (for searchMs)
   * instead of at the next announce, so a restarted broadcaster is found within about that;
   * one that starves without such a link asks every starvedRetryMs to twice that, since the
   * whole starved audience, maybe thousands, asks too.
   */
  private watchSource(nowMs: number): void {
    const hasSource = this.view.core.hasSourceNeighbour();
    const c = this.config;
    if (this.hadSource && !hasSource) this.search = { sinceMs: nowMs, periodMs: c.sourceLostRetryMs };
    this.hadSource = hasSource;
    const silence = this.view.core.getStats().lastChunkAtMs;
    if (this.search === undefined && silence !== this.searchedSilence && this.starvedOfSource(nowMs))
      this.search = { sinceMs: nowMs, periodMs: c.starvedRetryMs * (1 + this.random()) };
    if (hasSource) this.search = undefined;
    if (this.search !== undefined && nowMs - this.search.sinceMs > c.searchMs) {
      this.search = undefined;
      this.searchedSilence = silence;
    }
  }
}

function keyOf(p: PeerCandidate): string {
  return p.peerId ?? `${p.address}:${p.port}`;
}
