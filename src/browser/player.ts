/// <reference lib="dom" />
// Plays a live stream of MPEG-TS chunks in a <video> with Media Source Extensions, lowest
// latency first: each chunk becomes one fMP4 fragment (ts-remuxer.ts) appended at once
// (mse-sink.ts), and a 100 ms control loop keeps playback near the newest data (speed-up, then
// seek), jumps the gaps a missing chunk leaves, evicts old media and measures stalls. It never
// holds data back to smooth delivery: the swarm decides when data arrives, the player shows it
// as early as it can. The user may leave the live edge (pause, rewind within the back buffer it
// keeps: timeshift.ts) and come back to it; meanwhile the chunks keep coming and being relayed.

import { FLAG_END_OF_STREAM } from '../protocol/chunk.js';
import { MseSink } from './mse-sink.js';
import { DEFAULT_PLAYER_CONFIG, type MsePlayerConfig, type MsePlayerStats } from './player-config.js';
import { contiguousAhead, evictionEnd, gapTarget, liveAction, newestEnd, oldestStart } from './timeshift.js';
import { TimeshiftControl } from './timeshift-control.js';
import { type RemuxSegment, type TsChunkIn, TsRemuxer } from './ts-remuxer.js';
import { PlayerControls } from './ui/player-controls.js';

export type PlayerChunk = TsChunkIn;

const HAVE_FUTURE_DATA = 3;
/** A freeze shorter than this (two frames) is not counted as a stall. */
const MIN_STALL_MS = 80;
/** Old media is removed this many seconds at a time at least (each removal costs the SourceBuffer a pass). */
const EVICT_STEP_S = 10;

export class MsePlayer {
  readonly video: HTMLVideoElement;
  private readonly config: MsePlayerConfig;
  private readonly container: HTMLElement;
  private readonly controls: PlayerControls;
  private readonly remuxer = new TsRemuxer();
  private readonly cleanups: (() => void)[] = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly sink: MseSink;
  /** The user's pause, seeks and return to live. */
  readonly timeshift: TimeshiftControl;

  private lastSeq: number | undefined;
  /** (media time, capture time) of appended chunks, oldest first, for the lag figure. */
  private timeline: { startS: number; captureTimeMs: number }[] = [];

  private firstChunkAt: number | undefined;
  private firstMediaAt: number | undefined;
  private playRequested = false;
  private playRequestedAt = 0;
  private needsGesture = false;
  private firstFrameAt: number | undefined;
  /** Playback has been within catchUpAboveS of the newest data since its first frame (see liveAction). */
  private settled = false;
  private ended = false;
  private destroyed = false;
  private failed = false;
  private lastCurrentTime = -1;
  private progressAt = 0;
  private stallStart: number | undefined;
  private recoveryTimes: number[] = [];
  private recovering = false;

  private counts = { stalls: 0, longestStallMs: 0, totalStallMs: 0, appended: 0, skipped: 0, gapJumps: 0, liveSeeks: 0 };
  private lastError: string | undefined;

  constructor(container: HTMLElement, config: Partial<MsePlayerConfig> = {}) {
    this.config = { ...DEFAULT_PLAYER_CONFIG, ...config };
    this.container = container;
    container.classList.add('mtv-player');
    const video = document.createElement('video');
    video.className = 'mtv-video';
    // Muted autoplay is allowed everywhere; sound needs a click on the unmute button.
    video.muted = true;
    video.defaultMuted = true;
    video.playsInline = true;
    video.setAttribute('playsinline', '');
    this.video = video;

    this.timeshift = new TimeshiftControl(video, this.config, () => this.resume());
    this.controls = new PlayerControls(video, container, {
      blocked: () => this.needsGesture,
      resume: () => this.resume(),
      timeshift: () => this.timeshift,
      listen: (target, type, fn) => this.listen(target, type, fn),
    });
    container.append(video, this.controls.element);
    this.listen(video, 'waiting', () => this.onWaiting());
    this.listen(video, 'timeupdate', () => this.noteProgress(performance.now()));
    // A seek moves currentTime without playing anything: not progress.
    this.listen(video, 'seeked', () => {
      this.lastCurrentTime = video.currentTime;
    });
    this.listen(video, 'error', () => this.recover(`media error ${video.error?.code ?? '?'}: ${video.error?.message ?? ''}`.trim()));
    this.sink = new MseSink(video, this.config.backBufferS);
    this.sink.events.on('appended', () => {
      this.firstMediaAt ??= performance.now();
      this.ended = false; // appending reopens an ended MediaSource: the source came back
    });
    this.sink.events.on('ended', () => {
      this.ended = true;
    });
    this.sink.events.on('updated', () => this.maybeStart());
    this.sink.events.on('failed', (reason) => this.recover(reason));
    this.sink.events.on('unsupported', (reason) => this.fail(reason));
    this.sink.events.on('dropped', () => {
      this.remuxer.discontinuity();
      this.lastError = 'media buffer full: a fragment was dropped';
    });
    this.sink.attach();
    this.timer = setInterval(() => this.tick(), this.config.tickMs);
  }

  /** Plays a chunk: the next in sequence, or a later one (the ones between count as skipped). */
  append(chunk: PlayerChunk): void {
    if (this.destroyed || this.failed) return;
    const now = performance.now();
    if (this.lastSeq !== undefined) {
      if (chunk.seq <= this.lastSeq) return; // a duplicate or a late chunk: its place is taken
      if (chunk.seq !== this.lastSeq + 1) {
        this.counts.skipped += chunk.seq - this.lastSeq - 1;
        this.remuxer.discontinuity();
      }
    }
    this.lastSeq = chunk.seq;
    this.firstChunkAt ??= now;
    for (const s of this.remuxer.push(chunk)) this.queueSegment(s);
    if ((chunk.flags & FLAG_END_OF_STREAM) !== 0) this.sink.queue({ kind: 'eos' });
    this.sink.pump();
  }

  /**
   * The chunks that follow come from another rendition of the same encode: their numbers start
   * afresh, their timestamps go on (the remuxer writes a new init segment for the new size).
   */
  renditionSwitched(): void {
    this.lastSeq = undefined;
  }

  /** Chunk `seq` will never come: the next chunk follows a gap. */
  skip(seq: number): void {
    if (this.destroyed || this.lastSeq === undefined || seq <= this.lastSeq) return;
    this.counts.skipped += seq - this.lastSeq;
    this.lastSeq = seq;
    this.remuxer.discontinuity();
  }

  /** Plays on from where playback stands (also the answer to an autoplay refusal). */
  resume(): void {
    this.needsGesture = false;
    this.play();
  }

  stats(): MsePlayerStats {
    const v = this.video;
    const now = performance.now();
    const ct = v.currentTime;
    const ongoing = this.stallStart === undefined || now - this.stallStart < MIN_STALL_MS ? 0 : now - this.stallStart;
    const quality = typeof v.getVideoPlaybackQuality === 'function' ? v.getVideoPlaybackQuality() : undefined;
    const shift = this.timeshift.state();
    return {
      bufferAheadS: contiguousAhead(v.buffered, ct),
      behindNewestS: Math.max(0, newestEnd(v.buffered) - ct),
      bufferedBehindS: Math.max(0, ct - (oldestStart(v.buffered) ?? ct)),
      backBufferS: this.sink.backBufferS,
      atLive: shift.atLive,
      timeshiftS: shift.behindS,
      stalls: this.counts.stalls + (ongoing > 0 ? 1 : 0),
      longestStallMs: Math.max(this.counts.longestStallMs, ongoing),
      totalStallMs: this.counts.totalStallMs + ongoing,
      playing: this.firstFrameAt !== undefined && this.shouldPlay() && this.stallStart === undefined && v.readyState >= HAVE_FUTURE_DATA,
      currentTime: ct,
      lagMs: this.firstFrameAt === undefined ? undefined : this.lagAt(ct),
      startupMs: this.firstFrameAt === undefined || this.firstChunkAt === undefined ? undefined : this.firstFrameAt - this.firstChunkAt,
      chunksAppended: this.counts.appended,
      chunksSkipped: this.counts.skipped,
      gapJumps: this.counts.gapJumps,
      liveSeeks: this.counts.liveSeeks,
      quotaEvictions: this.sink.quotaEvictions,
      recoveries: this.recoveryTimes.length,
      droppedVideoFrames: quality?.droppedVideoFrames ?? 0,
      error: this.lastError,
      ended: this.ended && v.ended,
      failed: this.failed,
    };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    clearInterval(this.timer);
    for (const c of this.cleanups.splice(0)) c();
    this.sink.detach();
    this.sink.events.clear();
    this.video.remove();
    this.controls.element.remove();
    this.container.classList.remove('mtv-player');
  }

  // --- Segments in, media errors --------------------------------------------------------

  private queueSegment(s: RemuxSegment): void {
    if (s.init !== undefined) this.sink.queue({ kind: 'init', bytes: s.init.segment, mimeType: s.init.mimeType });
    this.sink.queue({ kind: 'media', bytes: s.media, keyframe: s.keyframe });
    this.counts.appended++;
    this.timeline.push({ startS: s.startS, captureTimeMs: s.captureTimeMs });
    if (this.timeline.length > this.config.lagHistory) this.timeline.splice(0, this.timeline.length - this.config.lagHistory);
  }

  /** Media errors: a fresh MediaSource, restarting at the next keyframe; gives up if it keeps failing. */
  private recover(reason: string): void {
    if (this.destroyed || this.failed) return;
    this.lastError = reason;
    const now = performance.now();
    this.recoveryTimes = this.recoveryTimes.filter((t) => now - t < 60_000);
    if (this.recoveryTimes.length >= this.config.maxRecoveriesPerMinute) {
      this.fail(`giving up after ${this.recoveryTimes.length} media errors in a minute; last: ${reason}`);
      return;
    }
    this.recoveryTimes.push(now);
    // The outage is a stall until the new MediaSource plays.
    if (this.firstFrameAt !== undefined) this.stallStart ??= now;
    this.recovering = true;
    this.sink.detach();
    this.remuxer.reset();
    this.timeline = [];
    this.playRequested = false;
    this.firstMediaAt = undefined;
    this.ended = false;
    this.sink.attach();
  }

  private fail(reason: string): void {
    this.lastError = reason;
    this.failed = true;
    this.endStall(performance.now());
    this.controls.render();
  }

  // --- Playback control ------------------------------------------------------------------

  private tick(): void {
    if (this.destroyed) return;
    const now = performance.now();
    const v = this.video;
    this.noteProgress(now);
    this.maybeStart();
    if (this.firstFrameAt === undefined && this.shouldPlay() && !this.recovering && now - this.playRequestedAt > this.config.startWaitMs) {
      // Asked to play and still no frame: the start point may sit on a sliver of media before a
      // hole (a chunk skipped at the start), too little for the browser to finish seeking there
      // or to begin. Move on to the next buffered range, and give it as long again.
      this.playRequestedAt = now;
      if (this.jumpGap(v.currentTime, true)) return;
    }
    if (v.seeking || this.recovering) return;
    this.controls.renderTime();
    if (this.firstFrameAt === undefined || !this.shouldPlay()) {
      // Not started, paused (by the user or the browser) or ended: not a stall, and the frozen
      // clock restarts. Media keeps coming: the back buffer keeps the newest backBufferS of it.
      this.endStall(now);
      this.progressAt = now;
      this.evict();
      return;
    }
    if (this.stallStart === undefined && now - this.progressAt > this.config.frozenAfterMs) this.stallStart = this.progressAt;
    const ct = v.currentTime;
    if (this.jumpGap(ct)) return;
    // Behind live by the user's choice: no catching up.
    if (this.timeshift.atLive) this.keepNearNewest(ct);
    this.evict();
  }

  /** Playback moved on (currentTime changed outside a seek): ends a stall, marks the first frame. */
  private noteProgress(now: number): void {
    const v = this.video;
    if (v.seeking) return;
    const ct = v.currentTime;
    if (ct === this.lastCurrentTime) return;
    this.lastCurrentTime = ct;
    this.progressAt = now;
    if (!this.playRequested || v.paused) return;
    this.firstFrameAt ??= now;
    this.recovering = false;
    this.endStall(now);
  }

  private onWaiting(): void {
    if (this.firstFrameAt === undefined || !this.shouldPlay()) return;
    this.stallStart ??= performance.now();
    if (!this.video.seeking) this.jumpGap(this.video.currentTime);
  }

  private endStall(now: number): void {
    if (this.stallStart === undefined) return;
    const ms = now - this.stallStart;
    this.stallStart = undefined;
    // Chrome reports 'waiting' for a moment on every seek: a freeze this short is not seen.
    if (ms < MIN_STALL_MS) return;
    this.counts.stalls++;
    this.counts.totalStallMs += ms;
    this.counts.longestStallMs = Math.max(this.counts.longestStallMs, ms);
  }

  private shouldPlay(): boolean {
    const v = this.video;
    return this.playRequested && !this.needsGesture && !v.paused && !v.ended && !this.ended && !this.failed && !this.destroyed;
  }

  /** First play(): once startBufferS is buffered (or the first data waited long enough), that far behind the newest data. */
  private maybeStart(): void {
    if (this.playRequested || !this.sink.hasSourceBuffer || this.firstMediaAt === undefined) return;
    const b = this.video.buffered;
    if (b.length === 0) return;
    const last = b.length - 1;
    const start = b.start(last);
    const end = b.end(last);
    if (end - start < this.config.startBufferS && performance.now() - this.firstMediaAt < this.config.startWaitMs) return;
    // Start startBufferS behind the newest data (decoding from the keyframe before it), or at
    // the start of what there is when less came in time.
    const target = Math.max(start, end - this.config.startBufferS);
    if (Math.abs(this.video.currentTime - target) > 0.01) this.video.currentTime = target;
    this.playRequested = true;
    this.playRequestedAt = performance.now();
    this.play();
  }

  private play(): void {
    this.video.play().then(
      () => {
        this.needsGesture = false;
        this.controls.render();
      },
      (err: unknown) => {
        // Autoplay refused (even muted, e.g. by a user setting): wait for a click.
        if (err instanceof DOMException && err.name === 'NotAllowedError') {
          this.needsGesture = true;
          this.controls.render();
        }
      },
    );
  }

  /** Jumps over a hole in the buffered media (a missing chunk) when playback reaches it, or at once when `now`. */
  private jumpGap(ct: number, now = false): boolean {
    const next = gapTarget(this.video.buffered, ct, this.config.gapLookaheadS, now);
    if (next === undefined) return false;
    this.counts.gapJumps++;
    this.video.currentTime = next + 0.001;
    return true;
  }

  /** Stays close to the newest data (liveAction): 1.1x when somewhat behind, a seek when far behind. */
  private keepNearNewest(ct: number): void {
    const v = this.video;
    const edge = newestEnd(v.buffered);
    const action = liveAction(edge - ct, this.settled, this.config);
    if (action !== 'seek' && edge - ct <= this.config.catchUpAboveS) this.settled = true;
    if (action === 'seek') {
      this.counts.liveSeeks++;
      v.playbackRate = 1;
      v.currentTime = edge - this.config.seekToBehindS;
    } else if (action === 'catch-up' && v.playbackRate !== this.config.catchUpRate) v.playbackRate = this.config.catchUpRate;
    else if (action === 'normal' && v.playbackRate !== 1) v.playbackRate = 1;
  }

  /**
   * Keeps the back buffer: media more than backBufferS behind the newest data is removed, oldest
   * first (the sink shrinks backBufferS when the browser's quota is reached). A playhead paused
   * or rewound past that is moved to the oldest media left.
   */
  private evict(): void {
    if (this.sink.idleBufferedStart() === undefined) return;
    const end = evictionEnd(this.video.buffered, this.sink.backBufferS, EVICT_STEP_S);
    if (end === undefined) return;
    this.sink.queue({ kind: 'remove', end });
    this.sink.pump();
    if (this.video.currentTime < end) this.video.currentTime = end + 0.5;
    while (this.timeline.length > 1 && (this.timeline[1] as { startS: number }).startS < end) this.timeline.shift();
  }

  private lagAt(ct: number): number | undefined {
    for (let i = this.timeline.length - 1; i >= 0; i--) {
      const e = this.timeline[i] as { startS: number; captureTimeMs: number };
      if (e.startS <= ct + 0.001) return Date.now() - (e.captureTimeMs + (ct - e.startS) * 1000);
    }
    return undefined;
  }

  private listen<K extends keyof HTMLElementEventMap>(target: HTMLElement, type: K, fn: (e: HTMLElementEventMap[K]) => void): void {
    target.addEventListener(type, fn);
    this.cleanups.push(() => target.removeEventListener(type, fn));
  }
}
