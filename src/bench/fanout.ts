// The baseline meshtv is measured against: one HTTP server sending the whole stream to every
// viewer, as a broadcaster would without a swarm. Its feed pulls the stream from the
// broadcaster's HTTP origin, chunk after chunk, as a CDN pulls a live stream from its origin;
// it is no swarm peer, so a broadcaster that bounds its upload to the swarm (as it does by
// default) does not starve the baseline. Each verified chunk goes, framed, to every HTTP
// client; the clients play it through the same Playout clock as swarm viewers, so the
// measures compare.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hexToBytes } from '../common/hex.js';
import type { Logger } from '../common/log.js';
import { nodeVerify } from '../crypto/keys.js';
import { fetchChannelRecord } from '../native/tracker-client.js';
import { CHUNK_MS, type Chunk, decodeChunk, encodeChunk, FLAG_KEYFRAME, verifyChunk } from '../protocol/chunk.js';
import { MAX_FRAME_BYTES } from '../protocol/codec.js';
import { equalBytes } from '../protocol/neighbour-rules.js';
import { Playout } from '../protocol/playout.js';
import { quantile } from '../sim/metrics.js';
import { encodeFrame, FrameReader } from '../transport/framing.js';

export interface FanoutServer {
  readonly url: string;
  stats(): { clients: number; bytesSent: number; mediaBytesIn: number };
  stop(): Promise<void>;
}

/** How often the feed asks the origin again for a chunk not cut yet. */
const POLL_MS = 10;
/** A chunk missing this long is not coming (the broadcaster restarted, or we fell behind): resync. */
const RESYNC_MS = 2000;

interface FeedOptions {
  channelId: string;
  trackers: string[];
  log: Logger;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The fan-out's feed: pulls the stream from the broadcaster's HTTP origin, chunk after chunk,
 * verifies each and hands it on, until stopped; starts over when the origin goes away.
 */
class OriginFeed {
  mediaBytesIn = 0;
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly channelKey: Uint8Array;
  private origin: string | undefined;
  private next: number | undefined;
  private missingSince: number | undefined;

  constructor(
    private readonly o: FeedOptions,
    private readonly deliver: (chunk: Chunk) => void,
  ) {
    this.channelKey = hexToBytes(o.channelId);
  }

  start(): void {
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.pull();
      } catch (err) {
        // The broadcaster is gone (killed, restarting): find its origin again.
        this.o.log.debug(`fan-out feed: ${(err as Error).message}`);
        this.resync();
        await sleep(200);
      }
    }
  }

  /** One step: find the origin, then its newest chunk, then the next chunk or wait for it. */
  private async pull(): Promise<void> {
    this.origin ??= await this.findOrigin();
    if (this.origin === undefined) return sleep(500);
    if (this.next === undefined) {
      const stats = (await (await fetch(`${this.origin}/stats.json`)).json()) as { newestSeq?: number };
      if (typeof stats.newestSeq !== 'number' || stats.newestSeq < 0) return sleep(100);
      this.next = stats.newestSeq;
    }
    const next = this.next;
    const res = await fetch(`${this.origin}/chunk/${next}`);
    if (res.status === 200) {
      const chunk = decodeChunk(new Uint8Array(await res.arrayBuffer()));
      if (chunk.seq !== next || !equalBytes(chunk.channelKey, this.channelKey) || !verifyChunk(chunk, nodeVerify))
        throw new Error(`the origin sent a bad chunk for ${next}`);
      this.mediaBytesIn += chunk.payload.length;
      this.deliver(chunk);
      this.next = next + 1;
      this.missingSince = undefined;
      return;
    }
    await res.arrayBuffer();
    this.missingSince ??= Date.now();
    if (Date.now() - this.missingSince > RESYNC_MS) this.resync();
    await sleep(POLL_MS);
  }

  /** Starts over: the origin's address from the record, then its newest chunk. */
  private resync(): void {
    this.origin = undefined;
    this.next = undefined;
    this.missingSince = undefined;
  }

  // The origin's address comes from the channel's signed record: a restarted broadcaster
  // publishes its new one.
  private async findOrigin(): Promise<string | undefined> {
    for (const t of this.o.trackers) {
      const signed = await fetchChannelRecord(t, this.o.channelId, nodeVerify).catch(() => undefined);
      if (signed?.record.originUrl !== undefined) return signed.record.originUrl;
    }
    return undefined;
  }
}

export async function startFanout(
  o: FeedOptions & {
    /** Address the HTTP server binds. @default '127.0.0.1' */
    host?: string;
    port: number;
  },
): Promise<FanoutServer> {
  const host = o.host ?? '127.0.0.1';
  const clients = new Set<http.ServerResponse>();
  let bytesSent = 0;
  const feed = new OriginFeed(o, (chunk) => {
    // Whole chunks, key included, as the broadcaster's HTTP origin serves them.
    const frame = encodeFrame(encodeChunk(chunk));
    for (const res of clients) {
      if (res.writableLength > 16 * 1024 * 1024) {
        clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(frame);
      bytesSent += chunk.payload.length;
    }
  });
  const server = http.createServer((req, res) => {
    if (req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Everything the feed took came from the broadcaster's origin.
      const mediaBytesIn = feed.mediaBytesIn;
      res.end(JSON.stringify({ clients: clients.size, bytesSent, mediaBytesIn, mediaBytesInFromSource: mediaBytesIn }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
    res.socket?.setNoDelay(true);
    clients.add(res);
    res.on('close', () => clients.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(o.port, host, () => resolve()));
  feed.start();
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/`,
    stats: () => ({ clients: clients.size, bytesSent, mediaBytesIn: feed.mediaBytesIn }),
    stop: async () => {
      const feedStopped = feed.stop();
      for (const res of clients) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await feedStopped;
    },
  };
}

/** Per-viewer measures, the same for swarm viewers and fan-out clients. */
export interface ViewerMeasures {
  startupMs: number | undefined;
  /** Median lag of this viewer's played chunks. */
  lagMs: number | undefined;
  continuity: number;
  mediaBytesIn: number;
  controlBytes: number;
  duplicateBytes: number;
  /** Chunks skipped or played late, in the first 10 s after the first play and later (swarm viewers). */
  misses?: { first10s: number; later: number };
}

/** A jump in numbering this large is a new run of the broadcaster (10 s of chunks). */
const MAX_GAP_CHUNKS = 10_000 / CHUNK_MS;

/** An HTTP fan-out client: reads framed chunks and plays them on the swarm's playout clock. */
export function fanoutClient(url: string): { measures(): ViewerMeasures; stop(): void } {
  const startedAt = Date.now();
  const newPlayout = () => new Playout({ slackMs: 1500, nominalChunkMs: CHUNK_MS });
  let playout = newPlayout();
  const store = new Map<number, Chunk>();
  const lags: number[] = [];
  let startupMs: number | undefined;
  let played = 0;
  let missed = 0;
  let bytes = 0;
  let newest = -1;
  const controller = new AbortController();
  const reader = new FrameReader(MAX_FRAME_BYTES);
  const tick = () => {
    for (const a of playout.advance(Date.now(), (s) => store.get(s), newest)) {
      if (a.type === 'play') {
        startupMs ??= Date.now() - startedAt;
        lags.push(a.lagMs);
        if (a.late) missed += playout.chunkMs;
        else played += playout.chunkMs;
        store.delete(a.chunk.seq);
      } else missed += a.mediaMs;
    }
  };
  const timer = setInterval(tick, 100);
  fetch(url, { signal: controller.signal })
    .then(async (res) => {
      for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const frame of reader.push(part)) {
          const chunk = decodeChunk(frame);
          bytes += chunk.payload.length;
          // A new run of the broadcaster (restarted): start over there, as swarm viewers do. The
          // feed may join a new run past its first chunk: a jump in numbering says so too.
          if (playout.beginsNewRun(chunk) || (newest >= 0 && chunk.seq > newest + MAX_GAP_CHUNKS)) {
            playout = newPlayout();
            store.clear();
          }
          store.set(chunk.seq, chunk);
          newest = Math.max(newest, chunk.seq);
          if (playout.nextSeq === undefined && (chunk.flags & FLAG_KEYFRAME) !== 0) playout.chooseStart(chunk.seq);
          tick();
        }
      }
    })
    .catch(() => {});
  return {
    measures: () => ({
      startupMs,
      lagMs: quantile(lags, 0.5),
      continuity: played + missed === 0 ? 0 : played / (played + missed),
      mediaBytesIn: bytes,
      controlBytes: 0,
      duplicateBytes: 0,
    }),
    stop: () => {
      clearInterval(timer);
      controller.abort();
    },
  };
}
