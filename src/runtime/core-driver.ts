// Drives a PeerCore over any set of Connections (TCP, WebRTC): decodes frames into the core,
// drains its outputs after every input, keeps its timer armed, and decides what happens to a
// peer that breaks the protocol (the one place for that policy). Runs in node and in browsers:
// it uses only timers and Date.now, which both have.

import { decodeMessage, encodeMessage, MsgType, type SeqRef } from '../protocol/codec.js';
import { RemoteProtocolError } from '../protocol/errors.js';
import { bytesToHex } from '../protocol/hex.js';
import type { CoreEvent, PeerCore, PeerId } from '../protocol/peer-core.js';
import { frameHeaderBytes } from '../transport/framing.js';
import type { LinkPath } from '../transport/ice.js';
import type { Connection } from '../transport/transport.js';

export interface DriverLog {
  debug(msg: string): void;
  warn(msg: string): void;
}

/** How long a peer that broke the protocol is refused. */
export const BAN_MS = 10 * 60 * 1000;
/** Bytes queued to one peer beyond which it is dropped: it does not read what it asked for. */
export const MAX_SEND_BUFFER_BYTES = 8 * 1024 * 1024;

export type LinkKind = 'tcp' | 'webrtc';

export interface Link {
  readonly id: PeerId;
  readonly conn: Connection;
  readonly kind: LinkKind;
  readonly outbound: boolean;
  readonly dialedPeerId?: string;
  remotePeerId?: string;
  wireBytesIn: number;
  wireBytesOut: number;
  /** Each direction's last sequence number: the codec sends the next as a step from it. */
  readonly txSeq: SeqRef;
  readonly rxSeq: SeqRef;
}

export interface LinkStats {
  peerId: string | undefined;
  address: string;
  kind: LinkKind;
  /** direct, reflexive (through a NAT mapping) or relayed (TURN); absent until ICE says. */
  path?: LinkPath;
  outbound: boolean;
  wireBytesIn: number;
  wireBytesOut: number;
}

export class CoreDriver {
  private readonly links = new Map<PeerId, Link>();
  private readonly banned = new Map<string, number>();
  private readonly listeners: ((e: CoreEvent) => void)[] = [];
  private nextLinkId = 1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt: number | undefined;
  private stopped = false;
  /** Control bytes (everything on the wire that is not chunk payload), both directions. */
  controlBytes = 0;

  constructor(
    readonly core: PeerCore,
    readonly localPeerId: string,
    private readonly log: DriverLog,
  ) {}

  onEvent(listener: (e: CoreEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Whether we hold a link to (or are dialling) the peer whose hex id starts with `prefix`. */
  linkedTo(prefix: string): boolean {
    for (const id of this.knownPeerIds()) if (id.startsWith(prefix)) return true;
    return false;
  }

  get linkCount(): number {
    return this.links.size;
  }

  /** Remote peer ids we hold a link to (or are dialling under a known id). */
  knownPeerIds(): Set<string> {
    const ids = new Set<string>();
    for (const l of this.links.values()) {
      const id = l.remotePeerId ?? l.dialedPeerId;
      if (id !== undefined) ids.add(id);
    }
    return ids;
  }

  /** Whether a new connection may be taken: room in the core, and the key (peer id or address) not banned. */
  accepts(key?: string): boolean {
    return !this.stopped && this.core.acceptsNeighbour() && (key === undefined || !this.isBanned(key));
  }

  /**
   * For a connection someone opened to us: as accepts(), but when full, first drop the
   * neighbour idle for longest if the core names one (idle connections, an attacker's too,
   * must not keep every newcomer away from the broadcaster).
   */
  acceptsIncoming(key?: string): boolean {
    if (this.stopped || (key !== undefined && this.isBanned(key))) return false;
    if (this.core.acceptsNeighbour()) return true;
    const idle = this.core.idleNeighbour(Date.now());
    const link = idle === undefined ? undefined : this.links.get(idle);
    if (link === undefined) return false;
    this.log.debug(`dropping idle peer ${link.remotePeerId?.slice(0, 8) ?? link.conn.remoteAddress} for a newcomer`);
    link.conn.close();
    this.links.delete(link.id);
    this.core.handleDisconnected(Date.now(), link.id);
    this.pump();
    return this.core.acceptsNeighbour();
  }

  attach(conn: Connection, kind: LinkKind, outbound: boolean, dialedPeerId?: string): void {
    const id = `${kind === 'tcp' ? 't' : 'w'}${outbound ? 'o' : 'i'}${this.nextLinkId++}`;
    const link: Link = {
      id,
      conn,
      kind,
      outbound,
      ...(dialedPeerId ? { dialedPeerId } : {}),
      wireBytesIn: 0,
      wireBytesOut: 0,
      txSeq: { seq: 0 },
      rxSeq: { seq: 0 },
    };
    this.links.set(id, link);
    conn.setHandlers({
      onFrame: (frame) => {
        const framed = framedBytes(link, frame.length);
        link.wireBytesIn += framed;
        let msg: ReturnType<typeof decodeMessage>;
        try {
          msg = decodeMessage(frame, this.core.channelKey, link.rxSeq);
        } catch (err) {
          if (err instanceof RemoteProtocolError) {
            this.punish(link, `sent a malformed frame: ${err.message}`);
            return;
          }
          throw err;
        }
        this.controlBytes += framed - (msg.type === MsgType.ChunkData ? msg.chunk.payload.length : 0);
        this.core.handleMessage(Date.now(), id, msg);
        this.pump();
      },
      onClose: (error) => {
        this.links.delete(id);
        if (error instanceof RemoteProtocolError) this.log.warn(`dropped peer at ${conn.remoteAddress}: ${error.message}`);
        this.core.handleDisconnected(Date.now(), id);
        this.pump();
      },
    });
    this.core.handleConnected(Date.now(), id);
    this.pump();
  }

  /** Drains the core's outputs after an input, then re-arms its timer. Call after every core input. */
  pump(): void {
    for (let t = this.core.pollTransmit(); t !== undefined; t = this.core.pollTransmit()) {
      const link = this.links.get(t.to);
      if (link === undefined) continue;
      if (link.conn.bufferedBytes > MAX_SEND_BUFFER_BYTES) {
        this.punish(link, 'does not read what it requests');
        continue;
      }
      const frame = encodeMessage(t.msg, link.txSeq);
      const framed = framedBytes(link, frame.length);
      link.wireBytesOut += framed;
      this.controlBytes += framed - (t.msg.type === MsgType.ChunkData ? t.msg.chunk.payload.length : 0);
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

  linkStats(): LinkStats[] {
    return [...this.links.values()].map((l) => ({
      peerId: l.remotePeerId,
      address: `${l.conn.remoteAddress}:${l.conn.remotePort}`,
      kind: l.kind,
      ...(l.conn.path !== undefined ? { path: l.conn.path } : {}),
      outbound: l.outbound,
      wireBytesIn: l.wireBytesIn,
      wireBytesOut: l.wireBytesOut,
    }));
  }

  isBanned(key: string): boolean {
    const until = this.banned.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.banned.delete(key);
    return false;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const l of this.links.values()) l.conn.close();
  }

  /** The policy for a peer that broke the protocol: drop the connection and refuse it for a while. */
  private punish(link: Link, reason: string): void {
    this.log.warn(`dropping peer ${link.remotePeerId?.slice(0, 8) ?? link.conn.remoteAddress}: ${reason}`);
    const until = Date.now() + BAN_MS;
    if (link.remotePeerId) this.banned.set(link.remotePeerId, until);
    if (link.dialedPeerId) this.banned.set(link.dialedPeerId, until);
    if (this.banned.size > 10_000) this.banned.delete(this.banned.keys().next().value as string);
    link.conn.close();
  }

  private onHello(id: PeerId, remotePeerId: string): void {
    const link = this.links.get(id);
    if (link === undefined) return;
    if (remotePeerId === this.localPeerId || this.isBanned(remotePeerId)) {
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
      const keepOutbound = this.localPeerId < remotePeerId;
      loser = link.outbound === keepOutbound ? other : link;
    }
    loser.conn.close();
  }
}

/** Bytes a frame takes on its link: TCP adds a length prefix, a data channel keeps message boundaries itself. */
function framedBytes(link: Link, length: number): number {
  return length + (link.kind === 'tcp' ? frameHeaderBytes(length) : 0);
}
