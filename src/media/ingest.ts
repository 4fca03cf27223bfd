// Runs ffmpeg on the broadcaster's input and cuts its MPEG-TS into chunk-sized pieces, and
// decides what an ending means: a first run that never produces media is the user's error (one
// clear line); a live source that ends or breaks later is restarted with back-off; the end of
// a finite input (file without --loop, stdin) is the end of the channel, marked on its last
// piece with FLAG_END_OF_STREAM. Never re-reads a finite input. With a quality ladder, ffmpeg
// writes one MPEG-TS per rendition (stdout, then fds 3, 4, ...), each cut by its own chunker.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { UserError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { CHUNK_MS, FLAG_END_OF_STREAM, FLAG_KEYFRAME } from '../protocol/chunk.js';
import { type EncodingOptions, ffmpegArgs } from './encoding.js';
import { ffmpegInputProtocols, isBundledFfmpeg, outputPipe } from './ffmpeg.js';
import { FfmpegLog, type FfmpegLogEvent } from './ffmpeg-log.js';
import { describeInput, endsByItself, hostToResolve, type InputSource, redactUrls, waitsForSender } from './input.js';
import { TsChunker, type TsPiece } from './ts-chunker.js';

export interface IngestOptions {
  ffmpeg: string;
  source: InputSource;
  encoding: EncodingOptions;
  log: Logger;
  /**
   * Every piece cut from ffmpeg's outputs, in order per output (`output` indexes the encoding's
   * renditions; 0 without a ladder); the last of a finite input carries FLAG_END_OF_STREAM.
   */
  onPiece: (piece: TsPiece, output: number) => void;
  /** @default CHUNK_MS */
  targetChunkMs?: number;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError: Error | undefined;
  /** Pieces this run produced (the leftover not counted). */
  produced: number;
  /** What was still in each output's chunker when ffmpeg exited. */
  leftovers: (TsPiece | undefined)[];
  explanation: string | undefined;
  /** The run was cut short because a publisher used the wrong RTMP key or application. */
  refused: boolean;
}

/** How long an input that waits for a sender must survive before it counts as started. */
const EARLY_FAILURE_MS = 1000;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const KILL_AFTER_MS = 3000;
/** With --copy, keyframes rarer than this make joining slow: say so once. */
const SLOW_KEYFRAMES_MS = 5000;

export class Ingest {
  readonly ended: Promise<void>;
  private endedResolve: () => void = () => {};
  private child: ChildProcess | undefined;
  private childExited: Promise<void> = Promise.resolve();
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs = BACKOFF_FIRST_MS;
  private onFirstPiece: (() => void) | undefined;
  private lastKeyframeMs: number | undefined;
  private readonly warned = new Set<string>();
  /** Pieces handed out over all runs. */
  pieces = 0;
  /** Times ffmpeg was started again after the first run. */
  restarts = 0;
  /** Why an input that ended by itself gave nothing to broadcast (undefined: it gave media). */
  noMedia: string | undefined;

  constructor(private readonly o: IngestOptions) {
    this.ended = new Promise((resolve) => {
      this.endedResolve = resolve;
    });
  }

  /**
   * Starts ffmpeg; resolves once media flows (or, for an input that waits for a sender, once
   * ffmpeg has been listening for a moment). Throws a UserError when the input fails first.
   */
  async start(): Promise<void> {
    checkInput(this.o.source, this.o.ffmpeg);
    const args = ffmpegArgs(this.o.source, this.o.encoding);
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(early);
        if (err) reject(err);
        else resolve();
      };
      this.onFirstPiece = () => settle();
      const early = waitsForSender(this.o.source) ? setTimeout(() => settle(), EARLY_FAILURE_MS) : undefined;
      this.run(args).then((result) => {
        if (!settled && !this.stopping && result.produced === 0 && result.leftovers.every((l) => l === undefined) && !result.refused) {
          settle(this.firstRunError(result, args));
          return;
        }
        settle();
        this.afterRun(args, result);
      });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      await this.childExited;
      clearTimeout(timer);
    }
  }

  private get outputs(): number {
    return this.o.encoding.renditions?.length ?? 1;
  }

  private run(args: string[]): Promise<RunResult> {
    const chunkers = Array.from({ length: this.outputs }, () => new TsChunker({ targetChunkMs: this.o.targetChunkMs ?? CHUNK_MS }));
    const log = new FfmpegLog();
    let produced = 0;
    let refused = false;
    const stdin = this.o.source.kind === 'stdin' ? 'inherit' : 'ignore';
    // fd 2 is ffmpeg's log; outputs past the first go to fds 3, 4, ... (see outputPipe).
    const extra = chunkers.slice(1).map(() => 'pipe' as const);
    const proc = spawn(this.o.ffmpeg, args, { stdio: [stdin, 'pipe', 'pipe', ...extra] });
    this.child = proc;
    this.lastKeyframeMs = undefined;
    const onEvents = (events: FfmpegLogEvent[]) => {
      for (const e of events) {
        if (e.type === 'rtmp-rejected' && !refused) {
          refused = true;
          this.o.log.warn(
            `refused an RTMP push to ${e.what} "${e.got}": the publisher must use the server URL and stream key printed above`,
          );
          proc.kill('SIGTERM');
        } else if (e.type === 'input-stream') this.checkCodec(e);
      }
    };
    chunkers.forEach((chunker, output) => {
      const fd = Number(outputPipe(output).slice('pipe:'.length));
      const stream = proc.stdio[fd] as NodeJS.ReadableStream | null | undefined;
      stream?.on('data', (d: Buffer) => {
        if (refused) return;
        for (const piece of chunker.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), Date.now())) {
          produced++;
          this.emit(piece, output);
        }
      });
    });
    proc.stderr?.on('data', (d: Buffer) => onEvents(log.push(d.toString())));
    return new Promise((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        if (done) return;
        done = true;
        onEvents(log.end());
        const leftovers = chunkers.map((c) => (refused ? undefined : c.flush(Date.now())));
        resolve({ code, signal, spawnError, produced, leftovers, explanation: log.explanation(), refused });
      };
      this.childExited = new Promise((exited) => proc.on('close', () => exited()));
      proc.on('error', (err) => {
        // Spawning failed (no such program): there will be no 'close' worth waiting for.
        if (proc.pid === undefined) finish(null, null, err);
      });
      proc.on('close', (code, signal) => finish(code, signal));
    });
  }

  private emit(piece: TsPiece, output: number): void {
    if (output === 0) this.pieces++;
    if (output === 0 && (piece.flags & FLAG_KEYFRAME) !== 0) {
      if (this.o.encoding.copy && this.lastKeyframeMs !== undefined && piece.captureTimeMs - this.lastKeyframeMs > SLOW_KEYFRAMES_MS) {
        this.warnOnce(
          'keyframes',
          `keyframes come only every ${((piece.captureTimeMs - this.lastKeyframeMs) / 1000).toFixed(0)} s; viewers can only start at one: ` +
            `set the encoder's keyframe interval to 1-2 s (OBS: Settings > Output > Keyframe Interval) or drop --copy`,
        );
      }
      this.lastKeyframeMs = piece.captureTimeMs;
    }
    this.o.onPiece(piece, output);
    this.onFirstPiece?.();
    this.onFirstPiece = undefined;
  }

  /** Decides what follows the end of a run: end of channel, or a restart with back-off. */
  private afterRun(args: string[], r: RunResult): void {
    if (this.stopping) return;
    const what = describeInput(this.o.source);
    if (endsByItself(this.o.source)) {
      // Not one chunk over the whole input: no audio or video ffmpeg could read (a text file,
      // a picture), an error rather than a channel that starts and ends at once.
      // Worded as when ffmpeg fails before the broadcast starts (firstRunError): which of the
      // two a user sees depends only on how fast ffmpeg starts.
      if (this.pieces === 0)
        this.noMedia =
          r.code === 0 && !r.spawnError
            ? `${what} gave no audio or video to broadcast; ${HINTS[this.o.source.kind]}`
            : this.firstRunError(r, args).message;
      else if (r.code !== 0 || r.spawnError) this.o.log.warn(`${what} broke off: ${why(r)}`);
      r.leftovers.forEach((leftover, output) => {
        const last = leftover ?? { payload: new Uint8Array(0), flags: 0, captureTimeMs: Date.now(), mediaMs: 0 };
        this.emit({ ...last, flags: last.flags | FLAG_END_OF_STREAM }, output);
      });
      this.endedResolve();
      return;
    }
    r.leftovers.forEach((leftover, output) => {
      if (leftover !== undefined) this.emit(leftover, output);
    });
    if (r.produced > 0) this.backoffMs = BACKOFF_FIRST_MS;
    const delayMs = this.backoffMs;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
    const again = `${delayMs / 1000} s`;
    if (r.refused) this.o.log.info(`listening again in ${again}`);
    else if (waitsForSender(this.o.source) && r.code === 0) this.o.log.info(`${what} ended; listening again in ${again}`);
    else this.o.log.warn(`${what}: ${why(r)}; retrying in ${again}`);
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.restarts++;
      this.run(args).then((result) => this.afterRun(args, result));
    }, delayMs);
  }

  private firstRunError(r: RunResult, args: string[]): UserError {
    if (r.spawnError) return new UserError(`cannot run ffmpeg (${this.o.ffmpeg}): ${r.spawnError.message}`);
    const how = r.signal !== null ? `was killed by ${r.signal}` : `exited with code ${r.code}`;
    // ffmpeg names its input at the start of the line ("udp://...: Input/output error"): said already.
    const input = args[args.indexOf('-i') + 1];
    const said = r.explanation?.startsWith(`${input}: `) ? r.explanation.slice(`${input}: `.length) : r.explanation;
    const what = describeInput(this.o.source);
    return new UserError(
      said
        ? `cannot read ${what}: ${said} (ffmpeg ${how}); ${HINTS[this.o.source.kind]}`
        : `cannot read ${what}: ffmpeg ${how} and printed nothing; ${HINTS[this.o.source.kind]}`,
    );
  }

  private checkCodec(e: Extract<FfmpegLogEvent, { type: 'input-stream' }>): void {
    if (!this.o.encoding.copy) return;
    const wanted = e.media === 'video' ? 'h264' : 'aac';
    if (e.codec === wanted) return;
    this.warnOnce(
      `codec-${e.media}`,
      `--copy passes the input's ${e.media} through as ${e.codec}, not ${wanted === 'h264' ? 'H.264' : 'AAC'}: ` +
        `browsers and some players cannot play it; drop --copy to re-encode`,
    );
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.o.log.warn(message);
  }
}

const HINTS: Record<InputSource['kind'], string> = {
  testsrc: 'check the ffmpeg installation',
  file: 'is it a video file ffmpeg can read?',
  stdin: 'pipe MPEG-TS into meshtv, e.g. ffmpeg -i SOURCE -c copy -f mpegts - | meshtv broadcast --input -',
  udp: 'check the address and port',
  srt: 'check the address, port and mode',
  rtmp: 'check that the address is this machine’s and the port is free',
  http: 'check the URL',
  rtsp: 'check the URL and that the camera is reachable',
};

function why(r: RunResult): string {
  const how = r.signal !== null ? `signal ${r.signal}` : `code ${r.code}`;
  return `ffmpeg exited (${how})${r.explanation ? `: ${redactUrls(r.explanation)}` : ''}`;
}

/** Checks what can be checked before starting ffmpeg, for errors that name the real problem. */
export function checkInput(source: InputSource, ffmpeg: string): void {
  if (source.kind === 'file') {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(source.path);
    } catch {
      throw new UserError(`input file ${source.path} not found`);
    }
    if (stat.isDirectory()) throw new UserError(`--input ${source.path} is a directory, not a video file`);
  }
  const host = hostToResolve(source);
  if (host !== undefined && isBundledFfmpeg(ffmpeg)) {
    // Said before ffmpeg starts: it would die of SIGSEGV in the lookup, which tells a user nothing.
    throw new UserError(
      `${describeInput(source)} names the host ${host}, but the ffmpeg in use is the bundled static build (${ffmpeg}), which cannot resolve host names; install ffmpeg (e.g. apt-get install ffmpeg) so that one is on PATH or in MESHTV_FFMPEG, or give the IP address in place of ${host}`,
    );
  }
  if (source.kind === 'srt' && !ffmpegInputProtocols(ffmpeg).has('srt')) {
    throw new UserError(
      `the ffmpeg in use (${ffmpeg}) has no SRT support; point MESHTV_FFMPEG at an ffmpeg built with libsrt, or send MPEG-TS over udp:// instead`,
    );
  }
}
