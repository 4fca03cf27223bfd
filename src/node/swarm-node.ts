// Node runtime around the protocol core: owns the TCP listener and connections, the timers
// and the tracker announces, and feeds everything into PeerCore with Date.now(). Decisions
// about chunks live in the core; decisions about connections (dial, refuse, ban) live here,
// in one place.

import { randomBytes, randomInt } from 'node:crypto';
import type { Chunk } from '../protocol/chunk.js';
import { decodeMessage, encodeMessage, PEER_ID_BYTES } from '../protocol/codec.js';
import { RemoteProtocolError } from '../protocol/errors.js';
import { bytesToHex } from '../protocol/hex.js';
import { type CoreEvent, PeerCore, type PeerCoreConfig, type PeerId } from '../protocol/peer-core.js';
import { seededRandom } from '../protocol/random.js';
import { TcpTransport } from '../transport/tcp.js';
import type { Connection, Listener } from '../transport/transport.js';
import { nodeVerify } from './keys.js';
import type { Logger } from './log.js';
import { announce } from './tracker-client.js';

export interface SwarmNodeOptions {
  role: 'source' | 'viewer';
  channelKey: Uint8Array;
  /** Address the peer listener binds. @default '0.0.0.0' */
  host: string;
  /** Peer listener port; 0 picks a free one. */
  port: number;
  /** Address announced to the tracker for other peers to dial; default: what the tracker sees. */
  announceAddress?: string;
  trackers: string[];
  /** Neighbours this node dials up to (it still accepts up to the core's maximum). @default 8 */
  dialTarget?: number;
  core?: Partial<PeerCoreConfig>;
  log: Logger;
}

/** How long a peer that broke the protocol is refused. */
const BAN_MS = 10 * 60 * 1000;
const DIAL_TIMEOUT_MS = 4000;
/** Bytes queued to one peer beyond which it is dropped. */
const MAX_SEND_BUFFER_BYTES = 8 * 1024 * 1024;

interface Link {
  readonly id: PeerId;
  readonly conn: Connection;
  readonly outbound: boolean;
  readonly dialedPeerId?: string;
  remotePeerId?: string;
  wireBytesIn: number;
  wireBytesOut: number;
}

export class SwarmNode {
  readonly core: PeerCore;
  readonly peerId: string;
  private readonly transport = new TcpTransport();
  private listener: Listener | undefined;
  private readonly links = new Map<PeerId, Link>();
  private readonly dialing = new Set<string>();
  private readonly banned = new Map<string, number>();
  private nextLinkId = 1;
  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;
  private announceTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listeners: ((e: CoreEvent) => void)[] = [];
  /** Control bytes (everything on the wire that is not chunk payload), both directions. */
  controlBytes = 0;
  trackerFailures = 0;

  constructor(private readonly options: SwarmNodeOptions) {
    const peerId = randomBytes(PEER_ID_BYTES);
    this.peerId = bytesToHex(peerId);
    this.core = new PeerCore(
      { ...options.core, role: options.role },
      { channelKey: options.channelKey, localPeerId: peerId, verify: nodeVerify, random: seededRandom(randomInt(2 ** 31)) },
    );
  }

  get port(): number {
    return this.listener?.port ?? 0;
  }

  onEvent(listener: (e: CoreEvent) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    this.listener = await this.transport.listen(this.options.host, this.options.port, (conn) => this.accept(conn));
  }

  /** First announce to every tracker; resolves when at least one answered, else throws the first error. */
  async announceNow(): Promise<void> {
    const results = await Promise.allSettled(this.options.trackers.map((t) => this.announceTo(t)));
    const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<number>[];
    if (ok.length === 0) {
      this.trackerFailures++;
      throw (results[0] as PromiseRejectedResult).reason;
    }
    this.trackerFailures = 0;
    this.scheduleAnnounce(Math.min(...ok.map((r) => r.value)));
  }

  publish(chunk: Chunk): void {
    this.core.publish(Date.now(), chunk);
    this.pump();
  }

  linkStats(): { peerId: string | undefined; address: string; outbound: boolean; wireBytesIn: number; wireBytesOut: number }[] {
    return [...this.links.values()].map((l) => ({
      peerId: l.remotePeerId,
      address: `${l.conn.remoteAddress}:${l.conn.remotePort}`,
      outbound: l.outbound,
      wireBytesIn: l.wireBytesIn,
      wireBytesOut: l.wireBytesOut,
    }));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.announceTimer);
    await Promise.allSettled(
      this.options.trackers.map((t) =>
        announce(t, {
          channelId: bytesToHex(this.options.channelKey),
          peerId: this.peerId,
          port: this.port || 1,
          role: this.options.role,
          event: 'stopped',
        }),
      ),
    );
    for (const l of this.links.values()) l.conn.close();
    await this.listener?.close();
  }

  private scheduleAnnounce(intervalMs: number): void {
    clearTimeout(this.announceTimer);
    if (this.stopped) return;
    this.announceTimer = setTimeout(() => {
      this.announceNow().catch((err: Error) => {
        if (this.trackerFailures === 1) this.options.log.warn(`${err.message}; retrying`);
        this.scheduleAnnounce(Math.min(30_000, 2000 * this.trackerFailures));
      });
    }, intervalMs);
  }

  private async announceTo(trackerUrl: string): Promise<number> {
    const answer = await announce(trackerUrl, {
      channelId: bytesToHex(this.options.channelKey),
      peerId: this.peerId,
      port: this.port,
      role: this.options.role,
      ...(this.options.announceAddress !== undefined ? { address: this.options.announceAddress } : {}),
    });
    const target = this.options.dialTarget ?? 8;
    const connected = new Set([...this.links.values()].map((l) => l.remotePeerId ?? l.dialedPeerId));
    for (const p of answer.peers) {
      if (this.links.size + this.dialing.size >= target || !this.core.acceptsNeighbour()) break;
      if (p.peerId === this.peerId || connected.has(p.peerId) || this.dialing.has(p.peerId) || this.isBanned(p.peerId)) continue;
      this.dial(p.peerId, p.address, p.port);
    }
    return answer.intervalMs;
  }

  private dial(peerId: string, address: string, port: number): void {
    this.dialing.add(peerId);
    this.transport
      .dial(address, port, DIAL_TIMEOUT_MS)
      .then((conn) => {
        this.dialing.delete(peerId);
        if (this.stopped || !this.core.acceptsNeighbour()) {
          conn.close();
          return;
        }
        this.attach(conn, true, peerId);
      })
      .catch((err: Error) => {
        this.dialing.delete(peerId);
        this.options.log.debug(`could not reach peer ${peerId.slice(0, 8)} at ${address}:${port}: ${err.message}`);
      });
  }

  private accept(conn: Connection): void {
    if (this.stopped || !this.core.acceptsNeighbour() || this.isBanned(conn.remoteAddress)) {
      conn.close();
      return;
    }
    this.attach(conn, false);
  }

  private attach(conn: Connection, outbound: boolean, dialedPeerId?: string): void {
    const id = `${outbound ? 'o' : 'i'}${this.nextLinkId++}`;
    const link: Link = { id, conn, outbound, ...(dialedPeerId ? { dialedPeerId } : {}), wireBytesIn: 0, wireBytesOut: 0 };
    this.links.set(id, link);
    conn.setHandlers({
      onFrame: (frame) => {
        link.wireBytesIn += frame.length + 4;
        let msg: ReturnType<typeof decodeMessage>;
        try {
          msg = decodeMessage(frame);
        } catch (err) {
          if (err instanceof RemoteProtocolError) return this.punish(link, `sent a malformed frame: ${err.message}`);
          throw err;
        }
        this.controlBytes += frame.length + 4 - (msg.type === 5 ? msg.chunk.payload.length : 0);
        this.core.handleMessage(Date.now(), id, msg);
        this.pump();
      },
      onClose: (error) => {
        this.links.delete(id);
        if (error instanceof RemoteProtocolError) this.options.log.warn(`dropped peer at ${conn.remoteAddress}: ${error.message}`);
        this.core.handleDisconnected(Date.now(), id);
        this.pump();
      },
    });
    this.core.handleConnected(Date.now(), id);
    this.pump();
  }

  /** The one place where a peer's misbehaviour is answered: drop it and refuse it for a while. */
  private punish(link: Link, reason: string): void {
    this.options.log.warn(`dropping peer ${link.remotePeerId?.slice(0, 8) ?? link.conn.remoteAddress}: ${reason}`);
    const until = Date.now() + BAN_MS;
    if (link.remotePeerId) this.banned.set(link.remotePeerId, until);
    if (link.dialedPeerId) this.banned.set(link.dialedPeerId, until);
    link.conn.close();
  }

  private isBanned(key: string): boolean {
    const until = this.banned.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.banned.delete(key);
    return false;
  }

  /** Drains the core's outputs after every input, then re-arms its timer. */
  private pump(): void {
    for (let t = this.core.pollTransmit(); t !== undefined; t = this.core.pollTransmit()) {
      const link = this.links.get(t.to);
      if (link === undefined) continue;
      if (link.conn.bufferedBytes > MAX_SEND_BUFFER_BYTES) {
        // The peer does not read what it asked for: it cannot make us hold unbounded memory.
        this.punish(link, 'does not read what it requests');
        continue;
      }
      const frame = encodeMessage(t.msg);
      link.wireBytesOut += frame.length + 4;
      this.controlBytes += frame.length + 4 - (t.msg.type === 5 ? t.msg.chunk.payload.length : 0);
      link.conn.send(frame);
    }
    for (let e = this.core.pollEvent(); e !== undefined; e = this.core.pollEvent()) {
      if (e.type === 'hello') this.onHello(e.peer, bytesToHex(e.peerId));
      else if (e.type === 'misbehaved') {
        const link = this.links.get(e.peer);
        if (link) this.punish(link, e.reason);
      }
      for (const l of this.listeners) l(e);
    }
    const at = this.core.pollTimeout();
    if (at === undefined || this.stopped || at === this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timerAt = undefined;
        this.core.handleTimeout(Date.now());
        this.pump();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private onHello(id: PeerId, remotePeerId: string): void {
    const link = this.links.get(id);
    if (link === undefined) return;
    if (remotePeerId === this.peerId || this.isBanned(remotePeerId)) {
      link.conn.close();
      return;
    }
    const other = [...this.links.values()].find((l) => l !== link && l.remotePeerId === remotePeerId);
    link.remotePeerId = remotePeerId;
    if (other === undefined) return;
    // Two connections to one peer (both dialled at once): both sides keep the one dialled by
    // the smaller peer id, so they agree without talking; same direction twice keeps the older.
    let loser = link;
    if (other.outbound !== link.outbound) {
      const keepOutbound = this.peerId < remotePeerId;
      loser = link.outbound === keepOutbound ? other : link;
    }
    loser.conn.close();
  }
}
