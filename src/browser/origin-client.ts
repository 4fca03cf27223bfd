/// <reference lib="dom" />
// The page's side of the broadcaster's HTTP origin (src/native/origin-routes.ts), the base
// rendition's last resort:
//   - a tab with peers fetches a chunk now and then that the swarm did not bring in time;
//   - a tab with no reachable peer (no WebRTC in this browser, or none answered in time) asks
//     the origin for the live edge, gets a lease, and hands the newest keyframe chunk to its
//     core, which starts playback there and from then on asks the origin for each chunk due
//     soon that no neighbour offers. Peers found later offer the chunks first, so the tab moves
//     over to them by itself and the lease lapses.
// Every chunk is checked by the core like one from a peer: the origin is trusted with nothing.

import { decodeChunk } from '../protocol/chunk.js';
import type { BrowserLane } from './browser-lanes.js';

/**
 * What the origin does for this tab: 'unused' (peers bring the stream, or nothing asked yet),
 * 'streaming' (chunks came from it lately), 'full' (it refused: its budget is spent),
 * 'unreachable' (it did not answer), 'none' (the channel publishes no origin).
 */
export type OriginState = 'unused' | 'streaming' | 'full' | 'unreachable' | 'none';

/** An origin that has not answered by then is taken as unreachable (a stalled socket must not hold the tab). */
const EDGE_TIMEOUT_MS = 5000;
const CHUNK_TIMEOUT_MS = 6000;
/** Chunks from the origin within this long count as streaming from it. */
const STREAMING_WINDOW_MS = 3000;

export class OriginClient {
  private readonly inFlight = new Set<number>();
  private lease: string | undefined;
  private lastChunkAtMs: number | undefined;
  private refusal: 'full' | 'unreachable' | 'none' | undefined;

  constructor(private readonly originUrl: () => string | undefined) {}

  state(nowMs: number): OriginState {
    if (this.lastChunkAtMs !== undefined && nowMs - this.lastChunkAtMs < STREAMING_WINDOW_MS) return 'streaming';
    if (this.originUrl() === undefined) return 'none';
    return this.refusal ?? 'unused';
  }

  /** No peer brought the stream: start from the origin's live edge, if it takes us. */
  async join(lane: BrowserLane): Promise<void> {
    const originUrl = this.originUrl();
    if (originUrl === undefined) {
      this.refusal = 'none';
      return;
    }
    let edge: { seq?: unknown; lease?: unknown; error?: unknown };
    try {
      const res = await fetch(`${originUrl}/edge.json`, { cache: 'no-store', signal: AbortSignal.timeout(EDGE_TIMEOUT_MS) });
      edge = (await res.json()) as typeof edge;
      if (!res.ok) {
        this.refusal = edge.error === 'full' || edge.error === 'address' ? 'full' : undefined;
        return;
      }
    } catch {
      this.refusal = 'unreachable';
      return;
    }
    if (typeof edge.seq !== 'number' || !Number.isSafeInteger(edge.seq) || typeof edge.lease !== 'string') return;
    this.lease = edge.lease;
    this.fetch(lane, edge.seq);
  }

  /** Chunk `seq` from the origin into the lane's core, which checks it. */
  fetch(lane: BrowserLane, seq: number): void {
    const originUrl = this.originUrl();
    if (originUrl === undefined || this.inFlight.has(seq)) return;
    this.inFlight.add(seq);
    const query = this.lease === undefined ? '' : `?lease=${encodeURIComponent(this.lease)}`;
    // The origin holds a request for a chunk not cut yet up to 3 s; past that it is lost anyway.
    fetch(`${originUrl}/chunk/${seq}${query}`, { cache: 'no-store', signal: AbortSignal.timeout(CHUNK_TIMEOUT_MS) })
      .then(async (res) => {
        if (res.status === 503) this.refusal = 'full';
        if (!res.ok) return;
        const chunk = decodeChunk(new Uint8Array(await res.arrayBuffer()));
        this.refusal = undefined;
        if (!lane.driver.handleOriginChunk(chunk)) return;
        lane.originBytes += chunk.payload.length;
        this.lastChunkAtMs = Date.now();
      })
      .catch(() => {
        this.refusal = 'unreachable';
      })
      .finally(() => this.inFlight.delete(seq));
  }
}
