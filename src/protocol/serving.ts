// The upload side of a PeerCore: the source's pushes of fresh chunks, answers to neighbours'
// requests (a chunk, Reject or Busy), pushes of fresh chunks on down the chains, and, with an
// upload cap, the pacing of all of it (./upload-pacer.ts: requests queue, Busy with a retry
// hint when full).

import { type Chunk, FLAG_KEYFRAME } from './chunk.js';
import { busyRetryOnWire, chunkMessageBytes, MsgType } from './codec.js';
import type { CoreState } from './core-state.js';
import { choosePushTargets } from './fresh-push.js';
import type { Neighbour } from './neighbour.js';
import { takeRequest } from './neighbour-rules.js';

export class Serving {
  private pushCursor = 0;
  /** Sends a chunk the upload pacer lets go; false when its neighbour left or it was evicted. */
  private readonly sendQueued = (n: Neighbour, seq: number): boolean => {
    const chunk = this.state.chunks.get(seq);
    if (chunk === undefined || n.closing || this.state.neighbours.get(n.peer) !== n) return false;
    this.state.sendChunk(n, chunk);
    return true;
  };

  constructor(private readonly state: CoreState) {}

  /** Source only: pushes a freshly stored chunk to the next relaying viewers in turn, and announces it to the rest. */
  publish(nowMs: number, chunk: Chunk): void {
    const s = this.state;
    const ready = s.neighbourList.filter((n) => n.role === 'viewer' && n.relays && !n.closing);
    const pushTo = new Set<Neighbour>();
    for (let i = 0; i < Math.min(s.config.sourcePushFanout, ready.length); i++) {
      pushTo.add(ready[(this.pushCursor + i) % ready.length] as Neighbour);
    }
    this.pushCursor = (this.pushCursor + pushTo.size) % Math.max(1, ready.length);
    const have = { type: MsgType.Have, seq: chunk.seq, flags: chunk.flags } as const;
    // A relaying viewer takes us to hold every chunk before the newest it verified, and hears of
    // this one from the viewer we push it to (protocol 7): a HAVE to each was one small packet
    // per chunk per tab, 15% of a broadcaster's packets beside four browser tabs (0.6% of its
    // bytes, docs/architecture.md). A keyframe is still told, as
    // is anyone who may hear of it from nobody else (a viewer that does not relay gets no
    // pushes, and may know only us; a neighbour whose hello is on its way).
    const told = (n: Neighbour) => (chunk.flags & FLAG_KEYFRAME) !== 0 || n.role !== 'viewer' || !n.relays;
    for (const n of s.neighbourList) {
      if (n.closing) continue;
      // A push counts as activity: the source cannot see whether its neighbour relays what it
      // is pushed, and evicting push-fed relays for every newcomer would churn the very
      // links the swarm's supply starts on (docs/security.md says what that leaves open).
      if (pushTo.has(n)) {
        n.lastActiveMs = nowMs;
        this.queueUpload(n, chunk, true);
      } else if (told(n)) s.send(nowMs, n.peer, have);
    }
    this.pump(nowMs);
  }

  onRequest(nowMs: number, n: Neighbour, seq: number, urgent: boolean): void {
    const s = this.state;
    const flood = takeRequest(n, nowMs, s.config);
    if (flood !== undefined) {
      s.misbehaved(n, flood);
      return;
    }
    const chunk = s.chunks.get(seq);
    if (chunk === undefined) {
      // Asking for what we do not hold is no activity: a link that only does that is idle.
      s.send(nowMs, n.peer, { type: MsgType.Reject, seq });
      return;
    }
    n.lastActiveMs = nowMs;
    // Sent it already (or it says it holds it): asking again would make us upload one chunk
    // over and over, which is how one peer could multiply the broadcaster's upload.
    if (n.holds.has(seq)) {
      s.send(nowMs, n.peer, { type: MsgType.Busy, seq, retryMs: busyRetryOnWire(s.config.busyBackoffMs) });
      return;
    }
    // An urgent request (its asker is about to stall) goes ahead of the queue, and is taken
    // a little past the queue's usual length.
    const room = s.uploads.roomInMs(nowMs);
    if (!s.config.uploadEnabled || room > (urgent ? s.config.urgentBacklogMs : 0)) {
      s.send(nowMs, n.peer, { type: MsgType.Busy, seq, retryMs: busyRetryOnWire(room) });
      return;
    }
    this.queueUpload(n, chunk, urgent);
    this.pump(nowMs);
  }

  /** A neighbour takes back a request: drop its chunk from our upload queue if it has not left. */
  onCancel(nowMs: number, n: Neighbour, seq: number): void {
    if (!this.state.uploads.cancel(n, seq)) return;
    this.state.stats.uploadsCancelled++;
    this.pump(nowMs);
  }

  /**
   * Hands a fresh chunk on to a few relaying neighbours that lack it (fresh-push.ts). Only
   * chunks that came unasked (from the source's push, or a viewer's) are pushed on, so pushes
   * run down chains from the source, ahead of the HAVEs. A viewer that pulled a chunk pushed it
   * too, to neighbours that had mostly asked for it elsewhere meanwhile: nearly all duplicates
   * were such crossed pushes. At 10,000 peers, chains of two pushes per step against one push
   * from every new holder: duplicates 0.91% -> 0.12%, lag p50 2.95 -> 2.78 s, continuity p5
   * 0.984 -> 0.986 (docs/architecture.md has the alternatives).
   */
  pushFresh(chunk: Chunk): void {
    const s = this.state;
    const c = s.config;
    const targets = choosePushTargets(s.neighbourList, chunk.seq, c.freshPushFanout, c.pushMaxHolderShare, s.components.random);
    // Each push goes ahead of the queue: queued last to first, the fastest leaves first.
    for (let i = targets.length - 1; i >= 0; i--) this.queueUpload(targets[i] as Neighbour, chunk, true);
  }

  /** Paced uploads: hands queued chunks to the runtime as the cap allows. */
  pump(nowMs: number): void {
    this.state.uploads.pump(nowMs, this.sendQueued);
  }

  /** Unpaced: the chunk goes to the runtime at once. Paced: it waits its turn (pushes go first). */
  private queueUpload(n: Neighbour, chunk: Chunk, first: boolean): void {
    const s = this.state;
    if (!s.uploads.paced) {
      s.sendChunk(n, chunk);
      return;
    }
    n.holds.add(chunk.seq);
    s.uploads.enqueue(n, chunk.seq, chunkMessageBytes(chunk), first);
  }
}
