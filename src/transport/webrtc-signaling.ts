// Finding and connecting WebRTC peers through trackers that speak the WebTorrent tracker
// protocol over WebSocket (announce with SDP offers; the tracker hands each offer to another
// peer of the swarm and relays the answer back). Our tracker speaks it, and so do stock ones
// (the bittorrent-tracker server, aquatic_ws), so large audiences can use those.
// ICE is not trickled: an SDP is sent once its candidates are gathered (or after a short
// wait), which is what stock trackers relay. Browser and node share this file; the runtime
// injects RTCPeerConnection and WebSocket.

import type { DriverLog } from '../common/log.js';
import { type IceServer, isTurnServer, type LinkPath, linkPathOf } from './ice.js';
import { type DataChannelLike, WebRtcConnection } from './webrtc.js';
import { gathered, type PeerConnectionLike, type SessionDescriptionLike, sdpFingerprint, type WebSocketLike } from './webrtc-stack.js';
import { binaryString, infoHashOf, randomIdBytes } from './webtorrent-ids.js';

// The stack's shapes WebRtcSignalingOptions asks for, and the ids, for its callers.
export type { PeerConnectionLike, SessionDescriptionLike, WebSocketLike } from './webrtc-stack.js';
export { infoHashOf, signalingUrlOf } from './webtorrent-ids.js';

export interface WebRtcSignalingOptions {
  /** ws:// or wss:// URLs of WebTorrent-protocol trackers. */
  trackerUrls: string[];
  channelKey: Uint8Array;
  /** Our peer id (hex); its first 20 characters are the tracker-protocol peer_id. */
  peerId: string;
  createPeerConnection: (config: { iceServers: IceServer[] }) => PeerConnectionLike;
  createWebSocket: (url: string) => WebSocketLike;
  /** STUN and TURN servers; may change (the tracker's defaults arrive after start). */
  iceServers?: () => IceServer[];
  /** How many more neighbours we would like now (0: none). */
  wantPeers: () => number;
  /** Whether an incoming offer may be answered. */
  accept: () => boolean;
  /**
   * Whether we already have a link to the peer with this tracker-protocol peer_id (the first 20
   * hex digits of its peer id). Its offer is then left unanswered: a second link would be
   * dropped as a duplicate at once, and a link dropped before our side finished connecting
   * looked like a NAT failure.
   */
  linkedTo?: (signalPeerId: string) => boolean;
  onConnection: (conn: WebRtcConnection, outbound: boolean) => void;
  log: DriverLog;
  /** Re-announce period; stock trackers ask for minutes, we ask sooner while we want peers. @default 10000 */
  announceIntervalMs?: number;
  /** Offers sent per announce, at most. @default 5 */
  offersPerAnnounce?: number;
  /** What the user can do when peers are unreachable and no TURN server is configured. */
  noTurnAdvice?: string;
}

const OFFER_TTL_MS = 30_000;
/** Offers being answered at once, at most. */
const MAX_INCOMING_PENDING = 8;
const MAX_SIGNAL_MESSAGE_BYTES = 64 * 1024;
/**
 * The one data channel of a link, made by each end itself on its connection before any
 * description is applied: pre-negotiated (the same id on both ends) rather than announced in
 * band. Both ends so listen before the first byte can arrive. An announced channel reaches the
 * answering end through a 'datachannel' event, and a browser page once lost the hello its peer
 * sent the moment the channel opened (then refused the Auth behind it as out of turn); the
 * announcement also cost a round trip before the answering end could speak. A peer of an older
 * meshtv announces its channel instead: the two never share a channel, so never link.
 */
function linkChannel(pc: PeerConnectionLike): DataChannelLike {
  return pc.createDataChannel('meshtv', { negotiated: true, id: 0 });
}

/** Looks at an opened link's descriptions for their fingerprints, this often and this many times. */
const BIND_RETRY_MS = 50;
const BIND_TRIES = 20;

/** What became of the WebRTC connections tried, for stats and for telling a user why none work. */
export interface SignalingStats {
  offersSent: number;
  answersReceived: number;
  offersAnswered: number;
  /** Data channels opened, by the path ICE chose (unknown: not reported yet). */
  connected: Record<LinkPath | 'unknown', number>;
  /** Both sides had each other's description, yet ICE found no working path. */
  failed: number;
  /** Opened, but a description showed no DTLS fingerprint to bind the peer's key to: closed. */
  unbound: number;
}

interface PendingOffer {
  pc: PeerConnectionLike;
  timer: ReturnType<typeof setTimeout>;
  answered: boolean;
}

export class WebRtcSignaling {
  private readonly sockets = new Map<string, WebSocketLike>();
  private readonly pending = new Map<string, PendingOffer>();
  /** Answered offers whose data channel is not open yet: bounded, so offers cannot pile up connections. */
  private readonly incoming = new Set<PeerConnectionLike>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly infoHash: string;
  private readonly signalPeerId: string;
  private stopped = false;
  private readonly counts: SignalingStats = {
    offersSent: 0,
    answersReceived: 0,
    offersAnswered: 0,
    connected: { direct: 0, reflexive: 0, relayed: 0, unknown: 0 },
    failed: 0,
    unbound: 0,
  };

  constructor(private readonly o: WebRtcSignalingOptions) {
    this.infoHash = infoHashOf(o.channelKey);
    this.signalPeerId = o.peerId.slice(0, 20);
  }

  get stats(): SignalingStats {
    return { ...this.counts, connected: { ...this.counts.connected } };
  }

  start(): void {
    for (const url of this.o.trackerUrls) this.connect(url, 1000);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const [url, ws] of this.sockets) {
      this.sendTo(ws, {
        action: 'announce',
        info_hash: this.infoHash,
        peer_id: this.signalPeerId,
        event: 'stopped',
        numwant: 0,
        uploaded: 0,
        downloaded: 0,
        left: 0,
      });
      ws.close();
      this.sockets.delete(url);
    }
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.pc.close();
      this.pending.delete(id);
    }
    for (const pc of this.incoming) pc.close();
    this.incoming.clear();
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  private connect(url: string, backoffMs: number): void {
    let ws: WebSocketLike;
    try {
      ws = this.o.createWebSocket(url);
    } catch (err) {
      this.o.log.warn(`signalling: cannot open ${url}: ${(err as Error).message}`);
      return;
    }
    this.sockets.set(url, ws);
    let opened = false;
    ws.onopen = () => {
      opened = true;
      void this.announce(ws, 'started');
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string' || ev.data.length > MAX_SIGNAL_MESSAGE_BYTES) return;
      let msg: unknown;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (typeof msg === 'object' && msg !== null) void this.onSignal(ws, msg as Record<string, unknown>);
    };
    ws.onerror = () => {};
    ws.onclose = () => {
      if (this.sockets.get(url) === ws) this.sockets.delete(url);
      if (this.stopped) return;
      if (!opened) this.o.log.debug(`signalling: ${url} unreachable, retrying in ${backoffMs / 1000} s`);
      this.later(backoffMs, () => this.connect(url, Math.min(30_000, opened ? 1000 : backoffMs * 2)));
    };
  }

  private async announce(ws: WebSocketLike, event?: string): Promise<void> {
    const want = Math.min(this.o.wantPeers(), this.o.offersPerAnnounce ?? 5);
    const offers: { offer: SessionDescriptionLike; offer_id: string }[] = [];
    for (let i = 0; i < want && !this.stopped; i++) {
      const made = await this.makeOffer().catch((err: Error) => {
        this.o.log.debug(`signalling: cannot create an offer: ${err.message}`);
        return undefined;
      });
      if (made) offers.push(made);
    }
    if (this.stopped) return;
    this.counts.offersSent += offers.length;
    this.sendTo(ws, {
      action: 'announce',
      info_hash: this.infoHash,
      peer_id: this.signalPeerId,
      numwant: offers.length,
      offers,
      uploaded: 0,
      downloaded: 0,
      left: 1,
      ...(event ? { event } : {}),
    });
    this.later(this.o.announceIntervalMs ?? 10_000, () => {
      if (this.sockets.has(this.urlOf(ws))) void this.announce(ws);
    });
  }

  private urlOf(ws: WebSocketLike): string {
    for (const [url, s] of this.sockets) if (s === ws) return url;
    return '';
  }

  private async makeOffer(): Promise<{ offer: SessionDescriptionLike; offer_id: string }> {
    const pc = this.createPeerConnection();
    const channel = linkChannel(pc);
    const conn = new WebRtcConnection(channel, () => pc.close());
    const offerId = binaryString(randomIdBytes());
    const timer = setTimeout(() => {
      const p = this.pending.get(offerId);
      if (p === undefined) return;
      this.pending.delete(offerId);
      if (p.answered) this.iceFailed();
      pc.close();
    }, OFFER_TTL_MS);
    this.pending.set(offerId, { pc, timer, answered: false });
    this.onIceFailure(pc, () => {
      const p = this.pending.get(offerId);
      if (p === undefined) return;
      clearTimeout(p.timer);
      this.pending.delete(offerId);
      this.iceFailed();
      pc.close();
    });
    channel.addEventListener('open', () => {
      clearTimeout(timer);
      this.pending.delete(offerId);
      if (this.stopped) return pc.close();
      this.opened(pc, conn, true);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    return { offer: { type: 'offer', sdp: pc.localDescription?.sdp ?? '' }, offer_id: offerId };
  }

  private async onSignal(ws: WebSocketLike, msg: Record<string, unknown>): Promise<void> {
    if (msg.info_hash !== this.infoHash || typeof msg.offer_id !== 'string' || typeof msg.peer_id !== 'string') return;
    if (msg.peer_id === this.signalPeerId) return;
    const offer = msg.offer as SessionDescriptionLike | undefined;
    const answer = msg.answer as SessionDescriptionLike | undefined;
    if (offer && typeof offer.sdp === 'string') await this.answerOffer(ws, msg.peer_id, msg.offer_id, offer.sdp);
    else if (answer && typeof answer.sdp === 'string') await this.takeAnswer(msg.offer_id, answer.sdp);
  }

  /** A peer's offer, relayed by the tracker: answered through it, unless we cannot take the link. */
  private async answerOffer(ws: WebSocketLike, peerId: string, offerId: string, sdp: string): Promise<void> {
    if (!this.o.accept() || this.incoming.size >= MAX_INCOMING_PENDING || this.o.linkedTo?.(peerId) === true) return;
    const pc = this.createPeerConnection();
    this.incoming.add(pc);
    const fail = () => {
      clearTimeout(giveUp);
      if (!this.incoming.delete(pc)) return;
      this.iceFailed();
      pc.close();
    };
    const giveUp = setTimeout(fail, OFFER_TTL_MS);
    this.onIceFailure(pc, fail);
    this.acceptChannel(pc, giveUp);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
    } catch (err) {
      this.o.log.debug(`signalling: bad offer from a peer: ${(err as Error).message}`);
      clearTimeout(giveUp);
      this.incoming.delete(pc);
      pc.close();
      return;
    }
    this.counts.offersAnswered++;
    this.sendTo(ws, {
      action: 'announce',
      info_hash: this.infoHash,
      peer_id: this.signalPeerId,
      to_peer_id: peerId,
      answer: { type: 'answer', sdp: pc.localDescription?.sdp ?? '' },
      offer_id: offerId,
    });
  }

  /** The data channel of an answered offer: a link once it is open (`giveUp` no longer applies then). */
  private acceptChannel(pc: PeerConnectionLike, giveUp: ReturnType<typeof setTimeout>): void {
    const channel = linkChannel(pc);
    const conn = new WebRtcConnection(channel, () => pc.close());
    channel.addEventListener('open', () => {
      clearTimeout(giveUp);
      this.incoming.delete(pc);
      if (this.stopped || !this.o.accept()) return pc.close();
      this.opened(pc, conn, false);
    });
  }

  /** A peer's answer to one of our offers. */
  private async takeAnswer(offerId: string, sdp: string): Promise<void> {
    const p = this.pending.get(offerId);
    if (p === undefined || p.answered) return;
    p.answered = true;
    this.counts.answersReceived++;
    try {
      await p.pc.setRemoteDescription({ type: 'answer', sdp });
    } catch (err) {
      this.o.log.debug(`signalling: bad answer from a peer: ${(err as Error).message}`);
      clearTimeout(p.timer);
      this.pending.delete(offerId);
      p.pc.close();
    }
  }

  private createPeerConnection(): PeerConnectionLike {
    return this.o.createPeerConnection({ iceServers: this.o.iceServers?.() ?? [] });
  }

  private opened(pc: PeerConnectionLike, conn: WebRtcConnection, outbound: boolean, tries = 0): void {
    // What the hello's Auth binds a node key to (src/runtime/link-auth.ts). A stack may open
    // the channel a moment before it shows the description it just applied: look again
    // shortly, then give the link up (the driver refuses a link it cannot bind).
    const local = sdpFingerprint(pc.localDescription?.sdp);
    const remote = sdpFingerprint(pc.remoteDescription?.sdp);
    if (local === undefined || remote === undefined) {
      if (tries < BIND_TRIES && !this.stopped) {
        this.later(BIND_RETRY_MS, () => this.opened(pc, conn, outbound, tries + 1));
        return;
      }
      this.o.log.debug(`signalling: a link without DTLS fingerprints (local ${local ?? 'none'}, remote ${remote ?? 'none'}), closed`);
      this.counts.unbound++;
      pc.close();
      return;
    }
    conn.binding = { kind: 'fingerprints', local, remote };
    linkPathOf(pc)
      .catch(() => undefined)
      .then((path) => {
        conn.path = path;
        this.counts.connected[path ?? 'unknown']++;
      });
    this.o.onConnection(conn, outbound);
  }

  /**
   * Calls back once if the stack reports that ICE gave up (the offer TTL catches the rest). A
   * connection that was up and then failed was closed by the other side (full, or a second
   * link to a peer it already has): no NAT problem, so not reported as one.
   */
  private onIceFailure(pc: PeerConnectionLike, cb: () => void): void {
    let wasConnected = false;
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'connected') wasConnected = true;
      else if (pc.connectionState === 'failed' && !wasConnected) cb();
    });
  }

  /**
   * A peer answered but no path was found: typically both behind NATs that map each
   * destination to a new port, which only a TURN relay gets through. Said once at warning
   * level, with what to do, so a user sees why peers never connect instead of a silent fallback.
   */
  private iceFailed(): void {
    this.counts.failed++;
    if (this.counts.failed > 1) return;
    const servers = this.o.iceServers?.() ?? [];
    const hasTurn = servers.some(isTurnServer);
    this.o.log.warn(
      hasTurn
        ? 'WebRTC: a peer answered but no connection could be made, even through the TURN server; check that it is reachable and its credentials'
        : `WebRTC: a peer answered but no connection could be made (both behind NAT?) and no TURN server is configured; ${this.o.noTurnAdvice ?? 'pass --turn turn:USER:PASS@HOST:3478 or start the tracker with --turn'}`,
    );
  }

  private sendTo(ws: WebSocketLike, msg: unknown): void {
    if (ws.readyState === 1) ws.send(JSON.stringify(msg));
  }
}
