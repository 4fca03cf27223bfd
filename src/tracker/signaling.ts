// WebRTC signalling on the tracker: the WebTorrent tracker protocol over WebSocket. A peer's
// announce may carry SDP offers; each is handed to another peer of the same swarm (info_hash),
// whose answer comes back through here. Every field is checked, messages are size-capped and
// rate-limited per socket, and a socket that sends garbage is closed with a reason. A socket
// that does not read what it is sent is closed before its queue grows past a bound, one address
// holds a bounded number of sockets, a peer id belongs to the first live socket that announced
// it, and a peer counts in a channel's audience only once it took part in a WebRTC exchange.

import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { RandomFn } from '../protocol/random.js';
import { PeerList } from './peer-list.js';

export interface SignalingConfig {
  /** Largest WebSocket message accepted. @default 64 KiB */
  maxMessageBytes: number;
  /** Messages per second a socket may sustain. @default 20 */
  ratePerS: number;
  /** Burst of messages per socket. @default 50 */
  burst: number;
  /** Offers relayed per announce, at most. @default 10 */
  maxOffers: number;
  /** Swarms one socket may join. @default 16 */
  maxSwarmsPerSocket: number;
  /** Re-announce interval told to clients, seconds. @default 120 */
  intervalS: number;
  /** A socket with more than this queued for sending (it does not read) is closed. @default 1 MiB */
  maxBufferedBytes: number;
  /** Sockets one address group (IPv4 address, IPv6 /64) may hold open. @default 64 */
  maxSocketsPerAddress: number;
}

export const DEFAULT_SIGNALING_CONFIG: SignalingConfig = {
  maxMessageBytes: 64 * 1024,
  ratePerS: 20,
  burst: 50,
  maxOffers: 10,
  maxSwarmsPerSocket: 16,
  intervalS: 120,
  maxBufferedBytes: 1024 * 1024,
  maxSocketsPerAddress: 64,
};

/** Why a socket or message was refused, for the tracker's refusal counts. */
export type SignalingRefusal = 'socket-cap' | 'slow-reader' | 'bad-message' | 'id-in-use';

interface Client {
  ws: WebSocket;
  /** The address group it came from. */
  group: string;
  tokens: number;
  tokensAtMs: number;
  /** info_hash -> our peer_id in that swarm */
  swarms: Map<string, string>;
  /** Swarms in which it answered an offer or was answered: counted in their audience. */
  engaged: Set<string>;
  /** Offers relayed to it lately ("info_hash offer_id" -> the offerer's peer_id): only those may be answered. */
  offered: Map<string, string>;
}

/** A peer of a signalling swarm. */
interface Member {
  readonly peerId: string;
  readonly role: 'viewer';
  readonly client: Client;
}

/** Offers remembered per socket for their answers (the oldest are forgotten first). */
const MAX_OFFERS_REMEMBERED = 256;

const isId = (v: unknown): v is string => typeof v === 'string' && v.length === 20;
const isSdp = (v: unknown): v is { type: string; sdp: string } =>
  typeof v === 'object' && v !== null && typeof (v as { sdp?: unknown }).sdp === 'string' && (v as { sdp: string }).sdp.length < 32_000;

export class SignalingServer {
  private readonly wss: WebSocketServer;
  /** info_hash -> its peers, drawn at random for offers in time proportional to the draw */
  private readonly swarms = new Map<string, PeerList<Member>>();
  /** info_hash -> peers of that swarm that took part in an exchange */
  private readonly engagedCount = new Map<string, number>();
  private readonly socketsPerGroup = new Map<string, number>();

  constructor(
    private readonly config: SignalingConfig,
    private readonly random: RandomFn,
    private readonly onRefusal: (reason: SignalingRefusal, group: string) => void = () => {},
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: config.maxMessageBytes, perMessageDeflate: false });
  }

  /** Open signalling sockets, for monitoring. */
  get socketCount(): number {
    return this.wss.clients.size;
  }

  /**
   * Peers per swarm for the directory's viewer counts: those that answered an offer or got an
   * answer there, not every socket that announced.
   */
  swarmSize(infoHash: string): number {
    return this.engagedCount.get(infoHash) ?? 0;
  }

  /** Takes a WebSocket upgrade from `group` (the client's address group), unless that group holds its share of sockets. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, group: string): void {
    const open = this.socketsPerGroup.get(group) ?? 0;
    if (open >= this.config.maxSocketsPerAddress) {
      this.onRefusal('socket-cap', group);
      const body = `too many signalling sockets from this address (${this.config.maxSocketsPerAddress})`;
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    this.socketsPerGroup.set(group, open + 1);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      const left = (this.socketsPerGroup.get(group) ?? 1) - 1;
      if (left > 0) this.socketsPerGroup.set(group, left);
      else this.socketsPerGroup.delete(group);
    };
    // A handshake that fails never opens a socket: its place is given back with the connection.
    socket.once('close', release);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('close', release);
      this.onSocket(ws, group);
    });
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private onSocket(ws: WebSocket, group: string): void {
    const client: Client = {
      ws,
      group,
      tokens: this.config.burst,
      tokensAtMs: Date.now(),
      swarms: new Map(),
      engaged: new Set(),
      offered: new Map(),
    };
    ws.on('message', (data, isBinary) => this.onMessage(client, data as Buffer, isBinary));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      for (const [hash, peerId] of client.swarms) this.leave(hash, peerId, client);
    });
  }

  private onMessage(client: Client, data: Buffer, isBinary: boolean): void {
    const now = Date.now();
    client.tokens = Math.min(this.config.burst, client.tokens + ((now - client.tokensAtMs) * this.config.ratePerS) / 1000);
    client.tokensAtMs = now;
    if (client.tokens < 1) return this.refuse(client, 'too many messages');
    client.tokens -= 1;
    if (isBinary) return this.refuse(client, 'binary messages are not part of the protocol');
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch {
      return this.refuse(client, 'message is not JSON');
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return this.refuse(client, 'message must be a JSON object');
    if (msg.action !== 'announce') return this.fail(client, msg, `unsupported action ${JSON.stringify(msg.action)}`);
    const { info_hash: hash, peer_id: peerId } = msg;
    if (!isId(hash) || !isId(peerId)) return this.fail(client, msg, 'info_hash and peer_id must be 20-character strings');

    if (msg.event === 'stopped') return this.leave(hash, peerId, client);
    // A peer id belongs to the first live socket that announced it: a second one cannot take
    // its answers away.
    const owner = this.swarms.get(hash)?.get(peerId)?.client;
    if (owner !== undefined && owner !== client) {
      this.onRefusal('id-in-use', client.group);
      return this.fail(client, msg, 'peer_id is in use on another connection');
    }
    const known = client.swarms.get(hash);
    if (known === undefined) {
      if (client.swarms.size >= this.config.maxSwarmsPerSocket) return this.fail(client, msg, 'too many swarms on one connection');
      client.swarms.set(hash, peerId);
    } else if (known !== peerId) {
      return this.fail(client, msg, 'peer_id changed within a swarm');
    }
    let swarm = this.swarms.get(hash);
    if (swarm === undefined) {
      swarm = new PeerList<Member>();
      this.swarms.set(hash, swarm);
    }
    if (owner === undefined) swarm.set({ peerId, role: 'viewer', client });

    if (msg.answer !== undefined) {
      if (!isSdp(msg.answer) || !isId(msg.to_peer_id) || typeof msg.offer_id !== 'string')
        return this.fail(client, msg, 'malformed answer');
      // Only an answer to an offer relayed to this socket from that peer: answers cannot be
      // sprayed at peers, nor made up between one's own sockets to count as an audience.
      const key = `${hash} ${msg.offer_id}`;
      const target = swarm.get(msg.to_peer_id)?.client;
      if (target === undefined || client.offered.get(key) !== msg.to_peer_id) return;
      client.offered.delete(key);
      this.engage(client, hash);
      this.engage(target, hash);
      this.send(target, { action: 'announce', info_hash: hash, peer_id: peerId, answer: msg.answer, offer_id: msg.offer_id });
      return;
    }
    const offers = Array.isArray(msg.offers) ? msg.offers.slice(0, this.config.maxOffers) : [];
    const others = offers.length === 0 ? [] : swarm.sample(offers.length, peerId, this.random);
    offers.forEach((o: unknown, i: number) => {
      const target = others[i]?.client;
      if (target === undefined || typeof o !== 'object' || o === null) return;
      const { offer, offer_id: offerId } = o as Record<string, unknown>;
      if (!isSdp(offer) || typeof offerId !== 'string' || offerId.length > 64) return;
      const key = `${hash} ${offerId}`;
      target.offered.delete(key);
      if (target.offered.size >= MAX_OFFERS_REMEMBERED) target.offered.delete(target.offered.keys().next().value as string);
      target.offered.set(key, peerId);
      this.send(target, { action: 'announce', info_hash: hash, peer_id: peerId, offer, offer_id: offerId });
    });
    this.send(client, { action: 'announce', info_hash: hash, interval: this.config.intervalS, complete: 0, incomplete: swarm.size });
  }

  /** Sends unless the socket's queue is past its bound: a socket that does not read is closed, not fed. */
  private send(client: Client, msg: Record<string, unknown>): void {
    if (client.ws.bufferedAmount > this.config.maxBufferedBytes) {
      this.onRefusal('slow-reader', client.group);
      client.ws.terminate();
      return;
    }
    client.ws.send(JSON.stringify(msg));
  }

  private engage(client: Client, hash: string): void {
    if (client.engaged.has(hash)) return;
    client.engaged.add(hash);
    this.engagedCount.set(hash, (this.engagedCount.get(hash) ?? 0) + 1);
  }

  private leave(hash: string, peerId: string, client: Client): void {
    if (client.swarms.get(hash) !== peerId) return;
    client.swarms.delete(hash);
    if (client.engaged.delete(hash)) {
      const left = (this.engagedCount.get(hash) ?? 1) - 1;
      if (left > 0) this.engagedCount.set(hash, left);
      else this.engagedCount.delete(hash);
    }
    const swarm = this.swarms.get(hash);
    if (swarm?.get(peerId)?.client === client) swarm.delete(peerId);
    if (swarm?.size === 0) this.swarms.delete(hash);
  }

  /** A well-formed request we cannot serve: answered with the reason, as stock trackers do. */
  private fail(client: Client, msg: Record<string, unknown>, reason: string): void {
    this.send(client, { action: msg.action ?? 'announce', 'failure reason': reason, info_hash: msg.info_hash });
  }

  /** Garbage: the socket is closed with a policy-violation code and the reason. */
  private refuse(client: Client, reason: string): void {
    this.onRefusal('bad-message', client.group);
    client.ws.close(1008, reason);
  }
}
