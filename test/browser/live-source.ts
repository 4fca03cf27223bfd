// A live TS source for the player tests: the bundled ffmpeg's real-time test pattern
// (testPatternArgs, as the broadcaster runs it) cut into chunks by TsChunker, numbered from 1000,
// served as an HTTP chunk feed (src/browser/ui/feed-format.ts) with long-polling. Chunks can be
// withheld to make the deliberate gaps the player must get over.

import { type ChildProcess, spawn } from 'node:child_process';
import type http from 'node:http';
import type { PlayedChunk } from '../../src/browser/runtime.js';
import { encodeFeed } from '../../src/browser/ui/feed-format.js';
import { DEFAULT_TEST_PATTERN, ffmpegPath, testPatternArgs } from '../../src/media/ffmpeg.js';
import { TsChunker } from '../../src/media/ts-chunker.js';
import { FLAG_KEYFRAME } from '../../src/protocol/chunk.js';

const LONG_POLL_MS = 2_000;
const FIRST_SEQ = 1000;

export class LiveSource {
  readonly chunks: PlayedChunk[] = [];
  /** Seqs never served: the feed's clients see a gap there. */
  readonly withheld = new Set<number>();
  private ffmpeg: ChildProcess | undefined;
  private waiters: (() => void)[] = [];
  private dropNext: ((c: PlayedChunk) => boolean) | undefined;
  /** Chunks after this seq are served only from `heldUntilMs` on. */
  private held: { afterSeq: number; untilMs: number } | undefined;

  start(): void {
    const chunker = new TsChunker();
    const ffmpeg = spawn(ffmpegPath(), testPatternArgs({ ...DEFAULT_TEST_PATTERN }), { stdio: ['ignore', 'pipe', 'pipe'] });
    ffmpeg.stdout.on('data', (data: Buffer) => {
      for (const piece of chunker.push(new Uint8Array(data), Date.now())) {
        const chunk = {
          seq: FIRST_SEQ + this.chunks.length,
          captureTimeMs: piece.captureTimeMs,
          flags: piece.flags,
          payload: piece.payload,
        };
        if (this.dropNext?.(chunk)) {
          this.dropNext = undefined;
          this.withheld.add(chunk.seq);
        }
        this.chunks.push(chunk);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    ffmpeg.stderr.on('data', (d: Buffer) => process.stderr.write(`ffmpeg: ${d}`));
    this.ffmpeg = ffmpeg;
  }

  /** Withholds the next chunk that matches (e.g. the next one that is not a keyframe). */
  withholdNext(match: (c: PlayedChunk) => boolean): void {
    this.dropNext = match;
  }

  /**
   * The next keyframe chunk is served, the one after it never, and those after that only
   * `ms` later: a viewer that joins there holds a sliver of media, then a hole.
   */
  holeAfterNextKeyframe(ms: number): void {
    this.dropNext = (c) => {
      const previous = this.chunks[this.chunks.length - 1];
      if (previous === undefined || (previous.flags & FLAG_KEYFRAME) === 0) return false;
      this.held = { afterSeq: c.seq, untilMs: Date.now() + ms };
      return true;
    };
  }

  static notKeyframe(c: PlayedChunk): boolean {
    return (c.flags & FLAG_KEYFRAME) === 0;
  }

  stop(): void {
    this.ffmpeg?.kill('SIGKILL');
    for (const w of this.waiters.splice(0)) w();
  }

  /** Handles `GET /feed[?from=seq]`; returns false for other requests. */
  handleFeed(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/feed') return false;
    const fromParam = url.searchParams.get('from');
    const answer = () => {
      let from = fromParam === null ? this.newestKeyframeSeq() : Number(fromParam);
      if (from === undefined) return false;
      from = Math.max(from, FIRST_SEQ);
      const out = this.chunks.slice(from - FIRST_SEQ).filter((c) => this.servable(c));
      if (out.length === 0) return false;
      const body = encodeFeed(out);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-store' });
      res.end(body);
      return true;
    };
    if (answer()) return true;
    const timer = setTimeout(() => {
      if (!answer()) res.writeHead(200, { 'content-length': 0 }).end();
    }, LONG_POLL_MS);
    const retry = () => {
      if (res.writableEnded) return;
      if (answer()) clearTimeout(timer);
      else this.waiters.push(retry);
    };
    this.waiters.push(retry);
    return true;
  }

  private servable(c: PlayedChunk): boolean {
    if (this.withheld.has(c.seq)) return false;
    return this.held === undefined || Date.now() >= this.held.untilMs || c.seq < this.held.afterSeq;
  }

  private newestKeyframeSeq(): number | undefined {
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const c = this.chunks[i] as PlayedChunk;
      if ((c.flags & FLAG_KEYFRAME) !== 0 && this.servable(c)) return c.seq;
    }
    return undefined;
  }
}
