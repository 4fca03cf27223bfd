// The tracker's HTTP face: channel directory (GET /api/channels), signed channel records
// (POST /api/channels) and peer discovery (POST /api/announce). Every request body is size-
// capped and checked; a bad request gets a 4xx with a reason and never disturbs the tracker.

import { createHmac, randomInt } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter } from 'prom-client';
import type { AnnounceAnswer, AnnounceRequest } from '../api/tracker-api.js';
import { hexToBytes } from '../common/hex.js';
import { createMetrics } from '../common/metrics.js';
import { newNodeKey, nodeVerify } from '../crypto/keys.js';
import { hostGroup } from '../protocol/admission.js';
import type { SignedChannelRecord } from '../protocol/channel-record.js';
import { canonicalRecord, checkSignedChannelRecord } from '../protocol/channel-record.js';
import { isLoopbackHost } from '../protocol/ip-ranges.js';
import { seededRandom } from '../protocol/random.js';
import { checkSourceProof, type SourceProof } from '../protocol/source-proof.js';
import { MAX_THUMBNAIL_BYTES, verifyThumbnail } from '../protocol/thumbnail.js';
import { peerIdHexOf } from '../runtime/link-auth.js';
import { type IceServer, isTurnServer, type NetworkConfig, turnRestCredentials } from '../transport/ice.js';
import { normalizeAddress, TcpTransport } from '../transport/tcp.js';
import { infoHashOf } from '../transport/webrtc-signaling.js';
import { type AddressProofConfig, AddressProver, type ProveFn } from './address-proof.js';
import { canonicalIp, clientAddress, isPublicAddress, trustedProxies } from './addresses.js';
import { DEFAULT_DIRECTORY_CONFIG, Directory, type DirectoryConfig, Refusal } from './directory.js';
import { DEFAULT_RATE_LIMIT, type RateLimitConfig, RateLimiter } from './rate-limit.js';
import { DEFAULT_SIGNALING_CONFIG, type SignalingConfig, type SignalingRefusal, SignalingServer } from './signaling.js';
import { serveWeb } from './web.js';

export const MAX_BODY_BYTES = 16 * 1024;

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

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Counted in /metrics under this reason (meshtv_tracker_refused_total). */
    readonly reason = 'bad-request',
  ) {
    super(message);
  }
}

/** The HTTP status each directory refusal is answered with. */
const REFUSAL_STATUS: Record<Refusal['code'], number> = {
  'too-many-channels': 503,
  'too-many-channels-from-address': 429,
  'directory-full': 503,
  'swarm-full': 503,
  'id-in-use': 409,
  'address-cap': 429,
  'too-many-sources': 409,
  'stale-record': 409,
  'stale-thumbnail': 409,
  'unknown-channel': 409,
};

function refused(r: Refusal): HttpError {
  return new HttpError(REFUSAL_STATUS[r.code], r.message, r.code);
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

const DEFAULT_TURN_TTL_S = 3600;

/** How far a thumbnail's signed time may be from the tracker's clock (a far-future one would win for ever). */
const THUMBNAIL_SKEW_MS = 10 * 60_000;

/** What each signalling refusal means, for the log. */
const SIGNALING_REFUSALS: Record<SignalingRefusal, string> = {
  'socket-cap': 'too many signalling sockets from one address',
  'slow-reader': 'a signalling socket that did not read what it was sent was closed',
  'bad-message': 'a signalling socket sent garbage and was closed',
  'id-in-use': 'a signalling socket announced a peer id another socket holds',
};

/** A refusal reason is logged at most this often, with the count since its last line. */
const REFUSAL_LOG_MS = 60_000;

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

export interface TrackerIceConfig {
  servers: IceServer[];
  /** Shared with the TURN server (coturn's static-auth-secret): TURN entries get fresh credentials. */
  turnSecret?: string;
  /**
   * Lifetime of those credentials, seconds. Short, since anyone may ask for them (within the
   * rate limit); a TURN server also checks them when an allocation is refreshed, so a relayed
   * link lives this long after its page asked. @default 3600
   */
  turnTtlS?: number;
}

/** The ICE servers for one viewer: TURN entries without a password get time-limited ones. */
async function iceServersFor(ice: TrackerIceConfig | undefined, nowMs: number): Promise<IceServer[]> {
  if (ice === undefined) return [];
  const secret = ice.turnSecret;
  return Promise.all(
    ice.servers.map(async (s) =>
      secret === undefined || s.username !== undefined || !isTurnServer(s)
        ? s
        : {
            urls: s.urls,
            ...(await turnRestCredentials(secret, nowMs, ice.turnTtlS ?? DEFAULT_TURN_TTL_S, (k, d) =>
              createHmac('sha1', k).update(d).digest(),
            )),
          },
    ),
  );
}

export async function startTracker(options: TrackerOptions): Promise<TrackerServer> {
  const directory = new Directory({ ...DEFAULT_DIRECTORY_CONFIG, ...options.config }, seededRandom(randomInt(2 ** 31)));
  const limiter = new RateLimiter({ ...DEFAULT_RATE_LIMIT, ...options.rateLimit });
  const signaling = new SignalingServer(
    { ...DEFAULT_SIGNALING_CONFIG, ...options.signaling },
    seededRandom(randomInt(2 ** 31)),
    (reason, group) => countRefusal(reason, SIGNALING_REFUSALS[reason], group),
  );
  let requests = 0;
  let refusedCount = 0;
  const proxies = trustedProxies(options.trustProxy ?? []);
  const prover = new AddressProver(options.addressProof?.prove ?? noiseProver(), options.addressProof?.config);
  const metrics = createMetrics('meshtv_tracker', [
    { name: 'channels', help: 'Channel records held', read: () => directory.counts().channels },
    { name: 'peers', help: 'Peers announced (all channels)', read: () => directory.counts().peers },
    { name: 'signaling_sockets', help: 'Open WebRTC signalling sockets', read: () => signaling.socketCount },
    { name: 'http_requests', help: 'HTTP requests served since start', read: () => requests },
    { name: 'http_refused', help: 'HTTP requests answered 4xx since start', read: () => refusedCount },
    { name: 'address_probes', help: 'Connections made to check an address a peer claimed', read: () => prover.counts.probes },
    { name: 'address_proven', help: 'Claimed addresses proven by a handshake there', read: () => prover.counts.proven },
  ]);
  const refusals = new Counter({
    name: 'meshtv_tracker_refused_total',
    help: 'Requests refused, by reason (rate-limit, address-cap, unproven-source, spoofed-address, ...)',
    labelNames: ['reason'],
    registers: [metrics.registry],
  });
  const lastLogged = new Map<string, { atMs: number; since: number }>();
  function countRefusal(reason: string, message: string, client: string): void {
    refusedCount++;
    refusals.inc({ reason });
    if (options.log === undefined) return;
    const now = Date.now();
    const seen = lastLogged.get(reason);
    if (seen !== undefined && now - seen.atMs < REFUSAL_LOG_MS) {
      seen.since++;
      return;
    }
    const more = seen !== undefined && seen.since > 0 ? ` (and ${seen.since} more since the last line)` : '';
    lastLogged.set(reason, { atMs: now, since: 0 });
    options.log.warn(`refused ${reason}: ${message}; last from ${client}${more}`);
  }
  const ctx: RequestContext = {
    directory,
    limiter,
    webrtcPeers: (id) => signaling.swarmSize(infoHashOf(hexToBytes(id))),
    options,
    prover,
  };
  const server = http.createServer((req, res) => {
    requests++;
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
    const client = clientAddress(req, proxies);
    handle(ctx, req, client)
      .then((body) => reply(res, 200, body))
      .catch((err: unknown) => {
        if (err instanceof HttpError) {
          countRefusal(err.reason, err.message, client);
          reply(res, err.status, { error: err.message });
        } else {
          (options.onInternalError ?? ((e) => process.stderr.write(`tracker: internal error: ${(e as Error)?.stack ?? String(e)}\n`)))(
            err,
            req,
          );
          reply(res, 500, { error: 'internal error' });
        }
      });
  });
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
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

interface RequestContext {
  directory: Directory;
  limiter: RateLimiter;
  webrtcPeers: (channelId: string) => number;
  options: Pick<TrackerOptions, 'ice' | 'signalingUrls' | 'privateNetwork'>;
  prover: AddressProver;
}

/** Answers one API request from `client` (the address it comes from, see clientAddress). */
async function handle(ctx: RequestContext, req: http.IncomingMessage, client: string): Promise<unknown> {
  const { directory, options } = ctx;
  // Concatenated rather than resolved: a path such as "//x" must not be read as a host name.
  const url = requestUrl(req);
  const now = Date.now();
  // Limits are per IPv4 address and per IPv6 /64.
  const group = hostGroup(client);
  if (url.pathname.startsWith('/api/') && !ctx.limiter.take(group, now))
    throw new HttpError(429, 'too many requests from this address; slow down', 'rate-limit');
  if (url.pathname === '/api/channels' && req.method === 'GET') return directory.liveChannels(now, ctx.webrtcPeers);
  if (url.pathname === '/api/network' && req.method === 'GET')
    return { iceServers: await iceServersFor(options.ice, now), signaling: options.signalingUrls ?? [] } satisfies NetworkConfig;
  const thumb = /^\/api\/channels\/([0-9a-f]{64})\/thumbnail\.jpg$/.exec(url.pathname);
  if (thumb !== null && req.method === 'POST') {
    const id = thumb[1] as string;
    const issuedAtMs = Number(req.headers['x-meshtv-issued-at']);
    const signature = String(req.headers['x-meshtv-signature'] ?? '');
    if (!Number.isFinite(issuedAtMs) || !/^[0-9a-f]{128}$/.test(signature))
      throw new HttpError(400, 'x-meshtv-issued-at and x-meshtv-signature headers required');
    if (Math.abs(issuedAtMs - now) > THUMBNAIL_SKEW_MS)
      throw new HttpError(
        400,
        `x-meshtv-issued-at is ${Math.round((issuedAtMs - now) / 1000)} s from the tracker's clock`,
        'stale-thumbnail',
      );
    const jpeg = await readBody(req, MAX_THUMBNAIL_BYTES);
    if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new HttpError(400, 'body is not a JPEG image');
    if (!verifyThumbnail(hexToBytes(id), issuedAtMs, jpeg, hexToBytes(signature), nodeVerify))
      throw new HttpError(400, 'thumbnail signature does not match the channel key');
    const refusal = directory.putThumbnail(id, issuedAtMs, jpeg);
    if (refusal !== undefined) throw refused(refusal);
    return { ok: true };
  }
  if (thumb !== null && req.method === 'GET') {
    const image = directory.thumbnail(thumb[1] as string);
    if (image === undefined) throw new HttpError(404, 'no thumbnail for this channel yet');
    return new RawBody('image/jpeg', image);
  }
  const one = /^\/api\/channels\/([0-9a-f]{64})$/.exec(url.pathname);
  if (one !== null && req.method === 'GET') {
    const live = directory.liveChannels(now, ctx.webrtcPeers).find((c) => c.id === one[1]);
    if (live === undefined) throw new HttpError(404, 'no such live channel');
    // The signed record lets a peer check the origin and the renditions' keys for itself.
    return { ...live, originUrl: directory.record(live.id)?.originUrl, signed: directory.signedRecord(live.id) };
  }
  if (url.pathname === '/api/channels' && req.method === 'POST') {
    const body = await readJson(req);
    const problem = checkSignedChannelRecord(body, nodeVerify);
    if (problem !== undefined) throw new HttpError(400, `channel record refused: ${problem}`);
    const signed = body as SignedChannelRecord;
    const refusal = directory.putRecord(canonicalRecord(signed.record), now, signed.signature, group);
    if (refusal !== undefined) throw refused(refusal);
    return { ok: true };
  }
  if (url.pathname === '/api/announce' && req.method === 'POST') {
    const a = checkAnnounce(await readJson(req));
    if (a.event === 'stopped') {
      const proven = a.role === 'source' && checkSourceProof(a.sourceProof, a.channelId, a.peerId, now, nodeVerify) === undefined;
      directory.leave(a.channelId, a.peerId, client, proven);
      return { intervalMs: directory.config.announceIntervalMs, yourAddress: client, peers: [] } satisfies AnnounceAnswer;
    }
    if (a.role === 'source') {
      const problem = checkSourceProof(a.sourceProof, a.channelId, a.peerId, now, nodeVerify);
      if (problem !== undefined) throw new HttpError(403, problem, 'unproven-source');
    }
    const peers = directory.announce(
      now,
      a.channelId,
      { peerId: a.peerId, address: listedAddress(ctx, a, client), port: a.port, role: a.role, seenFrom: client, group },
      a.numWant,
    );
    if (peers instanceof Refusal) throw refused(peers);
    const local = normalizeAddress(req.socket?.localAddress ?? '');
    // Asked once per answer, not once per peer in it.
    const remoteAsker = local !== '' && !isLoopbackHost(client);
    return {
      intervalMs: directory.config.announceIntervalMs,
      yourAddress: client,
      peers: peers.map((p) => ({
        peerId: p.peerId,
        address: remoteAsker ? reachableAddress(p.address, client, local) : p.address,
        port: p.port,
        role: p.role,
      })),
    } satisfies AnnounceAnswer;
  }
  if (url.pathname.startsWith('/api/')) throw new HttpError(404, `no such endpoint: ${req.method} ${url.pathname}`);
  throw new HttpError(404, 'not found');
}

/**
 * The address an announce is listed at: the one the tracker sees, unless the peer names
 * another. On a private network that one is taken as given; on the Internet it must be a public
 * IP address, and it is listed once a handshake there proved the peer's key (until then, and
 * if that fails, the address the tracker sees).
 */
function listedAddress(ctx: RequestContext, a: AnnounceRequest, client: string): string {
  if (a.address === undefined) return client;
  if (ctx.options.privateNetwork === true) return normalizeAddress(a.address);
  const claimed = canonicalIp(a.address);
  if (claimed === client) return claimed;
  if (claimed === undefined || !isPublicAddress(claimed))
    throw new HttpError(
      400,
      `address ${a.address} is not a public IP address; this tracker lists peers at the address it sees them at (${client}) unless it runs with --private-network`,
      'spoofed-address',
    );
  return ctx.prover.state(a.peerId, claimed, a.port) === 'proven' ? claimed : client;
}

/**
 * A peer that announced from this machine's loopback is on the tracker's host: to a remote
 * requester it is reachable at the address the requester used for the tracker, never 127.0.0.1.
 */
export function reachableAddress(peerAddress: string, requester: string, trackerLocal: string): string {
  if (isLoopbackHost(peerAddress) && !isLoopbackHost(requester) && trackerLocal !== '') return trackerLocal;
  return peerAddress;
}

function requestPath(req: http.IncomingMessage): string | undefined {
  try {
    return requestUrl(req).pathname;
  } catch {
    return undefined;
  }
}

/** The request target as a URL; throws a 400 for one that cannot be parsed. */
export function requestUrl(req: http.IncomingMessage): URL {
  const target = req.url ?? '/';
  try {
    return new URL(`http://request${target.startsWith('/') ? '' : '/'}${target}`);
  } catch {
    throw new HttpError(400, 'malformed request target');
  }
}

function checkAnnounce(body: unknown): AnnounceRequest {
  if (typeof body !== 'object' || body === null) throw new HttpError(400, 'announce body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.channelId !== 'string' || !/^[0-9a-f]{64}$/.test(b.channelId))
    throw new HttpError(400, 'channelId must be 64 lowercase hex digits');
  if (typeof b.peerId !== 'string' || !/^[0-9a-f]{32}$/.test(b.peerId)) throw new HttpError(400, 'peerId must be 32 lowercase hex digits');
  if (typeof b.port !== 'number' || !Number.isInteger(b.port) || b.port < 1 || b.port > 65535)
    throw new HttpError(400, 'port must be 1-65535');
  if (b.role !== 'source' && b.role !== 'viewer') throw new HttpError(400, 'role must be "source" or "viewer"');
  if (b.address !== undefined && (typeof b.address !== 'string' || !/^[0-9a-zA-Z.:-]{1,253}$/.test(b.address))) {
    throw new HttpError(400, 'address must be a host name or IP address');
  }
  if (b.event !== undefined && b.event !== 'stopped') throw new HttpError(400, 'event must be "stopped" when given');
  if (b.numWant !== undefined && (typeof b.numWant !== 'number' || !Number.isInteger(b.numWant) || b.numWant < 0))
    throw new HttpError(400, 'numWant must be a whole number of peers, 0 or more');
  return b as unknown as AnnounceRequest;
}

/** A reply that is not JSON. */
class RawBody {
  constructor(
    readonly contentType: string,
    readonly body: Uint8Array,
  ) {}
}

async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new HttpError(413, `body larger than ${maxBytes} bytes`);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > maxBytes) throw new HttpError(413, `body larger than ${maxBytes} bytes`);
    parts.push(part);
  }
  return new Uint8Array(Buffer.concat(parts));
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_BODY_BYTES);
  try {
    return JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  if (body instanceof RawBody) {
    res.writeHead(status, { 'content-type': body.contentType, 'content-length': body.body.length, 'cache-control': 'no-cache' });
    res.end(body.body);
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    // After a refused body, do not keep reading what is left of it.
    ...(status === 413 ? { connection: 'close' } : {}),
  });
  res.end(text);
}
