// The broadcaster's HTTP origin, for browsers: any page may read it (CORS), since pages on a
// tracker's site fetch from it. Two routes:
//   GET /edge.json   the live edge for a browser with no peer: the newest keyframe chunk's
//                    number and a lease to stream from here (OriginGate), or why not (503 full);
//   GET /chunk/<n>   a signed chunk. The next few chunks not cut yet are waited for (a long
//                    poll of at most CHUNK_WAIT_MS), so a peerless page keeps up with the live
//                    edge without polling; anything else missing is a 404.
// The chunks are signed by the channel key, so the edge's numbers need no signature: a page
// that is told a wrong one finds a chunk that fails its checks, or none.

import type http from 'node:http';
import { type Chunk, encodeChunk, FLAG_KEYFRAME } from '../protocol/chunk.js';
import type { OriginGate } from './origin-gate.js';

/** How long a request for a chunk about to be cut waits for it. */
export const CHUNK_WAIT_MS = 3000;
/** Chunks past the newest that a request may wait for: about a second of stream. */
const WAIT_AHEAD = 10;
/** Requests waiting at once, beyond which they are answered at once: a bound on held sockets. */
const MAX_WAITING = 512;

const CORS = { 'access-control-allow-origin': '*' };

export interface ChunkOriginOptions {
  /** The base rendition's chunk by number, while held. */
  chunk: (seq: number) => Chunk | undefined;
  gate: OriginGate;
  /** Stream bytes sent, for S (a HEAD request sends none). */
  sent: (bytes: number) => void;
}

export class ChunkOrigin {
  private newest: number | undefined;
  private newestKeyframe: number | undefined;
  private readonly waiting = new Map<number, Set<() => void>>();
  private waitingCount = 0;

  constructor(private readonly o: ChunkOriginOptions) {}

  /** A chunk of the base rendition was cut: the edge moves and its waiters are answered. */
  published(chunk: Chunk): void {
    if (this.newest !== undefined && chunk.seq < this.newest) {
      // A new run numbered lower (a restart with the numbering lost): the edge starts afresh.
      this.newestKeyframe = undefined;
    }
    this.newest = chunk.seq;
    if ((chunk.flags & FLAG_KEYFRAME) !== 0) this.newestKeyframe = chunk.seq;
    const waiters = this.waiting.get(chunk.seq);
    if (waiters === undefined) return;
    this.waiting.delete(chunk.seq);
    for (const wake of waiters) wake();
  }

  /** Answers the origin's routes; false for any other path. */
  handle(path: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const client = req.socket.remoteAddress ?? '';
    if (path === '/edge.json') {
      this.edge(client, req, res);
      return true;
    }
    const m = /^\/chunk\/(\d{1,10})$/.exec(path);
    if (m === null) return false;
    // The path was checked already; the raw target may still be no URL at all ("http://[/.."),
    // so only its query is read, never the whole parsed again.
    const target = req.url ?? '';
    const query = target.indexOf('?');
    const lease = query < 0 ? undefined : (new URLSearchParams(target.slice(query + 1)).get('lease') ?? undefined);
    this.serveChunk(Number(m[1]), client, lease, req, res);
    return true;
  }

  private edge(client: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    // Asking for the edge takes a slot: only a real GET may.
    if (req.method !== 'GET') {
      res.writeHead(405, { ...CORS, allow: 'GET' }).end();
      return;
    }
    if (this.newestKeyframe === undefined || this.newest === undefined) {
      json(res, 503, { error: 'no chunks yet', message: 'the broadcast has not produced its first keyframe yet' });
      return;
    }
    const admitted = this.o.gate.admit(client, Date.now());
    if ('refused' in admitted) {
      const message =
        admitted.refused === 'full'
          ? 'the broadcaster is full: its HTTP origin serves as many viewers as its upload budget allows'
          : 'this address already streams from the broadcaster on as many screens as one address may';
      json(res, 503, { error: admitted.refused, message });
      return;
    }
    json(res, 200, { seq: this.newestKeyframe, newest: this.newest, lease: admitted.lease });
  }

  private serveChunk(seq: number, client: string, lease: string | undefined, req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunk = this.o.chunk(seq);
    if (chunk !== undefined) {
      this.send(chunk, client, lease, req, res);
      return;
    }
    // Only a leased stream waits for the next chunks: a tab with peers asks only for chunks cut
    // already, and anyone else could fill the waiting room and make a leased viewer skip one.
    const soon = this.newest !== undefined && seq > this.newest && seq <= this.newest + WAIT_AHEAD;
    if (!soon || this.waitingCount >= MAX_WAITING || !this.o.gate.holds(client, lease, Date.now())) {
      res.writeHead(404, { ...CORS, 'cache-control': 'no-store' }).end();
      return;
    }
    this.waitFor(seq, res, () => {
      const cut = this.o.chunk(seq);
      if (cut === undefined) res.writeHead(404, { ...CORS, 'cache-control': 'no-store' }).end();
      else this.send(cut, client, lease, req, res);
    });
  }

  /** Calls `then` once chunk `seq` is cut or CHUNK_WAIT_MS passed; never after the client left. */
  private waitFor(seq: number, res: http.ServerResponse, then: () => void): void {
    let waiters = this.waiting.get(seq);
    if (waiters === undefined) {
      waiters = new Set();
      this.waiting.set(seq, waiters);
    }
    const set = waiters;
    this.waitingCount++;
    const done = (answer: boolean) => {
      if (!set.delete(wake)) return;
      this.waitingCount--;
      if (set.size === 0 && this.waiting.get(seq) === set) this.waiting.delete(seq);
      clearTimeout(timer);
      if (answer) then();
    };
    const wake = () => done(true);
    set.add(wake);
    const timer = setTimeout(() => done(true), CHUNK_WAIT_MS);
    res.on('close', () => done(false));
  }

  private send(chunk: Chunk, client: string, lease: string | undefined, req: http.IncomingMessage, res: http.ServerResponse): void {
    const body = encodeChunk(chunk);
    const counted = req.method === 'GET';
    if (counted && !this.o.gate.charge(client, lease, chunk.payload.length, Date.now())) {
      json(res, 503, { error: 'full', message: 'the broadcaster is full: its HTTP origin has spent its upload budget' });
      return;
    }
    if (counted) this.o.sent(chunk.payload.length);
    res.writeHead(200, {
      ...CORS,
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-store',
    });
    res.end(counted ? body : undefined);
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...CORS, 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
