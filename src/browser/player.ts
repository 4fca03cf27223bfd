/// <reference lib="dom" />
// Plays a live stream of MPEG-TS chunks in a <video> with Media Source Extensions, lowest
// latency first: each chunk becomes one fMP4 fragment appended at once (ts-remuxer.ts), and a
// 100 ms control loop keeps playback near the newest data (speed-up, then seek), jumps the gaps a
// missing chunk leaves, evicts old media and measures stalls. It never holds data back to smooth
// delivery: the swarm decides when data arrives, the player shows it as early as it can.

import { FLAG_END_OF_STREAM } from '../protocol/chunk.js';
import { type RemuxSegment, type TsChunkIn, TsRemuxer } from './ts-remuxer.js';
import { PlayerControls } from './ui/player-controls.js';

export type PlayerChunk = TsChunkIn;

/** Every tunable of the player, with its default in DEFAULT_PLAYER_CONFIG. */
export interface MsePlayerConfig {
  /** Media buffered ahead of the start position before the first play(). @default 0.5 */
  startBufferS: number;
  /** Start with whatever is buffered once the first data is this old. @default 1000 */
  startWaitMs: number;
  /** Behind the newest data by more than this, playback speeds up. @default 1.5 */
  catchUpAboveS: number;
  /** ...and returns to normal speed below this. @default 1.0 */
  catchUpBelowS: number;
  /** Playback rate while catching up (pitch is preserved). @default 1.1 */
  catchUpRate: number;
  /** Behind the newest data by more than this, the player seeks. @default 6 */
  seekAboveS: number;
  /** How far behind the newest data such a seek lands. @default 1.0 */
  seekToBehindS: number;
  /** Media kept behind currentTime; older media is evicted. @default 30 */
  keepBehindS: number;
  /** A gap closer than this ahead of currentTime is jumped over at once. @default 0.12 */
  gapLookaheadS: number;
  /** Period of the control loop. @default 100 */
  tickMs: number;
  /** No progress for this long while playing counts as a stall even without a 'waiting' event. @default 500 */
  frozenAfterMs: number;
  /** New MediaSources allowed per minute after media errors before giving up. @default 3 */
  maxRecoveriesPerMinute: number;
  /** Time-to-capture entries kept for the lag figure. @default 512 */
  lagHistory: number;
}

export const DEFAULT_PLAYER_CONFIG: MsePlayerConfig = {
  startBufferS: 0.5,
  startWaitMs: 1000,
  catchUpAboveS: 1.5,
  catchUpBelowS: 1.0,
  catchUpRate: 1.1,
  seekAboveS: 6,
  seekToBehindS: 1.0,
  keepBehindS: 30,
  gapLookaheadS: 0.12,
  tickMs: 100,
  frozenAfterMs: 500,
  maxRecoveriesPerMinute: 3,
  lagHistory: 512,
};

export interface MsePlayerStats {
  /** Seconds of media buffered contiguously ahead of currentTime. */
  bufferAheadS: number;
  /** Seconds from currentTime to the end of the newest appended media (the player's own delay). */
  behindNewestS: number;
  /** Stalls: playback should go on but the picture is frozen waiting for data. */
  stalls: number;
  /** Longest stall, including one still going on. */
  longestStallMs: number;
  totalStallMs: number;
  playing: boolean;
  currentTime: number;
  /** Wall time now minus the capture time of the frame shown (assumes the source's clock agrees with ours). */
  lagMs: number | undefined;
  /** First chunk given -> first frame shown. */
  startupMs: number | undefined;
  chunksAppended: number;
  chunksSkipped: number;
  gapJumps: number;
  liveSeeks: number;
  quotaEvictions: number;
  recoveries: number;
  droppedVideoFrames: number;
  /** The last error met (recovered from or not). */
  error: string | undefined;
  /** The source ended its broadcast (a chunk flagged end of stream) and playback reached the end. */
  ended: boolean;
  /** True once the player gave up (too many media errors, unsupported codec). */
  failed: boolean;
}

type Op =
  | { kind: 'init'; bytes: Uint8Array; mimeType: string }
  | { kind: 'media'; bytes: Uint8Array; keyframe: boolean }
  | { kind: 'remove'; end: number }
  | { kind: 'eos' };

const HAVE_FUTURE_DATA = 3;
/** A freeze shorter than this (two frames) is not counted as a stall. */
const MIN_STALL_MS = 80;

export class MsePlayer {
  readonly video: HTMLVideoElement;
  private readonly config: MsePlayerConfig;
  private readonly container: HTMLElement;
  private readonly controls: PlayerControls;
  private readonly remuxer = new TsRemuxer();
  private readonly cleanups: (() => void)[] = [];
  private readonly timer: ReturnType<typeof setInterval>;

  private mediaSource: MediaSource | undefined;
  private sourceBuffer: SourceBuffer | undefined;
  private mimeType: string | undefined;
  private detachSource: (() => void) | undefined;
  private ops: Op[] = [];
  private quotaLevel = 0;
  private lastSeq: number | undefined;
  /** (media time, capture time) of appended chunks, oldest first, for the lag figure. */
  private timeline: { startS: number; captureTimeMs: number }[] = [];

  private firstChunkAt: number | undefined;
  private firstMediaAt: number | undefined;
  private playRequested = false;
  private playRequestedAt = 0;
  private needsGesture = false;
  private firstFrameAt: number | undefined;
  private ended = false;
  private destroyed = false;
  private failed = false;
  private lastCurrentTime = -1;
  private progressAt = 0;
  private stallStart: number | undefined;
  private recoveryTimes: number[] = [];
  private recovering = false;

  private counts = { stalls: 0, longestStallMs: 0, totalStallMs: 0, appended: 0, skipped: 0, gapJumps: 0, liveSeeks: 0, quota: 0 };
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

    this.controls = new PlayerControls(video, container, {
      blocked: () => this.needsGesture,
      resume: () => {
        this.needsGesture = false;
        this.play();
      },
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
    this.attachSource();
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
    if ((chunk.flags & FLAG_END_OF_STREAM) !== 0) this.ops.push({ kind: 'eos' });
    this.pump();
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

  stats(): MsePlayerStats {
    const v = this.video;
    const now = performance.now();
    const ct = v.currentTime;
    const ongoing = this.stallStart === undefined || now - this.stallStart < MIN_STALL_MS ? 0 : now - this.stallStart;
    const quality = typeof v.getVideoPlaybackQuality === 'function' ? v.getVideoPlaybackQuality() : undefined;
    return {
      bufferAheadS: this.contiguousAhead(ct),
      behindNewestS: Math.max(0, this.newestEnd() - ct),
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
      quotaEvictions: this.counts.quota,
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
    this.detach();
    this.video.remove();
    this.controls.element.remove();
    this.container.classList.remove('mtv-player');
  }

  // --- MediaSource plumbing -------------------------------------------------------------

  private attachSource(): void {
    const ms = new MediaSource();
    const url = URL.createObjectURL(ms);
    const onOpen = () => {
      URL.revokeObjectURL(url);
      this.pump();
    };
    ms.addEventListener('sourceopen', onOpen);
    this.mediaSource = ms;
    this.detachSource = () => ms.removeEventListener('sourceopen', onOpen);
    this.video.src = url;
  }

  private detach(): void {
    this.detachSource?.();
    this.detachSource = undefined;
    this.mediaSource = undefined;
    this.sourceBuffer = undefined;
    this.mimeType = undefined;
    this.ops = [];
    this.video.pause();
    this.video.removeAttribute('src');
    this.video.load();
  }

  private queueSegment(s: RemuxSegment): void {
    if (s.init !== undefined) this.ops.push({ kind: 'init', bytes: s.init.segment, mimeType: s.init.mimeType });
    this.ops.push({ kind: 'media', bytes: s.media, keyframe: s.keyframe });
    this.counts.appended++;
    this.timeline.push({ startS: s.startS, captureTimeMs: s.captureTimeMs });
    if (this.timeline.length > this.config.lagHistory) this.timeline.splice(0, this.timeline.length - this.config.lagHistory);
  }

  /** Runs queued SourceBuffer operations one at a time; called again on every 'updateend'. */
  private pump(): void {
    const ms = this.mediaSource;
    // Before 'sourceopen' the MediaSource is closed: the open event pumps again.
    if (this.destroyed || ms === undefined || ms.readyState === 'closed') return;
    while (this.ops.length > 0) {
      if (this.sourceBuffer?.updating) return;
      const op = this.ops.shift() as Op;
      try {
        if (op.kind === 'init') {
          if (!this.openSourceBuffer(op.mimeType)) return;
          (this.sourceBuffer as SourceBuffer).appendBuffer(op.bytes as Uint8Array<ArrayBuffer>);
          return;
        }
        const sb = this.sourceBuffer;
        if (sb === undefined) continue; // media before any init segment: nothing could decode it
        if (op.kind === 'media') {
          sb.appendBuffer(op.bytes as Uint8Array<ArrayBuffer>);
          this.firstMediaAt ??= performance.now();
          this.ended = false; // appending reopens an ended MediaSource: the source came back
          return;
        }
        if (op.kind === 'remove') {
          if (sb.buffered.length > 0 && op.end > sb.buffered.start(0)) {
            sb.remove(0, op.end);
            return;
          }
          continue;
        }
        if (ms.readyState === 'open') ms.endOfStream();
        this.ended = true;
      } catch (err) {
        if (err instanceof DOMException && err.name === 'QuotaExceededError' && op.kind === 'media') {
          this.onQuotaExceeded(op);
          continue;
        }
        this.recover(`SourceBuffer ${op.kind} failed: ${(err as Error).message}`);
        return;
      }
    }
  }

  /** Creates the SourceBuffer on the first init segment; switches its type if the codecs change. */
  private openSourceBuffer(mimeType: string): boolean {
    if (!MediaSource.isTypeSupported(mimeType)) {
      this.fail(`this browser cannot play ${mimeType}`);
      return false;
    }
    if (this.sourceBuffer === undefined) {
      const sb = (this.mediaSource as MediaSource).addSourceBuffer(mimeType);
      sb.mode = 'segments';
      const onUpdateEnd = () => {
        this.quotaLevel = 0;
        this.maybeStart();
        this.pump();
      };
      sb.addEventListener('updateend', onUpdateEnd);
      const previous = this.detachSource;
      this.detachSource = () => {
        previous?.();
        sb.removeEventListener('updateend', onUpdateEnd);
      };
      this.sourceBuffer = sb;
    } else if (mimeType !== this.mimeType) {
      this.sourceBuffer.changeType(mimeType);
    }
    this.mimeType = mimeType;
    return true;
  }

  /** QuotaExceeded: evict media behind currentTime, more each time, then give up this fragment. */
  private onQuotaExceeded(op: Op & { kind: 'media' }): void {
    this.counts.quota++;
    const ct = this.video.currentTime;
    const sb = this.sourceBuffer as SourceBuffer;
    const start = sb.buffered.length > 0 ? sb.buffered.start(0) : Number.POSITIVE_INFINITY;
    const keeps = [this.config.keepBehindS, 5, 1];
    while (this.quotaLevel < keeps.length) {
      const end = ct - (keeps[this.quotaLevel] as number);
      this.quotaLevel++;
      if (end > start + 0.1) {
        this.ops.unshift({ kind: 'remove', end }, op);
        return;
      }
    }
    // Nothing left to evict: drop this fragment and what depends on it, restart at a keyframe.
    this.quotaLevel = 0;
    this.remuxer.discontinuity();
    this.ops = this.ops.filter((o) => o.kind !== 'media' || o.keyframe);
    this.lastError = 'media buffer full: a fragment was dropped';
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
    this.detach();
    this.remuxer.reset();
    this.timeline = [];
    this.playRequested = false;
    this.firstMediaAt = undefined;
    this.ended = false;
    this.attachSource();
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
    if (this.firstFrameAt === undefined || !this.shouldPlay()) {
      // Not started, paused (by the user or the browser) or ended: not a stall, and the frozen
      // clock restarts. Media keeps coming: keep only the newest keepBehindS of it.
      this.endStall(now);
      this.progressAt = now;
      this.evict(this.newestEnd());
      return;
    }
    if (this.stallStart === undefined && now - this.progressAt > this.config.frozenAfterMs) this.stallStart = this.progressAt;
    const ct = v.currentTime;
    if (this.jumpGap(ct)) return;
    this.keepNearNewest(ct);
    this.evict(ct);
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
    if (this.playRequested || this.sourceBuffer === undefined || this.firstMediaAt === undefined) return;
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
    const b = this.video.buffered;
    let next: number | undefined;
    for (let i = 0; i < b.length; i++) {
      const start = b.start(i);
      const end = b.end(i);
      if (start <= ct + 0.01 && ct < end) {
        if (!now && end - ct > this.config.gapLookaheadS) return false;
        if (i + 1 < b.length) next = b.start(i + 1);
        break;
      }
      if (start > ct) {
        next = start;
        break;
      }
    }
    if (next === undefined) return false;
    this.counts.gapJumps++;
    this.video.currentTime = next + 0.001;
    return true;
  }

  /** Stays close to the newest data: 1.1x when somewhat behind, a seek when far behind. */
  private keepNearNewest(ct: number): void {
    const v = this.video;
    const behind = this.newestEnd() - ct;
    if (behind > this.config.seekAboveS) {
      this.counts.liveSeeks++;
      v.playbackRate = 1;
      v.currentTime = this.newestEnd() - this.config.seekToBehindS;
      return;
    }
    if (behind > this.config.catchUpAboveS && v.playbackRate !== this.config.catchUpRate) v.playbackRate = this.config.catchUpRate;
    else if (behind < this.config.catchUpBelowS && v.playbackRate !== 1) v.playbackRate = 1;
  }

  /** Removes media more than keepBehindS before `at` (currentTime while playing), in steps of 10 s. */
  private evict(at: number): void {
    const sb = this.sourceBuffer;
    if (sb === undefined || sb.updating || this.ops.length > 0 || sb.buffered.length === 0) return;
    if (at - sb.buffered.start(0) > this.config.keepBehindS + 10) {
      this.ops.push({ kind: 'remove', end: at - this.config.keepBehindS });
      this.pump();
    }
    while (this.timeline.length > 1 && (this.timeline[1] as { startS: number }).startS < at - this.config.keepBehindS)
      this.timeline.shift();
  }

  private newestEnd(): number {
    const b = this.video.buffered;
    return b.length === 0 ? 0 : b.end(b.length - 1);
  }

  private contiguousAhead(ct: number): number {
    const b = this.video.buffered;
    for (let i = 0; i < b.length; i++) {
      if (b.start(i) <= ct + 0.01 && ct < b.end(i)) return b.end(i) - ct;
    }
    return 0;
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
