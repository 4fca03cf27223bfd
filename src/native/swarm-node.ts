// Node runtime around the protocol core: the TCP listener, dialling, and the tracker
// announces; the CoreDriver (src/runtime) feeds the connections into PeerCore. Decisions about
// chunks live in the core; decisions about connections (dial, refuse, ban) in the runtime.

import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import os from 'node:os';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { WebSocket } from 'ws';
import { bytesToHex } from '../common/hex.js';
import type { Logger } from '../common/log.js';
import { type NodeKey, newNodeKey, nodeVerify } from '../crypto/keys.js';
import type { SignFn } from '../crypto/signatures.js';
import type { Chunk } from '../protocol/chunk.js';
import type { CoreEvent, PeerCoreConfig } from '../protocol/core-types.js';
import { isLoopbackHost, isPublicIp } from '../protocol/ip-ranges.js';
import { Membership, type PeerCandidate } from '../protocol/membership.js';
import { PeerCore } from '../protocol/peer-core.js';
import { seededRandom } from '../protocol/random.js';
import { type SourceProof, signSourceProof } from '../protocol/source-proof.js';
import { CoreDriver } from '../runtime/core-driver.js';
import type { LinkStats } from '../runtime/link.js';
import { peerIdOf } from '../runtime/link-auth.js';
import { tcpWireBytes } from '../transport/framing.js';
import { forNodeDataChannel, type IceServer } from '../transport/ice.js';
import { TcpTransport } from '../transport/tcp.js';
import type { Listener } from '../transport/transport.js';
import { type PeerConnectionLike, type SignalingStats, WebRtcSignaling, type WebSocketLike } from '../transport/webrtc-signaling.js';
import { DhtDiscovery, type DhtDiscoveryStats } from './dht-discovery.js';
import { NetworkSettings } from './network-settings.js';
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
  /**
   * WebTorrent-protocol trackers (ws:// or wss://) used to meet browsers and other peers over
   * WebRTC, besides those the HTTP trackers designate (see `webrtc`).
   */
  signalingUrls?: string[];
  /**
   * Also meet peers over WebRTC through each HTTP tracker's signalling: the WebTorrent trackers
   * it names at /api/network, else its own ws://<tracker>/announce. @default false
   */
  webrtc?: boolean;
  /** STUN/TURN servers; undefined: whatever the trackers hand out. */
  iceServers?: IceServer[];
  /**
   * Trackerless discovery through the BitTorrent DHT (absent: off). bootstrap: "host:port"
   * nodes to join through; undefined: the DHT's public routers.
   */
  dht?: { bootstrap?: string[] };
  /**
   * Take the stream from the broadcaster only: dial nobody else and accept no one. For an edge
   * that re-serves the stream (the benchmark's HTTP fan-out), which must not eat the swarm's
   * upload. @default false
   */
  sourceOnly?: boolean;
  /**
   * This node's key, whose first 16 bytes are its peer id on every link; default: a new one. A
   * viewer in several renditions' swarms uses one key in all of them, so the tracker counts it
   * once; a broadcaster keeps its own on disk.
   */
  nodeKey?: NodeKey;
  /**
   * The channel key's signer, for a source: its announces carry a proof by the channel key
   * (src/protocol/source-proof.ts), without which trackers do not list it as the source.
   */
  sign?: SignFn;
  /**
   * What an announce to a tracker waits for first: a source's record must reach a tracker
   * before its announce does, or the tracker refuses the swarm until the next announce.
   */
  beforeAnnounce?: (trackerUrl: string) => Promise<unknown> | undefined;
  log: Logger;
}

/** How a node finds and reaches peers beyond the trackers (flags --stun, --turn, --dht-bootstrap, --no-dht). */
export type NetworkOptions = Pick<SwarmNodeOptions, 'iceServers' | 'dht'>;

const DIAL_TIMEOUT_MS = 4000;

export class SwarmNode {
  readonly core: PeerCore;
  readonly peerId: string;
  readonly driver: CoreDriver;
  /** Whom to dial and when to announce (src/protocol/membership.ts); this class does the I/O. */
  readonly membership: Membership;
  private readonly transport: TcpTransport;
  private listener: Listener | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private signaling: WebRtcSignaling | undefined;
  private stopped = false;
  /** STUN/TURN servers and signalling URLs, from the flags and the trackers. */
  private readonly network: NetworkSettings;
  private dht: DhtDiscovery | undefined;
  /** The address the trackers last saw this node at (undefined: none answered yet). */
  seenAddress: string | undefined;

  constructor(private readonly options: SwarmNodeOptions) {
    const nodeKey = options.nodeKey ?? newNodeKey();
    const peerId = peerIdOf(nodeKey.publicKey);
    this.peerId = bytesToHex(peerId);
    this.core = new PeerCore(
      { ...options.core, role: options.role },
      {
        channelKey: options.channelKey,
        localPeerId: peerId,
        verify: nodeVerify,
        random: seededRandom(randomInt(2 ** 31)),
        wireBytes: tcpWireBytes,
      },
    );
    this.driver = new CoreDriver(this.core, { identity: nodeKey, verify: nodeVerify, log: options.log });
    this.membership = new Membership(
      {
        role: options.role,
        sourceOnly: options.sourceOnly === true,
        ...(options.dialTarget !== undefined ? { dialTarget: options.dialTarget } : {}),
      },
      {
        core: this.core,
        linkCount: () => this.driver.linkCount,
        linkedTo: (peerId) => this.driver.holds(peerId),
        accepts: (peerId, address) => this.driver.accepts(peerId, address),
      },
      Math.random,
    );
    this.network = new NetworkSettings(options);
    this.transport = new TcpTransport({
      keyPair: nodeKey.keyPair,
      admit: (address) => {
        const refusal = this.options.sourceOnly === true ? 'takes no one' : this.driver.refusesAddress(address);
        if (refusal !== undefined) this.options.log.debug(`refused a connection from ${address}: ${refusal}`);
        return refusal === undefined;
      },
      onRefused: (address, reason) => this.options.log.warn(`refused a peer at ${address}: it ${reason}`),
    });
  }

  get port(): number {
    return this.listener?.port ?? 0;
  }

  /** Control bytes (everything on the wire that is not chunk payload), both directions. */
  get controlBytes(): number {
    return this.driver.controlBytes;
  }

  onEvent(listener: (e: CoreEvent) => void): void {
    this.driver.onEvent(listener);
  }

  async start(): Promise<void> {
    this.listener = await this.transport.listen(this.options.host, this.options.port, (conn) => {
      const refusal = this.options.sourceOnly === true ? 'takes no one' : this.driver.refuseIncoming(conn.remoteAddress);
      if (refusal === undefined && !this.stopped) this.driver.attach(conn, 'tcp', false);
      else {
        this.options.log.debug(`refused a peer at ${conn.remoteAddress}: ${refusal ?? 'stopping'}`);
        conn.close();
      }
    });
    // Stopped while the listener was opening (Ctrl-C during startup): start nothing more.
    if (this.stopped) {
      await this.listener.close();
      return;
    }
    // In the background: joining the DHT can take seconds (DNS, silent bootstrap nodes).
    if (this.options.dht !== undefined) void this.startDht(this.options.dht.bootstrap);
    const urls = await this.network.load();
    if (this.stopped) return;
    if (urls.length > 0) {
      this.signaling = new WebRtcSignaling({
        trackerUrls: urls,
        channelKey: this.options.channelKey,
        peerId: this.peerId,
        createPeerConnection: (config) =>
          new RTCPeerConnection(config as ConstructorParameters<typeof RTCPeerConnection>[0]) as unknown as PeerConnectionLike,
        createWebSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
        iceServers: () => forNodeDataChannel(this.network.iceServers),
        wantPeers: () => this.membership.webrtcWanted(Date.now()),
        accept: () => this.driver.acceptsIncoming(),
        linkedTo: (signalPeerId) => this.driver.linkedTo(signalPeerId),
        onConnection: (conn, outbound) => this.driver.attach(conn, 'webrtc', outbound),
        log: this.options.log,
      });
      this.signaling.start();
    }
  }

  /**
   * Announces to every tracker; resolves when at least one answered. When none did, the next
   * try is scheduled with back-off (a busy tracker answers 429, a restarting one nothing) and the
   * first error is thrown — unless the DHT can stand in: then it warns and the node goes on
   * with the peers the DHT finds meanwhile.
   */
  async announceNow(): Promise<void> {
    this.membership.announceNow();
    await this.announce();
  }

  /** Announces that failed in a row (0: the last one was answered). */
  get trackerFailures(): number {
    return this.membership.trackerFailures;
  }

  /** The announce Membership asked for (or announceNow); the next one is scheduled whatever happens. */
  private async announce(): Promise<void> {
    const numWant = this.membership.numWant(Date.now());
    const results = await Promise.allSettled(this.options.trackers.map((t) => this.announceTo(t, numWant)));
    const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<TrackerAnswer>[];
    if (this.stopped) return;
    if (ok.length === 0) {
      this.membership.failed(Date.now());
      this.scheduleWake();
      const reason = (results[0] as PromiseRejectedResult | undefined)?.reason as Error | undefined;
      if (this.dht === undefined) throw reason ?? new Error('no tracker to announce to');
      if (this.trackerFailures === 1)
        this.options.log.warn(`${reason?.message ?? 'no tracker'}; looking for peers through the DHT meanwhile`);
      this.dht.lookupNow();
      return;
    }
    const peers = ok.flatMap((r) => r.value.peers);
    const dial = this.membership.answered(Date.now(), Math.min(...ok.map((r) => r.value.intervalMs)), peers);
    for (const p of dial) this.dial(p);
    this.scheduleWake();
  }

  /** One timer for everything Membership waits for: the next announce, a search for the source, a look at the core. */
  private scheduleWake(): void {
    clearTimeout(this.wakeTimer);
    const at = this.membership.wakeAtMs();
    if (this.stopped || this.options.trackers.length === 0 || at === Number.POSITIVE_INFINITY) return;
    this.wakeTimer = setTimeout(
      () => {
        if (this.membership.poll(Date.now()))
          this.announce().catch((err: Error) => {
            // A failure has scheduled its own retry.
            if (this.trackerFailures === 1) this.options.log.warn(`${err.message}; retrying`);
          });
        else this.scheduleWake();
      },
      Math.max(0, at - Date.now()),
    );
    this.wakeTimer.unref();
  }

  /** The DHT's routing table size and what it found (undefined: DHT off). */
  dhtStats(): DhtDiscoveryStats | undefined {
    return this.dht?.stats;
  }

  private async startDht(bootstrap: string[] | undefined): Promise<void> {
    let dht: DhtDiscovery;
    try {
      dht = this.newDht(bootstrap);
    } catch (err) {
      this.options.log.warn(`DHT off: ${(err as Error).message}`);
      return;
    }
    this.dht = dht;
    try {
      await dht.start();
    } catch (err) {
      // The DHT is a fallback: a node that cannot bind its UDP socket still works with trackers.
      if (!this.stopped) this.options.log.warn(`DHT off: ${(err as Error).message}`);
      await dht.stop();
      if (this.dht === dht) this.dht = undefined;
    }
  }

  private newDht(bootstrap: string[] | undefined): DhtDiscovery {
    const host = this.options.host.includes(':') ? '0.0.0.0' : this.options.host;
    return new DhtDiscovery({
      infoHash: this.options.channelKey.subarray(0, 20),
      peerPort: this.port,
      bootstrap,
      host,
      log: this.options.log,
      wantPeers: () => this.membership.wantsPeers(Date.now()),
      onPeer: (address, port) => {
        if (this.stopped || (port === this.port && isLocalAddress(address))) return;
        // The public DHT names public addresses only, as a tracker would list them: anyone may
        // put an entry there, and a private one would have us dial into someone's network. A
        // DHT of our own (--dht-bootstrap: a lab, a LAN) may name any.
        if (bootstrap === undefined && !isPublicIp(address)) return;
        if (this.driver.linkStats().some((l) => l.address === `${address}:${port}`)) return;
        const p: PeerCandidate = { peerId: undefined, role: 'viewer', address, port };
        if (this.membership.found(Date.now(), p)) this.dial(p);
      },
    });
  }

  /** What became of WebRTC connection attempts (undefined: no WebRTC). */
  signalingStats(): SignalingStats | undefined {
    return this.signaling?.stats;
  }

  publish(chunk: Chunk): void {
    this.driver.publish(chunk);
  }

  linkStats(): LinkStats[] {
    return this.driver.linkStats();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    this.network.stop();
    this.signaling?.stop();
    await this.dht?.stop();
    await Promise.allSettled(
      this.options.trackers.map((t) =>
        announce(t, {
          channelId: bytesToHex(this.options.channelKey),
          peerId: this.peerId,
          port: this.port || 1,
          role: this.options.role,
          ...this.sourceProof(),
          event: 'stopped',
        }),
      ),
    );
    this.driver.stop();
    await this.listener?.close();
  }

  private async announceTo(trackerUrl: string, numWant: number): Promise<TrackerAnswer> {
    await this.options.beforeAnnounce?.(trackerUrl);
    const answer = await announce(trackerUrl, {
      channelId: bytesToHex(this.options.channelKey),
      peerId: this.peerId,
      port: this.port,
      role: this.options.role,
      ...(this.options.announceAddress !== undefined ? { address: this.options.announceAddress } : {}),
      ...this.sourceProof(),
      numWant,
    });
    // An IP address only: a tracker's answer must not name a host this node then answers to.
    if (isIP(answer.yourAddress) !== 0) this.seenAddress = answer.yourAddress;
    return {
      intervalMs: answer.intervalMs,
      peers: answer.peers
        .filter((p) => p.peerId !== this.peerId)
        .map((p) => ({ peerId: p.peerId, role: p.role, address: p.address, port: p.port })),
    };
  }

  /** A source's proof for its announces (none for a viewer). */
  private sourceProof(): { sourceProof?: SourceProof } {
    if (this.options.role !== 'source' || this.options.sign === undefined) return {};
    return { sourceProof: signSourceProof(bytesToHex(this.options.channelKey), this.peerId, Date.now(), this.options.sign) };
  }

  /** Dials a peer a tracker named (by the peer id it vouched for) or the DHT found (by address). */
  private dial(p: PeerCandidate): void {
    const who = p.peerId === undefined ? '' : `${p.peerId.slice(0, 8)} `;
    this.transport
      .dial(p.address, p.port, DIAL_TIMEOUT_MS)
      .then((conn) => {
        this.membership.dialEnded(p);
        if (this.stopped || !this.driver.accepts(p.peerId, p.address)) conn.close();
        else this.driver.attach(conn, 'tcp', true, p.peerId);
      })
      .catch((err: Error) => {
        this.membership.dialEnded(p);
        this.options.log.debug(`could not reach peer ${who}at ${p.address}:${p.port}: ${err.message}`);
      });
  }
}

interface TrackerAnswer {
  intervalMs: number;
  peers: PeerCandidate[];
}

/** Whether an address is one of this machine's own (a DHT lookup also returns our own announce). */
function isLocalAddress(address: string): boolean {
  if (isLoopbackHost(address) || address === '0.0.0.0') return true;
  return Object.values(os.networkInterfaces()).some((list) => list?.some((a) => a.address === address));
}
