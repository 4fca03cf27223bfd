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

  const loop = async () => {
    let retryMs = 250;
    while (!abort.signal.aborted) {
      try {
        const u = new URL(url);
        if (next !== undefined) u.searchParams.set('from', String(next));
        const res = await fetch(u, { signal: abort.signal, cache: 'no-store' });
        if (!res.ok) throw new Error(`feed answered ${res.status}`);
        deliver(decodeFeed(new Uint8Array(await res.arrayBuffer())));
        retryMs = 250;
      } catch (err) {
        if (abort.signal.aborted) return;
        console.warn(`meshtv feed: ${(err as Error).message}; retrying in ${retryMs} ms`);
        await new Promise((r) => setTimeout(r, retryMs));
        retryMs = Math.min(MAX_RETRY_DELAY_MS, retryMs * 2);
      }
    }
  };
  void loop();

  const rate = () => {
    const now = performance.now();
    while (samples.length > 0 && now - (samples[0] as { at: number }).at > RATE_WINDOW_MS) samples.shift();
    let bytes = 0;
    for (const s of samples) bytes += s.bytes;
    return (bytes * 8) / (RATE_WINDOW_MS / 1000);
  };

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
    stats(): BrowserViewerStats {
      const due = counts.played + counts.skipped;
      return {
        peers: 0,
        paths: { direct: 0, reflexive: 0, relayed: 0 },
        failedConnections: 0,
        shareFromPeers: 0,
        lagMs,
        notLiveAgeMs: undefined,
        bufferMs: 0,
        downloadBps: rate(),
        uploadBps: 0,
        mediaBytesIn: counts.bytes,
        mediaBytesOut: 0,
        mediaBytesFromOrigin: counts.bytes,
        chunksPlayed: counts.played,
        chunksSkipped: counts.skipped,
        continuity: due === 0 ? 1 : counts.played / due,
        rendition: undefined,
        quality: 'auto',
        switchingTo: undefined,
        switches: { up: 0, down: 0 },
      };
    },
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
