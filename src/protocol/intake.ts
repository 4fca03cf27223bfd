// Chunks coming in, from a neighbour or the HTTP origin: checked by the rules (channel,
// signature, replays), measured (service time, fetch rate), stored, the requests still out for
// them taken back, announced to the neighbours lacking them, pushed on when they came unasked,
// and handed to playout.

import { type Chunk, FLAG_KEYFRAME } from './chunk.js';
import { haveRoomFlags, MsgType, NO_SEQ } from './codec.js';
import type { CoreState } from './core-state.js';
import { FetchRateMeter } from './fetch-rate.js';
import type { Fetching } from './fetching.js';
import type { Neighbour } from './neighbour.js';
import { foreignChunk, forgedChunk, forgiveStrikes, isReplay, strike } from './neighbour-rules.js';
import type { Serving } from './serving.js';

/** Weight of the newest sample in a neighbour's service-time average. */
const SERVICE_EWMA_GAIN = 0.25;

export class Intake {
  readonly fetches = new FetchRateMeter();

  constructor(
    private readonly state: CoreState,
    private readonly fetching: Fetching,
    private readonly serving: Serving,
  ) {}

  onChunk(nowMs: number, n: Neighbour, chunk: Chunk): void {
    const s = this.state;
    const foreign = foreignChunk(chunk, s.components.channelKey);
    if (foreign !== undefined) {
      s.misbehaved(n, foreign);
      return;
    }
    const size = chunk.payload.length;
    const askedAt = n.pending.get(chunk.seq);
    const requested = s.requests.remove(n, chunk.seq);
    if (askedAt !== undefined) {
      const took = nowMs - askedAt;
      n.serviceMs = n.serviceMs === undefined ? took : n.serviceMs + SERVICE_EWMA_GAIN * (took - n.serviceMs);
    }
    this.fetches.noteArrival(nowMs, size, askedAt);
    if (s.config.role === 'source' || s.chunks.has(chunk.seq) || chunk.seq < s.chunks.start()) {
      // Nothing new: no need to spend a signature check on it.
      s.stats.duplicateBytes += size;
      const replay = isReplay(n, chunk.seq, requested, s.chunks.newest);
      n.holds.add(chunk.seq);
      const out = replay ? strike(n, 'replays-unasked', s.config) : undefined;
      if (out !== undefined) s.misbehaved(n, out);
      return;
    }
    const forged = forgedChunk(chunk, s.components.verify);
    if (forged !== undefined) {
      s.misbehaved(n, forged);
      return;
    }
    n.lastActiveMs = nowMs;
    if (this.fetching.startsNewRun(chunk)) this.fetching.restart();
    forgiveStrikes(n);
    n.holds.add(chunk.seq);
    if ((chunk.flags & FLAG_KEYFRAME) !== 0 && (n.newestKeySeq === NO_SEQ || chunk.seq > n.newestKeySeq)) n.newestKeySeq = chunk.seq;
    n.bytesIn += size;
    s.stats.mediaBytesIn += size;
    if (n.role === 'source') s.stats.mediaBytesInFromSource += size;
    // Only a chunk that was pushed to us is pushed on (see Serving.pushFresh).
    this.accept(nowMs, chunk, n, !requested);
  }

  /** A chunk the runtime fetched from the HTTP origin; returns true when it was new and valid. */
  onOriginChunk(nowMs: number, chunk: Chunk): boolean {
    const s = this.state;
    if (foreignChunk(chunk, s.components.channelKey) !== undefined || s.chunks.has(chunk.seq) || chunk.seq < s.chunks.start()) return false;
    if (forgedChunk(chunk, s.components.verify) !== undefined) return false;
    if (this.fetching.startsNewRun(chunk)) this.fetching.restart();
    s.stats.mediaBytesIn += chunk.payload.length;
    this.accept(nowMs, chunk, undefined, false);
    return true;
  }

  /**
   * A new verified chunk, from neighbour `from` or the origin: stored, requests still out for it
   * taken back, announced to the neighbours lacking it, handed to playout.
   */
  private accept(nowMs: number, chunk: Chunk, from: Neighbour | undefined, pushOn: boolean): void {
    const s = this.state;
    const fresh = chunk.seq > s.chunks.newest;
    this.fetching.store(nowMs, chunk);
    s.inferSourceHolds(nowMs, chunk.seq);
    if (s.requests.has(chunk.seq)) this.fetching.cancelRequests(nowMs, chunk.seq);
    s.events.push({ type: 'chunk', chunk, from: from?.peer });
    // A viewer that does not upload does not advertise either: nobody waits on it.
    if (s.config.uploadEnabled) {
      if (pushOn && fresh && s.uploads.paced) this.serving.pushFresh(chunk);
      // Neighbours whose hello is still on its way are told too: our hello and buffer map went
      // ahead of this on the link, and a chunk that arrived in between was otherwise never
      // advertised to them (a newcomer skipped it soon after starting).
      // One message for all of them: nothing changes a message once it is queued.
      const have = { type: MsgType.Have, seq: chunk.seq, flags: chunk.flags | haveRoomFlags(s.uploads.roomInMs(nowMs)) } as const;
      for (const other of s.neighbourList) {
        if (other === from || other.closing || other.holds.has(chunk.seq)) continue;
        s.send(nowMs, other.peer, have);
      }
      this.serving.pump(nowMs);
    }
    this.fetching.advancePlayout(nowMs);
  }
}
