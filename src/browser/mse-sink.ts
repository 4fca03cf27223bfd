/// <reference lib="dom" />
// The MediaSource side of MsePlayer (player.ts): one MediaSource on the <video>, its
// SourceBuffer, and the queue of operations on it, run one at a time because a SourceBuffer
// takes one at a time. What to append and when to start or give up is the player's; this
// only runs the queue and says what happened.

import { Emitter } from '../common/events.js';

/**
 * The Media Source flavour this browser has: `MediaSource` (Chromium, Firefox, desktop Safari),
 * else `ManagedMediaSource` (iPhone Safari 17.1+ has only that one), else none. A managed source
 * may evict buffered media on its own and says when it wants data (startstreaming /
 * endstreaming); a live stream must keep appending regardless, so the player treats it as a
 * plain MediaSource that sometimes loses old media, which its gap and eviction logic already
 * handles.
 */
export interface MediaSourceFlavour {
  readonly name: 'MediaSource' | 'ManagedMediaSource';
  readonly create: () => MediaSource;
  readonly isTypeSupported: (mimeType: string) => boolean;
}

export function mediaSourceFlavour(scope: object = globalThis): MediaSourceFlavour | undefined {
  for (const name of ['MediaSource', 'ManagedMediaSource'] as const) {
    const ctor = (scope as Record<string, unknown>)[name] as typeof MediaSource | undefined;
    if (typeof ctor === 'function') return { name, create: () => new ctor(), isTypeSupported: (t) => ctor.isTypeSupported(t) };
  }
  return undefined;
}

/** The back buffer shrinks no further on QuotaExceeded: below this, rewinding would be pointless. */
export const MIN_BACK_BUFFER_S = 30;

/** What the player says when the browser has no Media Source at all. */
export const NO_MSE_REASON = 'this browser cannot play live video in a page (no Media Source Extensions)';

export type SinkOp =
  | { kind: 'init'; bytes: Uint8Array; mimeType: string }
  | { kind: 'media'; bytes: Uint8Array; keyframe: boolean }
  | { kind: 'remove'; end: number }
  | { kind: 'eos' };

export interface MseSinkEvents {
  /** A media fragment was handed to the SourceBuffer. */
  appended: undefined;
  /** End of stream was signalled to the MediaSource. */
  ended: undefined;
  /** The SourceBuffer finished an append or a removal. */
  updated: undefined;
  /** An operation failed: the MediaSource must be replaced (the reason). */
  failed: string;
  /** The browser cannot play the stream's codecs (the reason). */
  unsupported: string;
  /**
   * The buffer was full with nothing left to evict: a fragment and those that depend on it were
   * dropped, so what follows must restart at a keyframe.
   */
  dropped: undefined;
}

export class MseSink {
  readonly events = new Emitter<MseSinkEvents>();
  /** Appends that met QuotaExceededError. */
  quotaEvictions = 0;

  private mediaSource: MediaSource | undefined;
  private sourceBuffer: SourceBuffer | undefined;
  private mimeType: string | undefined;
  private detachSource: (() => void) | undefined;
  private ops: SinkOp[] = [];
  private quotaLevel = 0;
  private flavour: MediaSourceFlavour | undefined;

  /**
   * @param backBufferS media kept behind the newest data (the player evicts the rest); reaching
   * the quota shrinks it for good
   */
  constructor(
    private readonly video: HTMLVideoElement,
    public backBufferS: number,
  ) {}

  /** Whether an init segment has been appended (media can decode). */
  get hasSourceBuffer(): boolean {
    return this.sourceBuffer !== undefined;
  }

  /** Start of the buffered media while nothing is queued or running; undefined otherwise. */
  idleBufferedStart(): number | undefined {
    const sb = this.sourceBuffer;
    if (sb === undefined || sb.updating || this.ops.length > 0 || sb.buffered.length === 0) return undefined;
    return sb.buffered.start(0);
  }

  /** A new MediaSource on the video; the queue runs once it opens. */
  attach(): void {
    const flavour = mediaSourceFlavour();
    if (flavour === undefined) {
      this.events.emit('unsupported', NO_MSE_REASON);
      return;
    }
    this.flavour = flavour;
    // A managed source attaches only to a video that cannot be sent to AirPlay (which would need
    // a plain URL to hand over); the property exists everywhere and is harmless elsewhere.
    if (flavour.name === 'ManagedMediaSource') this.video.disableRemotePlayback = true;
    const ms = flavour.create();
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

  /** Takes the MediaSource off the video and forgets the queue. */
  detach(): void {
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

  queue(op: SinkOp): void {
    this.ops.push(op);
  }

  /** Runs queued SourceBuffer operations one at a time; called again on every 'updateend'. */
  pump(): void {
    const ms = this.mediaSource;
    // Before 'sourceopen' the MediaSource is closed: the open event pumps again.
    if (ms === undefined || ms.readyState === 'closed') return;
    while (this.ops.length > 0) {
      if (this.sourceBuffer?.updating) return;
      const op = this.ops.shift() as SinkOp;
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
          this.events.emit('appended', undefined);
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
        this.events.emit('ended', undefined);
      } catch (err) {
        if (err instanceof DOMException && err.name === 'QuotaExceededError' && op.kind === 'media') {
          this.onQuotaExceeded(op);
          continue;
        }
        this.events.emit('failed', `SourceBuffer ${op.kind} failed: ${(err as Error).message}`);
        return;
      }
    }
  }

  /** Creates the SourceBuffer on the first init segment; switches its type if the codecs change. */
  private openSourceBuffer(mimeType: string): boolean {
    if (!(this.flavour as MediaSourceFlavour).isTypeSupported(mimeType)) {
      this.events.emit('unsupported', `this browser cannot play ${mimeType}`);
      return false;
    }
    if (this.sourceBuffer === undefined) {
      const sb = (this.mediaSource as MediaSource).addSourceBuffer(mimeType);
      sb.mode = 'segments';
      const onUpdateEnd = () => {
        this.quotaLevel = 0;
        this.events.emit('updated', undefined);
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

  /**
   * QuotaExceeded: the browser holds less than the back buffer asks. First the back buffer shrinks
   * for good to half of what is held (not below MIN_BACK_BUFFER_S) and the oldest media goes; if
   * that is not enough, for this append only, all but 5 s and then 1 s behind currentTime; then
   * the fragment is given up.
   */
  private onQuotaExceeded(op: SinkOp & { kind: 'media' }): void {
    this.quotaEvictions++;
    const ct = this.video.currentTime;
    const b = (this.sourceBuffer as SourceBuffer).buffered;
    const start = b.length > 0 ? b.start(0) : Number.POSITIVE_INFINITY;
    const newest = b.length > 0 ? b.end(b.length - 1) : 0;
    if (this.quotaLevel === 0) this.backBufferS = Math.max(MIN_BACK_BUFFER_S, Math.min(this.backBufferS, (newest - start) / 2));
    // Never under the playhead: what it shows now must stay decodable.
    const ends = [Math.min(newest - this.backBufferS, ct - 1), ct - 5, ct - 1];
    while (this.quotaLevel < ends.length) {
      const end = ends[this.quotaLevel] as number;
      this.quotaLevel++;
      if (end > start + 0.1) {
        this.ops.unshift({ kind: 'remove', end }, op);
        return;
      }
    }
    // Nothing left to evict: drop this fragment and what depends on it, restart at a keyframe.
    this.quotaLevel = 0;
    this.ops = this.ops.filter((o) => o.kind !== 'media' || o.keyframe);
    this.events.emit('dropped', undefined);
  }
}
