// Timeshift on disk: the segments the viewer's HLS segmenter completes, written one file each
// into a private directory (mode 0700) per channel and run, within a byte bound, and deleted
// when the viewer stops. A run that died without deleting its directory (a crash, SIGKILL) has
// it removed by the next run that starts. Which segments to keep is media/timeshift-window.ts.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { formatBytes } from '../common/rate-meter.js';
import type { HlsSegment, HlsSegmenter } from '../media/hls-segmenter.js';
import { type TimeshiftEntry, TimeshiftWindow } from '../media/timeshift-window.js';

export interface TimeshiftStoreOptions {
  channelId: string;
  windowMs: number;
  maxBytes: number;
  /** Where run directories go. @default timeshiftBaseDir() */
  baseDir?: string;
  log: Logger;
}

export interface TimeshiftStats {
  /** The window asked for. */
  windowMs: number;
  /** Media time the timeshift playlist spans now. */
  heldMs: number;
  /** Bytes on disk now (listed and retained segments). */
  heldBytes: number;
  /** The bound on heldBytes. */
  maxBytes: number;
  /** Segments listed or retained. */
  segments: number;
}

/** Headroom of the default bound over the announced rate: encoders overshoot their target. */
export const TIMESHIFT_RATE_HEADROOM = 1.5;
/** Rate assumed for the default bound when the channel announces none (a copied input). */
export const TIMESHIFT_UNKNOWN_RATE_BPS = 8_000_000;

/**
 * The most a default bound may be, whatever the channel announces: the rate comes from the
 * broadcaster's record, so a hostile one could otherwise ask for any amount of this disk.
 */
export const TIMESHIFT_DEFAULT_MAX_BYTES = 2 * 1024 ** 3;

/** The default bound: the window at the announced rate with headroom, at most TIMESHIFT_DEFAULT_MAX_BYTES. */
export function defaultTimeshiftBytes(windowMs: number, announcedBps: number): number {
  const bps = announcedBps > 0 ? announcedBps : TIMESHIFT_UNKNOWN_RATE_BPS;
  return Math.min(TIMESHIFT_DEFAULT_MAX_BYTES, Math.ceil(((windowMs / 1000) * bps * TIMESHIFT_RATE_HEADROOM) / 8));
}

/** $MESHTV_HOME/timeshift, else a directory of this user's own in the OS temp dir. */
export function timeshiftBaseDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MESHTV_HOME) return path.join(env.MESHTV_HOME, 'timeshift');
  return path.join(os.tmpdir(), `meshtv-timeshift-${process.getuid?.() ?? os.userInfo().username}`);
}

/** Whether a process with this id runs (EPERM: it does, as another user). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Run directories are named <channel id prefix>-<pid>-<random>. */
const RUN_DIR = /^[0-9a-f]{1,16}-(\d{1,10})-[A-Za-z0-9]{6}$/;

/** Removes run directories whose process is gone; returns their names. */
export function removeStaleDirs(baseDir: string, alive: (pid: number) => boolean = pidAlive): string[] {
  const removed: string[] = [];
  for (const name of fs.readdirSync(baseDir)) {
    const pid = Number(RUN_DIR.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    fs.rmSync(path.join(baseDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Makes the base directory, private to this user. In a shared temp dir another user may have
 * made it first (to read or fill what we write): refused rather than used.
 */
function privateBaseDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid))
    throw new UserError(`timeshift directory ${dir} is not a directory of this user's own; set MESHTV_HOME to another place`);
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

export class TimeshiftStore {
  private readonly window: TimeshiftWindow;
  /** Writes and deletions, one at a time in order, so that the bound holds at every moment. */
  private queue: Promise<void> = Promise.resolve();
  private lastRecorded = -1;
  private closed = false;
  private warnedShort = false;
  private readonly listeners = new Set<() => void>();

  private constructor(
    readonly dir: string,
    private readonly o: TimeshiftStoreOptions,
  ) {
    this.window = new TimeshiftWindow({ windowMs: o.windowMs, maxBytes: o.maxBytes });
  }

  /** Makes this run's directory, after removing those of runs that are gone. */
  static open(o: TimeshiftStoreOptions): TimeshiftStore {
    const base = o.baseDir ?? timeshiftBaseDir();
    try {
      privateBaseDir(base);
      const stale = removeStaleDirs(base);
      if (stale.length > 0) o.log.info(`timeshift: removed ${stale.length} directory(ies) left by runs that are gone`);
      // mkdtemp makes it mode 0700.
      return new TimeshiftStore(fs.mkdtempSync(path.join(base, `${o.channelId.slice(0, 16)}-${process.pid}-`)), o);
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`cannot keep timeshift in ${base}: ${(err as Error).message}; set MESHTV_HOME to a writable place`);
    }
  }

  /** Records every segment the segmenter completes from now on; returns the unsubscribe function. */
  follow(hls: HlsSegmenter): () => void {
    return hls.onChange(() => {
      for (const s of hls.held()) if (s.sequence > this.lastRecorded) this.record(s);
      if (hls.ended && !this.window.ended)
        this.enqueue(async () => {
          this.window.end();
          this.notify();
        });
    });
  }

  record(segment: HlsSegment): void {
    this.lastRecorded = Math.max(this.lastRecorded, segment.sequence);
    this.enqueue(() => this.write(segment));
  }

  /** Called when the playlist changes (a segment listed, the end). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  playlist(): string | undefined {
    return this.window.playlist();
  }

  /** A held segment's file and size. */
  file(sequence: number): { path: string; bytes: number } | undefined {
    const e = this.window.get(sequence);
    return e === undefined ? undefined : { path: this.fileOf(e), bytes: e.bytes };
  }

  stats(): TimeshiftStats {
    return {
      windowMs: this.o.windowMs,
      heldMs: this.window.listedMs,
      heldBytes: this.window.heldBytes,
      maxBytes: this.o.maxBytes,
      segments: this.window.held().length,
    };
  }

  /** Waits for the write under way, then deletes the directory and everything in it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    await fs.promises.rm(this.dir, { recursive: true, force: true });
  }

  private enqueue(step: () => Promise<void>): void {
    this.queue = this.queue.then(() => (this.closed ? undefined : step()));
  }

  private async write(segment: HlsSegment): Promise<void> {
    const room = this.window.makeRoom(segment.data.length);
    if (room === undefined) {
      this.o.log.warn(`timeshift: a segment of ${formatBytes(segment.data.length)} is above the bound; not kept`);
      this.window.skip();
      return;
    }
    await this.remove(room);
    // Written before it is listed: a player never reads half a file.
    const file = path.join(this.dir, `${this.window.nextSequence}.ts`);
    try {
      await fs.promises.writeFile(file, segment.data, { mode: 0o600 });
    } catch (err) {
      // A full disk costs the timeshift this segment, never the live stream.
      this.o.log.warn(`timeshift: cannot write a segment: ${(err as Error).message}`);
      await fs.promises.rm(file, { force: true });
      this.window.skip();
      return;
    }
    const { dropped } = this.window.add({
      discontinuity: segment.discontinuity,
      durationMs: segment.durationMs,
      programDateTimeMs: segment.programDateTimeMs,
      bytes: segment.data.length,
    });
    await this.remove(dropped);
    if (room.length > 0 && this.window.listedMs < this.o.windowMs) this.warnShort();
    this.notify();
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  private warnShort(): void {
    if (this.warnedShort) return;
    this.warnedShort = true;
    this.o.log.warn(
      `timeshift: the stream runs above the rate its bound allows; ${formatBytes(this.o.maxBytes)} hold less than the ` +
        `${Math.round(this.o.windowMs / 1000)} s asked (raise --timeshift-max-size)`,
    );
  }

  private async remove(entries: readonly TimeshiftEntry[]): Promise<void> {
    await Promise.all(entries.map((e) => fs.promises.rm(this.fileOf(e), { force: true })));
  }

  private fileOf(e: TimeshiftEntry): string {
    return path.join(this.dir, `${e.sequence}.ts`);
  }
}
