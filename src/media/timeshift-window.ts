// Which recorded segments a timeshift playlist offers: the newest ones spanning the window, a
// few more kept for clients that loaded the playlist just before (RFC 8216 §6.2.2), and never
// more bytes than the bound, whatever the stream's rate. Pure bookkeeping: it decides what to
// list and what to delete, the store (native/timeshift-store.ts) does the disk I/O.

import { mediaPlaylist } from './hls-segmenter.js';

export interface TimeshiftWindowConfig {
  /** Media time the playlist spans once that much has been recorded. */
  windowMs: number;
  /** Bytes held at most (listed and retained segments together). */
  maxBytes: number;
  /** Segments kept after they leave the playlist. @default 3 */
  retainedSegments: number;
  /** Prefix of segment URIs in the playlist, relative to the playlist. @default 'timeshift/' */
  uriPrefix: string;
}

/** A completed segment as the segmenter hands it over. */
export interface RecordedSegment {
  readonly discontinuity: boolean;
  readonly durationMs: number;
  /** Wall-clock capture time of its first byte (EXT-X-PROGRAM-DATE-TIME). */
  readonly programDateTimeMs: number;
  readonly bytes: number;
}

export interface TimeshiftEntry extends RecordedSegment {
  /** This window's own media sequence number: consecutive over the segments it kept. */
  readonly sequence: number;
  /** Discontinuity tags up to and including this segment's own. */
  readonly discontinuitySequence: number;
}

export class TimeshiftWindow {
  private readonly config: TimeshiftWindowConfig;
  /** Held segments, oldest first; the listed ones are the last `listed`. */
  private readonly entries: TimeshiftEntry[] = [];
  private listed = 0;
  private sequenceCounter = 0;
  private discontinuities = 0;
  /** A segment was not kept: the next one kept is marked as a discontinuity. */
  private gap = false;
  private maxDurationMs = 0;
  private isEnded = false;

  constructor(config: Partial<TimeshiftWindowConfig> & Pick<TimeshiftWindowConfig, 'windowMs' | 'maxBytes'>) {
    this.config = { retainedSegments: 3, uriPrefix: 'timeshift/', ...config };
  }

  get ended(): boolean {
    return this.isEnded;
  }

  /** The sequence number the next segment added gets (its file can be named before it is listed). */
  get nextSequence(): number {
    return this.sequenceCounter;
  }

  /**
   * Before a segment of `bytes` is written: the oldest segments to delete first so that the
   * bound holds with it on disk. Undefined when it cannot fit at all (larger than the bound):
   * it is then not kept, and `skip()` must be called.
   */
  makeRoom(bytes: number): TimeshiftEntry[] | undefined {
    if (bytes > this.config.maxBytes) return undefined;
    const dropped: TimeshiftEntry[] = [];
    let held = this.heldBytes;
    while (held + bytes > this.config.maxBytes) {
      const oldest = this.entries.shift() as TimeshiftEntry;
      held -= oldest.bytes;
      dropped.push(oldest);
    }
    this.listed = Math.min(this.listed, this.entries.length);
    return dropped;
  }

  /** A segment was not kept (too large, or it could not be written): the timeline has a gap. */
  skip(): void {
    this.gap = this.sequenceCounter > 0;
  }

  /** A segment now on disk: listed from now on. Returns the segments to delete (out of the window). */
  add(segment: RecordedSegment): { entry: TimeshiftEntry; dropped: TimeshiftEntry[] } {
    const discontinuity = segment.discontinuity || this.gap;
    this.gap = false;
    if (discontinuity) this.discontinuities++;
    const entry: TimeshiftEntry = {
      discontinuity,
      durationMs: segment.durationMs,
      programDateTimeMs: segment.programDateTimeMs,
      bytes: segment.bytes,
      sequence: this.sequenceCounter++,
      discontinuitySequence: this.discontinuities,
    };
    this.entries.push(entry);
    this.listed++;
    this.maxDurationMs = Math.max(this.maxDurationMs, entry.durationMs);
    // The oldest listed segment leaves once the others still span the window.
    let span = this.listedMs;
    while (this.listed > 1) {
      const oldest = this.entries[this.entries.length - this.listed] as TimeshiftEntry;
      if (span - oldest.durationMs < this.config.windowMs) break;
      span -= oldest.durationMs;
      this.listed--;
    }
    const retained = this.entries.length - this.listed;
    const dropped = this.entries.splice(0, Math.max(0, retained - this.config.retainedSegments));
    return { entry, dropped };
  }

  /** The channel ended: the playlist gets EXT-X-ENDLIST. */
  end(): void {
    this.isEnded = true;
  }

  /** A held segment (listed or retained). */
  get(sequence: number): TimeshiftEntry | undefined {
    const first = this.entries[0];
    return first === undefined ? undefined : this.entries[sequence - first.sequence];
  }

  /** Every held segment, oldest first (to delete them all). */
  held(): readonly TimeshiftEntry[] {
    return this.entries;
  }

  get heldBytes(): number {
    return this.entries.reduce((sum, e) => sum + e.bytes, 0);
  }

  /** Media time the playlist spans now. */
  get listedMs(): number {
    return this.listedEntries().reduce((sum, e) => sum + e.durationMs, 0);
  }

  /** EXT-X-TARGETDURATION: the longest segment so far, rounded up; it never decreases. */
  get targetDurationS(): number {
    return Math.max(1, Math.ceil(this.maxDurationMs / 1000 - 1e-3));
  }

  /**
   * The playlist, or undefined before the first segment. EXT-X-START puts players that read it
   * three target durations from the live edge, where players that do not start anyway (RFC
   * 8216 §6.3.3), so opening it costs no lag; rewinding is the player's seek bar.
   */
  playlist(): string | undefined {
    const listed = this.listedEntries();
    const first = listed[0];
    if (first === undefined) return undefined;
    return mediaPlaylist({
      targetDurationS: this.targetDurationS,
      mediaSequence: first.sequence,
      discontinuities: this.discontinuities,
      segments: listed,
      uriPrefix: this.config.uriPrefix,
      ended: this.isEnded,
      startOffsetS: -3 * this.targetDurationS,
    });
  }

  private listedEntries(): TimeshiftEntry[] {
    return this.entries.slice(this.entries.length - this.listed);
  }
}
