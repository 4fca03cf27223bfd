// Drives a PeerCore over any set of Connections (TCP, WebRTC): proves who is at the other end
// of each link before the core hears of it (./link-auth.ts), decodes frames into the core,
// takes every other input of the core too (publish, origin chunks, its timer) and drains its
// outputs after each one, keeps its timer armed, and decides what happens to a peer that
// breaks the protocol (the one place for that policy, with the bans and per-address caps of
// Admission). Runs in node and in browsers: it uses only timers and Date.now.

import { Emitter } from '../common/events.js';
import type { DriverLog } from '../common/log.js';
import type { NodeIdentity, VerifyFn } from '../crypto/signatures.js';
import { Admission, type AdmissionConfig, addressGroup } from '../protocol/admission.js';
import type { Chunk } from '../protocol/chunk.js';
import { decodeMessage, encodeMessage, MsgType, type WireMessage } from '../protocol/codec.js';
import type { CoreEvent, PeerId } from '../protocol/core-types.js';
import { RemoteProtocolError } from '../protocol/errors.js';
import { misbehaviourText } from '../protocol/misbehaviour.js';
import type { PeerCore } from '../protocol/peer-core.js';
import type { Connection } from '../transport/transport.js';
import { framedBytes, type Link, type LinkKind, type LinkStats, MAX_SEND_BUFFER_BYTES, STALE_LINK_MS } from './link.js';
import { type AuthResult, LinkAuth, makeAuth, peerIdHexOf } from './link-auth.js';

export interface CoreDriverInit {
  /** This node's key: its peer id on every link. */
  identity: NodeIdentity;
  /** Ed25519 verification, for the Auth of WebRTC links. */
  verify: VerifyFn;
  log: DriverLog;
  admission?: Partial<AdmissionConfig>;
}

export class CoreDriver {
  private readonly links = new Map<PeerId, Link>();
  readonly admission: Admission;
  readonly localPeerId: string;
  private readonly log: DriverLog;
  private readonly emitter = new Emitter<{ event: CoreEvent }>();
  private nextLinkId = 1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt: number | undefined;
  private stopped = false;
  /** Control bytes (everything on the wire that is not chunk payload), both directions. */
  controlBytes = 0;

  constructor(
    readonly core: PeerCore,
    private readonly init: CoreDriverInit,
  ) {
    this.localPeerId = peerIdHexOf(init.identity.publicKey);
    this.log = init.log;
    this.admission = new Admission(init.admission);
  }

  /** Calls `listener` on every event of the core from now on; returns the function that stops it. */
  onEvent(listener: (e: CoreEvent) => void): () => void {
    return this.emitter.on('event', listener);
  }

  /** Source only: a freshly cut and signed chunk enters the swarm. */
  publish(chunk: Chunk): void {
    this.core.publish(Date.now(), chunk);
    this.pump();
  }

  /** A chunk fetched from the HTTP origin; true when it was new and valid. */
  handleOriginChunk(chunk: Chunk): boolean {
    const fresh = this.core.handleOriginChunk(Date.now(), chunk);
    this.pump();
    return fresh;
  }

  /**
   * Whether we hold a live link to (or are dialling) the peer whose hex id starts with
   * `prefix`. A stale link to the broadcaster does not count (see STALE_LINK_MS): its new
   * run's offer must be answered.
   */
  linkedTo(prefix: string): boolean {
    const now = Date.now();
    for (const l of this.links.values()) {
      const id = l.remotePeerId ?? l.dialedPeerId;
      if (id?.startsWith(prefix) && !this.stale(l, now)) return true;
    }
    return false;
  }

  /** A link to the broadcaster silent for STALE_LINK_MS while the core starves: maybe dead. */
  private stale(l: Link, now: number): boolean {
    if (l.remoteRole !== 'source' || now - l.lastFrameAtMs < STALE_LINK_MS) return false;
    const last = this.core.getStats().lastChunkAtMs;
    return last === undefined || now - last >= STALE_LINK_MS;
  }

  get linkCount(): number {
    return this.links.size;
  }

  /** Whether we hold a link to (or are dialling under a known id) this peer, stale or not. */
  holds(peerId: string): boolean {
    for (const l of this.links.values()) if ((l.remotePeerId ?? l.dialedPeerId) === peerId) return true;
    return false;
  }

  /**
   * Whether a connection we dial may be taken: room in the core, and neither the peer id a
   * tracker vouched for nor its address banned.
   */
  accepts(peerId?: string, address?: string): boolean {
    return !this.stopped && this.core.acceptsNeighbour() && this.admission.refusal(Date.now(), addressGroup(address), peerId) === undefined;
  }

  /**
   * Why a connection someone opened to us is refused (undefined: it may come in). When full,
   * the neighbour idle for longest goes first if the core names one: idle connections, an
   * attacker's too, must not keep every newcomer away. Links from one address are capped, so
   * one host cannot take the slots that eviction frees.
   */
  refuseIncoming(address?: string, relayed = false): string | undefined {
    const refusal = this.groupRefusal(addressGroup(address, relayed));
    if (refusal !== undefined) return refusal;
    if (this.core.acceptsNeighbour()) return undefined;
    const idle = this.core.idleNeighbour(Date.now());
    const link = idle === undefined ? undefined : this.links.get(idle);
    if (link === undefined) return 'no free slot and no idle neighbour';
    this.log.debug(`dropping idle peer ${link.remotePeerId?.slice(0, 8) ?? link.conn.remoteAddress} for a newcomer`);
    this.detach(link);
    link.conn.close();
    this.pump();
    return this.core.acceptsNeighbour() ? undefined : 'full';
  }

  /**
   * The cheap part of refuseIncoming, before a handshake is spent on the connection: a banned
   * address, or one over its cap.
   */
  refusesAddress(address: string): string | undefined {
    return this.groupRefusal(addressGroup(address));
  }

  /** Stopping, a banned address group, or one at its cap of links. */
  private groupRefusal(group: string | undefined): string | undefined {
    if (this.stopped) return 'stopping';
    return (
      this.admission.refusal(Date.now(), group) ??
      (this.admission.roomFor(group) ? undefined : `already ${this.linkCountFrom(group)} links from ${group}`)
    );
  }

  /** refuseIncoming() as a yes or no. */
  acceptsIncoming(address?: string, relayed = false): boolean {
    return this.refuseIncoming(address, relayed) === undefined;
  }

  attach(conn: Connection, kind: LinkKind, outbound: boolean, dialedPeerId?: string): void {
    if (conn.binding === undefined) {
      this.log.warn(`refused a ${kind} link from ${conn.remoteAddress}: the transport cannot say who is at its end`);
      conn.close();
      return;
    }
    const id = `${kind === 'tcp' ? 't' : 'w'}${outbound ? 'o' : 'i'}${this.nextLinkId++}`;
    const group = addressGroup(conn.remoteAddress, conn.path === 'relayed');
    const link: Link = {
      id,
      conn,
      kind,
      outbound,
      ...(dialedPeerId ? { dialedPeerId } : {}),
      wireBytesIn: 0,
      wireBytesOut: 0,
      lastFrameAtMs: Date.now(),
      txSeq: { seq: 0 },
      rxSeq: { seq: 0 },
      auth: new LinkAuth(conn.binding, this.core.channelKey, this.init.verify),
      group,
    };
    this.links.set(id, link);
    this.admission.linkUp(group);
    // The core hears of the link before its first frame: a transport hands over at once the
    // frames that came before the link was attached (a WebRTC peer's hello and Auth can), and a
    // hello the core heard before the link was dropped, and a close before it left a neighbour
    // for a dead link.
    this.core.handleConnected(Date.now(), id);
    conn.setHandlers({
      onFrame: (frame) => {
        const framed = framedBytes(link, frame.length);
        link.wireBytesIn += framed;
        link.lastFrameAtMs = Date.now();
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
        if (msg.type === MsgType.Hello) this.onAuth(link, link.auth.onHello(msg));
        else if (msg.type === MsgType.Auth) this.onAuth(link, link.auth.onAuth(msg));
        else this.core.handleMessage(Date.now(), id, msg);
        this.pump();
      },
      onClose: (error) => {
        if (this.links.get(id) !== link) return;
        this.detach(link);
        if (error instanceof RemoteProtocolError) this.log.warn(`dropped peer at ${conn.remoteAddress}: ${error.message}`);
        this.pump();
      },
    });
    this.pump();
  }

  /**
   * Drains the core's outputs after an input, then re-arms its timer. Every input goes through
   * the driver (links, the timer, publish, handleOriginChunk), so each is followed by this.
   */
  private pump(): void {
    for (let t = this.core.pollTransmit(); t !== undefined; t = this.core.pollTransmit()) {
      const link = this.links.get(t.to);
      if (link === undefined) continue;
      if (link.conn.bufferedBytes > MAX_SEND_BUFFER_BYTES) {
        this.punish(link, 'does not read what it requests');
        continue;
      }
      this.sendTo(link, t.msg);
      // On a link that does not authenticate its ends, our Auth follows our hello.
      if (t.msg.type === MsgType.Hello && link.conn.binding?.kind === 'fingerprints')
        this.sendTo(link, makeAuth(this.init.identity, this.core.channelKey, link.conn.binding));
    }
    for (let e = this.core.pollEvent(); e !== undefined; e = this.core.pollEvent()) {
      if (e.type === 'hello') this.onHello(e.peer, e.role);
      else if (e.type === 'misbehaved') {
        const link = this.links.get(e.peer);
        if (link) this.punish(link, misbehaviourText(e));
      }
      this.emitter.emit('event', e);
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

  private sendTo(link: Link, msg: WireMessage): void {
    const frame = encodeMessage(msg, link.txSeq);
    const framed = framedBytes(link, frame.length);
    link.wireBytesOut += framed;
    this.controlBytes += framed - (msg.type === MsgType.ChunkData ? msg.chunk.payload.length : 0);
    link.conn.send(frame);
  }

  /** Forgets a link that closed or that we drop. */
  private detach(link: Link): void {
    if (!this.links.delete(link.id)) return;
    this.admission.linkDown(link.group);
    this.core.handleDisconnected(Date.now(), link.id);
  }

  private linkCountFrom(group: string | undefined): number {
    let n = 0;
    for (const l of this.links.values()) if (l.group === group) n++;
    return n;
  }

  /**
   * A hello or Auth went through the link's authentication. A proven hello reaches the core;
   * a refused one closes the link. A ban names only what the link proved (its own key, its
   * address), never the id it claimed: that is how a forged hello framed honest peers.
   */
  private onAuth(link: Link, result: AuthResult): void {
    if (result.kind === 'wait') return;
    if (result.kind === 'ok') {
      if (this.admission.refusal(Date.now(), link.group, result.peerId) !== undefined) {
        this.log.debug(`refused banned peer ${result.peerId.slice(0, 8)} at ${link.conn.remoteAddress}`);
        link.conn.close();
        return;
      }
      link.remotePeerId = result.peerId;
      this.core.handleMessage(Date.now(), link.id, result.hello);
      return;
    }
    this.log.warn(`refused ${link.kind} peer at ${link.conn.remoteAddress}: it ${result.reason}`);
    // An older meshtv is honest software: refused, not banned.
    if (result.oldVersion !== true) this.admission.ban(Date.now(), link.group, result.provenPeerId);
    link.conn.close();
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

  /** Whether a peer id (or address) is refused now. */
  isBanned(peerId: string | undefined, address?: string): boolean {
    return this.admission.refusal(Date.now(), addressGroup(address), peerId) !== undefined;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const l of this.links.values()) l.conn.close();
  }

  /**
   * The policy for a peer that broke the protocol: drop the connection and refuse its proven
   * key and its address for a while (Admission). A link that proved nothing is dropped only.
   */
  private punish(link: Link, reason: string): void {
    this.log.warn(`dropping peer ${link.remotePeerId?.slice(0, 8) ?? link.conn.remoteAddress}: ${reason}`);
    // A TCP link proved its key in the handshake, before any hello.
    const binding = link.conn.binding;
    const proven = link.remotePeerId ?? (binding?.kind === 'key' ? peerIdHexOf(binding.remoteKey) : undefined);
    this.admission.ban(Date.now(), link.group, proven);
    link.conn.close();
  }

  private onHello(id: PeerId, role: 'source' | 'viewer'): void {
    const link = this.links.get(id);
    const remotePeerId = link?.remotePeerId;
    if (link === undefined || remotePeerId === undefined) return;
    link.remoteRole = role;
    if (remotePeerId === this.localPeerId) {
      link.conn.close();
      return;
    }
    const other = [...this.links.values()].find((l) => l !== link && l.remotePeerId === remotePeerId);
    if (other === undefined) return;
    // Two connections to one peer (both dialled at once): both sides keep the one dialled by
    // the smaller peer id, so they agree without talking; same direction twice keeps the older.
    // A stale link to the broadcaster is the one to go: it came back (a restart).
    let loser = link;
    if (this.stale(other, Date.now())) loser = other;
    else if (other.outbound !== link.outbound) {
      const keepOutbound = this.localPeerId < remotePeerId;
      loser = link.outbound === keepOutbound ? other : link;
    }
    loser.conn.close();
  }
}
