// The baseline meshtv is measured against: one HTTP server sending the whole stream to every
// viewer, as a broadcaster would without a swarm. A feed process takes the stream from the
// broadcaster alone (no other peer, no relaying) and serves each verified chunk, framed, to
// all its HTTP clients; the
// clients play it through the same Playout clock as swarm viewers, so the measures compare.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../node/log.js';
import { SwarmNode } from '../node/swarm-node.js';
import { CHUNK_MS, type Chunk, decodeChunk, encodeChunk, FLAG_KEYFRAME } from '../protocol/chunk.js';
import { MAX_FRAME_BYTES } from '../protocol/codec.js';
import { hexToBytes } from '../protocol/hex.js';
import { Playout } from '../protocol/playout.js';
import { quantile } from '../sim/metrics.js';
import { encodeFrame, FrameReader } from '../transport/framing.js';

export interface FanoutServer {
  readonly url: string;
  stats(): { clients: number; bytesSent: number; mediaBytesIn: number };
  stop(): Promise<void>;
}

export async function startFanout(o: {
  channelId: string;
  trackers: string[];
  /** Address both the HTTP server and the feed's peer listener bind. @default '127.0.0.1' */
  host?: string;
  port: number;
  log: Logger;
}): Promise<FanoutServer> {
  const host = o.host ?? '127.0.0.1';
  const node = new SwarmNode({
    role: 'viewer',
    channelKey: hexToBytes(o.channelId),
    host,
    port: 0,
    trackers: o.trackers,
    core: { uploadEnabled: false },
    // Straight from the broadcaster, as an HTTP origin would be: not off the swarm's upload.
    sourceOnly: true,
    log: o.log,
  });
  const clients = new Set<http.ServerResponse>();
  let bytesSent = 0;
  node.onEvent((e) => {
    if (e.type !== 'chunk') return;
    // Whole chunks, key included, as the broadcaster's HTTP origin serves them.
    const frame = encodeFrame(encodeChunk(e.chunk));
    for (const res of clients) {
      if (res.writableLength > 16 * 1024 * 1024) {
        clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(frame);
      bytesSent += e.chunk.payload.length;
    }
  });
  const server = http.createServer((req, res) => {
    if (req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          clients: clients.size,
          bytesSent,
          mediaBytesIn: node.core.getStats().mediaBytesIn,
          mediaBytesInFromSource: node.core.getStats().mediaBytesInFromSource,
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
    res.socket?.setNoDelay(true);
    clients.add(res);
    res.on('close', () => clients.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(o.port, host, () => resolve()));
  await node.start();
  await node.announceNow();
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/`,
    stats: () => ({ clients: clients.size, bytesSent, mediaBytesIn: node.core.getStats().mediaBytesIn }),
    stop: async () => {
      for (const res of clients) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await node.stop();
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
          // A new run of the broadcaster (restarted): start over there, as swarm viewers do.
          if (playout.beginsNewRun(chunk)) {
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
