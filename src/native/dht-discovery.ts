// Trackerless peer discovery through the BitTorrent Mainline DHT (BEP 5), so a channel stays findable
// when every tracker is gone: we announce our TCP peer port under an info hash and look up the others.
// A thin driver around bittorrent-dht; it only reports candidate addresses, whom to dial is decided elsewhere.

import { isIPv4 } from 'node:net';
import DHT, { type DhtContact } from 'bittorrent-dht';
import { UserError } from '../common/errors.js';
import type { Logger } from '../common/log.js';

export interface DhtDiscoveryOptions {
  /** 20 bytes; meshtv passes the first 20 bytes of the channel's Ed25519 key (as `infoHashOf` does). */
  infoHash: Uint8Array;
  /** TCP peer port to announce; 0 = look up only, never announce. */
  peerPort: number;
  /** "host:port" entries (IPv4 or host name); undefined = the library's public routers; [] = none. */
  bootstrap: string[] | undefined;
  /** UDP bind address. @default '0.0.0.0' */
  host?: string;
  /** UDP port. @default 0 (any) */
  port?: number;
  log: Logger;
  /** A peer found for our info hash; the same address is not reported again within `peerRepeatMs`. */
  onPeer: (address: string, port: number) => void;
  /** Periodic lookups run only while this says yes (lookupNow() runs regardless). @default () => true */
  wantPeers?: () => boolean;
  /** @default 900000 (15 min); see DHT_DISCOVERY_DEFAULTS */
  announceIntervalMs?: number;
  /** Next try after an announce that reached no node. @default 30000 */
  announceRetryMs?: number;
  /** @default 15000 */
  lookupIntervalMs?: number;
  /** @default 60000 */
  peerRepeatMs?: number;
  /** How long start() waits for the bootstrap walk before carrying on without it. @default 5000 */
  readyTimeoutMs?: number;
  /** The clock `peerRepeatMs` is measured on (tests pass a virtual one). @default Date.now */
  now?: () => number;
}

export interface DhtDiscoveryStats {
  /** Nodes in the routing table now. */
  nodes: number;
  /** onPeer calls so far (so a peer seen again after `peerRepeatMs` counts again). */
  peersFound: number;
  /** Announces that at least one node accepted. */
  announces: number;
  /** get_peers walks started. */
  lookups: number;
}

export const DHT_DISCOVERY_DEFAULTS = {
  // BEP 5 leaves peer expiry to the storing node. libtorrent drops an announce after 45 min (1.5 x its
  // 30-min interval); our own nodes after 20 to 40 min (PEER_RECORD_MAX_AGE_MS). Re-announcing every
  // 15 min (also WebTorrent's torrent-discovery default) stays under both, so one lost round does not
  // make us vanish, without hammering the public DHT.
  announceIntervalMs: 15 * 60_000,
  announceRetryMs: 30_000,
  lookupIntervalMs: 15_000,
  peerRepeatMs: 60_000,
  // k-rpc-socket gives up on a query after 2 to 2.5 s, so a live bootstrap node answers well within
  // this; resolving the default routers' names can take longer when offline.
  readyTimeoutMs: 5_000,
};

/**
 * How long our node keeps peers others announce to it. bittorrent-dht keeps them forever by default
 * (up to 10 000), answering with long-gone peers; its record cache drops a record after 0.66 to 1.33 x this.
 */
const PEER_RECORD_MAX_AGE_MS = 30 * 60_000;

/** Addresses remembered for de-duplication, at most; the oldest are forgotten first. */
const MAX_REMEMBERED_PEERS = 4096;

/** Parses "host:port" bootstrap entries, or says which one is wrong. IPv4 only: the DHT socket is udp4. */
export function parseDhtBootstrap(entries: string[]): DhtContact[] {
  return entries.map((entry) => {
    const m = /^([^:\s]+):(\d{1,5})$/.exec(entry.trim());
    const host = m?.[1];
    const port = Number(m?.[2]);
    const hostOk =
      host !== undefined &&
      (isIPv4(host) || (/[a-z]/i.test(host) && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(host)));
    if (!hostOk || !(port >= 1 && port <= 65535)) {
      throw new UserError(`DHT bootstrap node "${entry}" is not host:port (an IPv4 address or host name, and a port 1-65535)`);
    }
    return { host, port };
  });
}

/**
 * A peer from the DHT if it is worth reporting: IPv4 with a port, not 0.x, multicast or reserved.
 * Loopback and private ranges pass: LAN and single-host setups announce those.
 */
function usablePeer(peer: Partial<DhtContact> | undefined): DhtContact | undefined {
  const host = peer?.host;
  const port = peer?.port;
  if (typeof host !== 'string' || !isIPv4(host)) return undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const first = Number(host.split('.')[0]);
  return first !== 0 && first < 224 ? { host, port } : undefined;
}

export class DhtDiscovery {
  private readonly infoHash: Buffer;
  private readonly bootstrap: DhtContact[] | false | undefined;
  private readonly cfg: typeof DHT_DISCOVERY_DEFAULTS;
  private dht: DHT | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;
  private announceTimer: ReturnType<typeof setTimeout> | undefined;
  private lookupTimer: ReturnType<typeof setTimeout> | undefined;
  private announceInFlight = false;
  private lookupInFlight = false;
  private lookupAgain = false;
  private abortLookup: (() => void) | undefined;
  /** "host:port" → when last reported. Entries are only added or deleted, so the oldest come first. */
  private readonly reported = new Map<string, number>();
  private counts = { peersFound: 0, announces: 0, lookups: 0 };

  constructor(private readonly o: DhtDiscoveryOptions) {
    if (o.infoHash.length !== 20) throw new RangeError(`DHT info hash must be 20 bytes, got ${o.infoHash.length}`);
    if (!Number.isInteger(o.peerPort) || o.peerPort < 0 || o.peerPort > 65535) throw new RangeError(`bad peer port ${o.peerPort}`);
    if (o.host !== undefined && !isIPv4(o.host)) throw new UserError(`DHT bind address "${o.host}" is not an IPv4 address`);
    if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535)) {
      throw new UserError(`DHT UDP port ${o.port} is not 0-65535`);
    }
    this.infoHash = Buffer.from(o.infoHash);
    this.bootstrap = o.bootstrap === undefined ? undefined : o.bootstrap.length === 0 ? false : parseDhtBootstrap(o.bootstrap);
    const d = DHT_DISCOVERY_DEFAULTS;
    this.cfg = {
      announceIntervalMs: o.announceIntervalMs ?? d.announceIntervalMs,
      announceRetryMs: o.announceRetryMs ?? d.announceRetryMs,
      lookupIntervalMs: o.lookupIntervalMs ?? d.lookupIntervalMs,
      peerRepeatMs: o.peerRepeatMs ?? d.peerRepeatMs,
      readyTimeoutMs: o.readyTimeoutMs ?? d.readyTimeoutMs,
    };
  }

  /**
   * Binds the UDP socket, waits for the bootstrap walk (at most `readyTimeoutMs`: with nobody answering
   * we carry on, and every announce/lookup retries the bootstrap nodes), then announces and looks up.
   * Rejects with a UserError if the socket cannot be bound.
   */
  async start(): Promise<void> {
    if (this.started || this.stopping) throw new Error('DhtDiscovery.start() may be called once, before stop()');
    this.started = true;
    const { log } = this.o;
    const host = this.o.host ?? '0.0.0.0';
    const port = this.o.port ?? 0;
    // No `host` option for the DHT itself: that one would store our own announces in our own peer
    // table, and every lookup would then report ourselves.
    const dht = new DHT({ maxAge: PEER_RECORD_MAX_AGE_MS, ...(this.bootstrap === undefined ? {} : { bootstrap: this.bootstrap }) });
    this.dht = dht;
    let bindFailed: ((err: Error) => void) | undefined;
    dht.on('error', (err) => (bindFailed ? bindFailed(err) : log.warn(`DHT: ${err.message}`)));
    // The public DHT sends plenty of junk (undecodable packets, stray transaction ids): debug only.
    dht.on('warning', (err) => (bindFailed ? bindFailed(err) : log.debug(`DHT warning: ${err.message}`)));
    dht.on('peer', (peer, infoHash) => this.handlePeer(peer, infoHash));

    // listen() must come in the same tick as the constructor: the DHT starts its bootstrap walk on the
    // next tick, and a send on an unbound socket would bind it to a random port behind our back.
    const bound = await new Promise<boolean>((resolve, reject) => {
      bindFailed = reject;
      dht.once('close', () => resolve(false));
      dht.listen(port, host, () => resolve(true));
    }).catch(async (err: Error) => {
      await this.stop();
      throw new UserError(`cannot use UDP ${host}:${port} for the DHT: ${err.message}`);
    });
    bindFailed = undefined;
    if (!bound || this.dht !== dht) return;
    log.debug(`DHT listening on UDP ${host}:${dht.address().port}`);

    if (!dht.ready) {
      const ready = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), this.cfg.readyTimeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve(true);
        };
        dht.once('ready', done);
        dht.once('close', done);
      });
      if (this.dht !== dht) return;
      if (!ready) {
        log.info(`DHT: no bootstrap node answered within ${this.cfg.readyTimeoutMs} ms; carrying on and retrying in the background`);
        dht.once('ready', () => {
          if (this.dht !== dht) return;
          log.debug(`DHT ready late, ${dht.nodes.count()} nodes`);
          if (this.counts.announces === 0) this.announce();
          this.lookup(false);
        });
      }
    }
    if (dht.ready) log.debug(`DHT ready, ${dht.nodes.count()} nodes`);
    this.announce();
    this.lookupTick();
  }

  /** Looks up peers now, whatever wantPeers() says (e.g. after losing every neighbour). No-op unless started. */
  lookupNow(): void {
    this.lookup(true);
  }

  /** Clears the timers and closes the socket. Idempotent; safe during start(). */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    clearTimeout(this.announceTimer);
    clearTimeout(this.lookupTimer);
    this.abortLookup?.();
    const dht = this.dht;
    this.dht = undefined;
    this.stopping = new Promise<void>((resolve) => {
      if (!dht) return resolve();
      try {
        dht.destroy(() => resolve());
      } catch (err) {
        // dgram's close() throws only for a socket already closed: nothing is left open then.
        this.o.log.debug(`DHT destroy: ${(err as Error).message}`);
        resolve();
      }
    });
    return this.stopping;
  }

  get stats(): DhtDiscoveryStats {
    return { nodes: this.dht?.nodes.count() ?? 0, ...this.counts };
  }

  private announce(): void {
    const dht = this.dht;
    clearTimeout(this.announceTimer);
    if (!dht || this.o.peerPort === 0 || this.announceInFlight) return;
    this.announceInFlight = true;
    dht.announce(this.infoHash, this.o.peerPort, (err, hits) => {
      if (this.dht !== dht) return;
      this.announceInFlight = false;
      if (err) {
        this.o.log.debug(`DHT announce failed (${err.message}); again in ${this.cfg.announceRetryMs} ms`);
      } else {
        this.counts.announces++;
        this.o.log.debug(`DHT announced port ${this.o.peerPort} to ${hits} nodes`);
      }
      this.announceTimer = setTimeout(() => this.announce(), err ? this.cfg.announceRetryMs : this.cfg.announceIntervalMs);
    });
  }

  private lookupTick(): void {
    if (!this.dht) return;
    if (this.o.wantPeers?.() ?? true) this.lookup(false);
    this.lookupTimer = setTimeout(() => this.lookupTick(), this.cfg.lookupIntervalMs);
  }

  /** One get_peers walk at a time; a forced lookup during one runs again when it ends (peers may have just left). */
  private lookup(forced: boolean): void {
    const dht = this.dht;
    if (!dht) return;
    if (this.lookupInFlight) {
      this.lookupAgain ||= forced;
      return;
    }
    this.lookupInFlight = true;
    this.counts.lookups++;
    this.abortLookup = dht.lookup(this.infoHash, (err, visited) => {
      if (this.dht !== dht) return;
      this.lookupInFlight = false;
      this.abortLookup = undefined;
      if (err) this.o.log.debug(`DHT lookup failed: ${err.message}`);
      else this.o.log.debug(`DHT lookup visited ${visited} nodes`);
      if (this.lookupAgain) {
        this.lookupAgain = false;
        this.lookup(true);
      }
    });
  }

  private handlePeer(peer: Partial<DhtContact> | undefined, infoHash: Buffer | undefined): void {
    // One DHT per instance, but its 'peer' events carry any info hash a lookup touched.
    if (!this.dht || !infoHash?.equals(this.infoHash)) return;
    const usable = usablePeer(peer);
    if (!usable) {
      this.o.log.debug(`DHT gave an unusable peer ${String(peer?.host)}:${String(peer?.port)}`);
      return;
    }
    const { host, port } = usable;
    const now = (this.o.now ?? Date.now)();
    for (const [key, at] of this.reported) {
      if (now - at < this.cfg.peerRepeatMs && this.reported.size < MAX_REMEMBERED_PEERS) break;
      this.reported.delete(key);
    }
    const key = `${host}:${port}`;
    if (this.reported.has(key)) return;
    this.reported.set(key, now);
    this.counts.peersFound++;
    this.o.onPeer(host, port);
  }
}
