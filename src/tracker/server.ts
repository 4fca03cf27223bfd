// The tracker's HTTP face: the web pages, /metrics, the API (routes.ts) and WebRTC signalling
// upgrades, on one server. Every request body is size-capped and checked; a bad request gets a
// 4xx with a reason and never disturbs the tracker.

import { randomInt } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hexToBytes } from '../common/hex.js';
import { createMetrics } from '../common/metrics.js';
import { newNodeKey } from '../crypto/keys.js';
import { hostGroup } from '../protocol/admission.js';
import { seededRandom } from '../protocol/random.js';
import { peerIdHexOf } from '../runtime/link-auth.js';
import { TcpTransport } from '../transport/tcp.js';
import { infoHashOf } from '../transport/webtorrent-ids.js';
import { type AddressProofConfig, AddressProver, type ProveFn } from './address-proof.js';
import { clientAddress, trustedProxies } from './addresses.js';
import { DEFAULT_DIRECTORY_CONFIG, Directory, type DirectoryConfig } from './directory.js';
import { HttpError, reply, requestPath } from './http.js';
import type { TrackerIceConfig } from './ice-config.js';
import { DEFAULT_RATE_LIMIT, type RateLimitConfig, RateLimiter } from './rate-limit.js';
import { RefusalLog, SIGNALING_REFUSALS } from './refusals.js';
import { handle, type RequestContext } from './routes.js';
import { DEFAULT_SIGNALING_CONFIG, type SignalingConfig, SignalingServer } from './signaling.js';
import { serveNotFoundPage, serveWeb } from './web.js';

type Metrics = ReturnType<typeof createMetrics>;

export interface TrackerServer {
  readonly port: number;
  readonly url: string;
  readonly directory: Directory;
  /** Open WebRTC signalling sockets. */
  signalingSockets(): number;
  /** Peers of a signalling swarm (info_hash) that took part in an exchange. */
  signalingAudience(infoHash: string): number;
  stop(): Promise<void>;
}

export interface TrackerOptions {
  host: string;
  port: number;
  config?: Partial<DirectoryConfig>;
  rateLimit?: Partial<RateLimitConfig>;
  /** Where unexpected failures (bugs, never bad requests) are reported. */
  onInternalError?: (err: unknown, req: http.IncomingMessage) => void;
  signaling?: Partial<SignalingConfig>;
  /** STUN/TURN servers handed to peers at GET /api/network (none by default). */
  ice?: TrackerIceConfig;
  /**
   * WebTorrent-protocol trackers (ws:// or wss://) peers should signal through instead of this
   * tracker's own /announce, e.g. a horizontally scaled stock tracker. Empty: our own.
   */
  signalingUrls?: string[];
  /**
   * Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For header names
   * the client. From anyone else those headers are ignored.
   */
  trustProxy?: string[];
  /**
   * A LAN, a lab or a test: peers may announce private, loopback and link-local addresses and
   * host names. On the Internet such an address would have the whole swarm dial into someone's
   * network. @default false
   */
  privateNetwork?: boolean;
  /** How a claimed address is proven (default: a Noise handshake with the peer there); its limits. */
  addressProof?: { prove?: ProveFn; config?: Partial<AddressProofConfig> };
  /** Where refusals are reported, at most one line per reason per minute. */
  log?: { warn(message: string): void };
}

/** Connects to a peer's listener and returns the peer id its Noise handshake proves. */
function noiseProver(): ProveFn {
  const transport = new TcpTransport({ keyPair: newNodeKey().keyPair });
  return async (address, port) => {
    const conn = await transport.dial(address, port, 3000);
    conn.close();
    const binding = conn.binding;
    if (binding?.kind !== 'key') throw new Error('no key proven');
    return peerIdHexOf(binding.remoteKey);
  };
}

export async function startTracker(options: TrackerOptions): Promise<TrackerServer> {
  const directory = new Directory({ ...DEFAULT_DIRECTORY_CONFIG, ...options.config }, seededRandom(randomInt(2 ** 31)));
  const limiter = new RateLimiter({ ...DEFAULT_RATE_LIMIT, ...options.rateLimit });
  const signaling = new SignalingServer(
    { ...DEFAULT_SIGNALING_CONFIG, ...options.signaling },
    seededRandom(randomInt(2 ** 31)),
    (reason, group) => refusals.refused(reason, SIGNALING_REFUSALS[reason], group),
  );
  const prover = new AddressProver(options.addressProof?.prove ?? noiseProver(), options.addressProof?.config);
  const ctx: RequestContext = {
    directory,
    limiter,
    webrtcPeers: (id) => signaling.swarmSize(infoHashOf(hexToBytes(id))),
    options,
    prover,
  };
  const counts = { requests: 0 };
  const metrics = trackerMetrics(ctx, signaling, counts, () => refusals.count);
  const refusals = new RefusalLog(metrics.registry, options.log);
  const proxies = trustedProxies(options.trustProxy ?? []);
  const server = http.createServer(requestListener({ ctx, metrics, refusals, proxies, counts, onInternalError: options.onInternalError }));
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.on('upgrade', (req, socket, head) => {
    // A socket handed to an upgrade handler has no error listener: a peer that resets it
    // (while a refusal is written, say) must not take the process down.
    socket.on('error', () => socket.destroy());
    const path = requestPath(req);
    if (path === '/announce' || path === '/') signaling.handleUpgrade(req, socket, head, hostGroup(clientAddress(req, proxies)));
    else socket.destroy();
  });
  await listen(server, options.port, options.host);
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    port,
    url: `http://${hostForUrl.includes(':') ? `[${hostForUrl}]` : hostForUrl}:${port}`,
    directory,
    signalingSockets: () => signaling.socketCount,
    signalingAudience: (infoHash) => signaling.swarmSize(infoHash),
    stop: () =>
      new Promise<void>((resolve) => {
        signaling.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The tracker's gauges in /metrics (meshtv_tracker_*). */
function trackerMetrics(
  ctx: RequestContext,
  signaling: SignalingServer,
  counts: { requests: number },
  refusedCount: () => number,
): Metrics {
  const { directory, prover } = ctx;
  return createMetrics('meshtv_tracker', [
    { name: 'channels', help: 'Channel records held', read: () => directory.counts().channels },
    { name: 'peers', help: 'Peers announced (all channels)', read: () => directory.counts().peers },
    { name: 'signaling_sockets', help: 'Open WebRTC signalling sockets', read: () => signaling.socketCount },
    { name: 'http_requests', help: 'HTTP requests served since start', read: () => counts.requests },
    { name: 'http_refused', help: 'HTTP requests answered 4xx since start', read: refusedCount },
    { name: 'address_probes', help: 'Connections made to check an address a peer claimed', read: () => prover.counts.probes },
    { name: 'address_proven', help: 'Claimed addresses proven by a handshake there', read: () => prover.counts.proven },
  ]);
}

/** Serves the web pages, /favicon.ico, /metrics, then the API; refusals are counted and answered. */
function requestListener(o: {
  ctx: RequestContext;
  metrics: Metrics;
  refusals: RefusalLog;
  proxies: ReturnType<typeof trustedProxies>;
  counts: { requests: number };
  onInternalError: TrackerOptions['onInternalError'];
}): http.RequestListener {
  const { metrics } = o;
  return (req, res) => {
    o.counts.requests++;
    // The WebTV pages and their assets; false for the API and anything else.
    if (serveWeb(req, res)) return;
    if (req.method === 'GET' && requestPath(req) === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'max-age=86400' }).end();
      return;
    }
    if (req.method === 'GET' && requestPath(req) === '/metrics') {
      metrics.render().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    // Read now: once a refusal closed the connection, the request has no socket.
    const client = clientAddress(req, o.proxies);
    handle(o.ctx, req, client)
      .then((body) => reply(res, 200, body))
      .catch((err: unknown) => {
        if (err instanceof HttpError) {
          o.refusals.refused(err.reason, err.message, client);
          if (err.status === 404 && serveNotFoundPage(req, res)) return;
          reply(res, err.status, { error: err.message });
        } else {
          (o.onInternalError ?? ((e) => process.stderr.write(`tracker: internal error: ${(e as Error)?.stack ?? String(e)}\n`)))(err, req);
          reply(res, 500, { error: 'internal error' });
        }
      });
  };
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
