// WebRTC signalling on the tracker: the WebTorrent tracker protocol over WebSocket. A peer's
// announce may carry SDP offers; each is handed to another peer of the same swarm (info_hash),
// whose answer comes back through here. Every field is checked, messages are size-capped and
// rate-limited per socket, and a socket that sends garbage is closed with a reason.

import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { RandomFn } from '../protocol/random.js';

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
}

export const DEFAULT_SIGNALING_CONFIG: SignalingConfig = {
  maxMessageBytes: 64 * 1024,
  ratePerS: 20,
  burst: 50,
  maxOffers: 10,
  maxSwarmsPerSocket: 16,
  intervalS: 120,
};

interface Client {
  ws: WebSocket;
  tokens: number;
  tokensAtMs: number;
  /** info_hash -> our peer_id in that swarm */
  swarms: Map<string, string>;
}

const isId = (v: unknown): v is string => typeof v === 'string' && v.length === 20;
const isSdp = (v: unknown): v is { type: string; sdp: string } =>
  typeof v === 'object' && v !== null && typeof (v as { sdp?: unknown }).sdp === 'string' && (v as { sdp: string }).sdp.length < 32_000;

export class SignalingServer {
  private readonly wss: WebSocketServer;
  /** info_hash -> peer_id -> client */
  private readonly swarms = new Map<string, Map<string, Client>>();

  constructor(
    private readonly config: SignalingConfig,
    private readonly random: RandomFn,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: config.maxMessageBytes, perMessageDeflate: false });
  }

  /** Open signalling sockets, for monitoring. */
  get socketCount(): number {
    return this.wss.clients.size;
  }

  /** Peers per swarm, for the directory's viewer counts. */
  swarmSize(infoHash: string): number {
    return this.swarms.get(infoHash)?.size ?? 0;
  }

  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private onSocket(ws: WebSocket): void {
    const client: Client = { ws, tokens: this.config.burst, tokensAtMs: Date.now(), swarms: new Map() };
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
    const known = client.swarms.get(hash);
    if (known === undefined) {
      if (client.swarms.size >= this.config.maxSwarmsPerSocket) return this.fail(client, msg, 'too many swarms on one connection');
      client.swarms.set(hash, peerId);
    } else if (known !== peerId) {
      return this.fail(client, msg, 'peer_id changed within a swarm');
    }
    let swarm = this.swarms.get(hash);
    if (swarm === undefined) {
      swarm = new Map();
      this.swarms.set(hash, swarm);
    }
    const previous = swarm.get(peerId);
    if (previous !== undefined && previous !== client) previous.swarms.delete(hash);
    swarm.set(peerId, client);

    if (msg.answer !== undefined) {
      if (!isSdp(msg.answer) || !isId(msg.to_peer_id) || typeof msg.offer_id !== 'string')
        return this.fail(client, msg, 'malformed answer');
      swarm
        .get(msg.to_peer_id)
        ?.ws.send(JSON.stringify({ action: 'announce', info_hash: hash, peer_id: peerId, answer: msg.answer, offer_id: msg.offer_id }));
      return;
    }
    const offers = Array.isArray(msg.offers) ? msg.offers.slice(0, this.config.maxOffers) : [];
    const others = [...swarm.entries()].filter(([id]) => id !== peerId);
    shuffle(others, this.random);
    offers.forEach((o: unknown, i: number) => {
      const target = others[i];
      if (target === undefined || typeof o !== 'object' || o === null) return;
      const { offer, offer_id: offerId } = o as Record<string, unknown>;
      if (!isSdp(offer) || typeof offerId !== 'string' || offerId.length > 64) return;
      target[1].ws.send(JSON.stringify({ action: 'announce', info_hash: hash, peer_id: peerId, offer, offer_id: offerId }));
    });
    client.ws.send(
      JSON.stringify({ action: 'announce', info_hash: hash, interval: this.config.intervalS, complete: 0, incomplete: swarm.size }),
    );
  }

  private leave(hash: string, peerId: string, client: Client): void {
    client.swarms.delete(hash);
    const swarm = this.swarms.get(hash);
    if (swarm?.get(peerId) === client) swarm.delete(peerId);
    if (swarm?.size === 0) this.swarms.delete(hash);
  }

  /** A well-formed request we cannot serve: answered with the reason, as stock trackers do. */
  private fail(client: Client, msg: Record<string, unknown>, reason: string): void {
    client.ws.send(JSON.stringify({ action: msg.action ?? 'announce', 'failure reason': reason, info_hash: msg.info_hash }));
  }

  /** Garbage: the socket is closed with a policy-violation code and the reason. */
  private refuse(client: Client, reason: string): void {
    client.ws.close(1008, reason);
  }
}

function shuffle<T>(items: T[], random: RandomFn): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}
