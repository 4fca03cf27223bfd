/// <reference lib="dom" />
// A BrowserViewer that long-polls an HTTP chunk feed (feed-format.ts) instead of joining the
// swarm: for developing the WebTV page and for the player tests (`/watch/<id>?src=<feed URL>`).
// Everything counts as coming from the origin; nothing is uploaded.

import type { BrowserViewer, BrowserViewerStats, PlayedChunk as PlayableChunk } from '../runtime.js';
import { decodeFeed } from './feed-format.js';

const RATE_WINDOW_MS = 5_000;
const MAX_RETRY_DELAY_MS = 5_000;
/** Beyond this many missing chunks in a row, one skip() stands for all of them. */
const MAX_SKIPS_ANNOUNCED = 64;

export async function startFeedViewer(src: string): Promise<BrowserViewer> {
  const url = new URL(src, location.href);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`feed URL must be http(s): ${src}`);
  const abort = new AbortController();
  let playCb: (chunk: PlayableChunk, lagMs: number) => void = () => undefined;
  let skipCb: (seq: number) => void = () => undefined;
  let next: number | undefined;
  let lagMs: number | undefined;
  const counts = { bytes: 0, played: 0, skipped: 0 };
  const samples: { at: number; bytes: number }[] = [];

  const deliver = (chunks: PlayableChunk[]) => {
    for (const c of chunks) {
      if (next !== undefined && c.seq < next) continue;
      if (next !== undefined && c.seq > next) {
        const missing = c.seq - next;
        counts.skipped += missing;
        if (missing > MAX_SKIPS_ANNOUNCED) skipCb(c.seq - 1);
        else for (let s = next; s < c.seq; s++) skipCb(s);
      }
      next = c.seq + 1;
      counts.played++;
      counts.bytes += c.payload.length;
      samples.push({ at: performance.now(), bytes: c.payload.length });
      lagMs = Date.now() - c.captureTimeMs;
      playCb(c, lagMs);
    }
  };

  void pollFeed(url, abort.signal, () => next, deliver);

  return {
    onPlay(cb) {
      playCb = cb;
    },
    onSkip(cb) {
      skipCb = cb;
    },
    onSwitch() {
      // a feed is one stream
    },
    renditions: [{ name: 'main', bitrateBps: 0, height: undefined }],
    setQuality() {
      // a feed is one stream
    },
    stats: () => feedStats(counts, lagMs, rateBps(samples)),
    setUploadLimit() {
      // nothing is uploaded from a feed
    },
    setUploadEnabled() {
      // nothing is uploaded from a feed
    },
    async stop() {
      abort.abort();
    },
  };
}

/** Long-polls the feed from the chunk after the last one delivered, backing off while it fails. */
async function pollFeed(url: URL, signal: AbortSignal, next: () => number | undefined, deliver: (chunks: PlayableChunk[]) => void) {
  let retryMs = 250;
  while (!signal.aborted) {
    try {
      const u = new URL(url);
      const from = next();
      if (from !== undefined) u.searchParams.set('from', String(from));
      const res = await fetch(u, { signal, cache: 'no-store' });
      if (!res.ok) throw new Error(`feed answered ${res.status}`);
      deliver(decodeFeed(new Uint8Array(await res.arrayBuffer())));
      retryMs = 250;
    } catch (err) {
      if (signal.aborted) return;
      console.warn(`meshtv feed: ${(err as Error).message}; retrying in ${retryMs} ms`);
      await new Promise((r) => setTimeout(r, retryMs));
      retryMs = Math.min(MAX_RETRY_DELAY_MS, retryMs * 2);
    }
  }
}

/** Download rate over the last RATE_WINDOW_MS; drops older samples. */
function rateBps(samples: { at: number; bytes: number }[]): number {
  const now = performance.now();
  while (samples.length > 0 && now - (samples[0] as { at: number }).at > RATE_WINDOW_MS) samples.shift();
  let bytes = 0;
  for (const s of samples) bytes += s.bytes;
  return (bytes * 8) / (RATE_WINDOW_MS / 1000);
}

/** A feed's figures in the swarm viewer's shape: everything from the origin, nothing uploaded. */
function feedStats(
  counts: { bytes: number; played: number; skipped: number },
  lagMs: number | undefined,
  downloadBps: number,
): BrowserViewerStats {
  const due = counts.played + counts.skipped;
  return {
    peers: 0,
    paths: { direct: 0, reflexive: 0, relayed: 0 },
    failedConnections: 0,
    shareFromPeers: 0,
    lagMs,
    notLiveAgeMs: undefined,
    bufferMs: 0,
    downloadBps,
    uploadBps: 0,
    mediaBytesIn: counts.bytes,
    mediaBytesOut: 0,
    mediaBytesFromOrigin: counts.bytes,
    // A test feed, not the broadcaster's origin: the page says nothing about peers over it.
    origin: 'unused',
    webrtc: typeof RTCPeerConnection === 'function',
    chunksPlayed: counts.played,
    chunksSkipped: counts.skipped,
    continuity: due === 0 ? 1 : counts.played / due,
    rendition: undefined,
    quality: 'auto',
    switchingTo: undefined,
    switches: { up: 0, down: 0 },
  };
}
