// The viewer's local HTTP server for players: /stream.ts (continuous MPEG-TS), /live.m3u8 and
// its segments (HLS), and /stats.json. Bound to 127.0.0.1 by default: it serves this
// machine's players, not the Internet.
//
// Web pages the user visits can reach it too, so it answers nothing to them: no CORS header
// (another origin cannot read /stats.json, which names the channel and the neighbours), and a
// Host check against DNS rebinding (a page whose own name resolves to 127.0.0.1 would otherwise
// be same-origin with this server). Only the broadcaster's origin (/chunk/<n>, /edge.json:
// origin-routes.ts) serves any web page, since browsers on the tracker's site stream from it.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { UserError } from '../common/errors.js';
import type { HlsSegmenter } from '../media/hls-segmenter.js';
import type { StreamOutput } from '../media/stream-output.js';
import { hostGroup } from '../protocol/admission.js';
import { isLoopbackHost } from '../protocol/ip-ranges.js';

export interface HttpOutput {
  readonly port: number;
  readonly baseUrl: string;
  /** What players are doing, to know when they are done after the channel ended. */
  activity(): { streamClients: number; lastHlsRequestAtMs: number | undefined };
  close(): Promise<void>;
}

export interface HttpOutputOptions {
  host: string;
  port: number;
  /** When `port` is taken, try the next ones up to this many, then any free port (for a default port). @default 0 */
  fallbackPorts?: number;
  stream?: StreamOutput;
  hls?: HlsSegmenter;
  /**
   * A master playlist for /live.m3u8 (a channel with renditions); the media playlist then moves
   * to /media.m3u8.
   */
  master?: string;
  stats: () => unknown;
  /** The broadcaster's public routes for browsers (origin-routes.ts): answers true for its paths. */
  origin?: { handle(path: string, req: http.IncomingMessage, res: http.ServerResponse): boolean };
  /**
   * Bound where the Internet reaches it only to serve the origin: every other route answers
   * this machine alone (the stats name the neighbours; the Host check cannot tell, since any
   * client may send any Host).
   */
  privateToLoopback?: boolean;
  /** Prometheus text for /metrics. */
  metrics?: () => Promise<string>;
  /** The timeshift routes (timeshift-routes.ts): answers true for its paths. */
  timeshift?: { handle(path: string, req: http.IncomingMessage, res: http.ServerResponse): boolean };
  /** Host names besides this machine's own and its addresses that requests may name (a LAN name). */
  extraHosts?: string[];
}

/** How long a playlist request waits for the first segment before answering 503. */
const FIRST_SEGMENT_WAIT_MS = 10_000;
const SEGMENT_PATH = /^\/live\/(\d{1,15})\.ts$/;

/**
 * The Host header values this server answers: loopback names, the address it is bound to, and
 * when bound to every interface, this machine's addresses and host name (players on the LAN).
 */
export function allowedHosts(bindHost: string, extra: readonly string[] = []): Set<string> {
  const hosts = new Set(['127.0.0.1', 'localhost', '::1', bindHost.toLowerCase(), ...extra.map((h) => h.toLowerCase())]);
  if (bindHost === '0.0.0.0' || bindHost === '::') {
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) hosts.add(a.address.toLowerCase());
    const name = os.hostname().toLowerCase();
    for (const h of [name, `${name}.local`, `${name}.lan`, `${name}.home`]) hosts.add(h);
  }
  return hosts;
}

/** The host part of a Host header ("[::1]:8902" -> "::1"); undefined for a malformed one. */
export function hostOf(header: string): string | undefined {
  const h = header.trim().toLowerCase();
  const m = h.startsWith('[') ? /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h) : /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(h);
  return m?.[1];
}

/** What the request handler keeps between requests. */
interface ServerState {
  readonly options: HttpOutputOptions;
  readonly hosts: Set<string>;
  streamClients: number;
  lastHlsRequestAtMs: number | undefined;
  /** Requests refused for their Host, in /metrics: a page trying DNS rebinding shows up there. */
  refusedHosts: number;
}

export async function startHttpOutput(options: HttpOutputOptions): Promise<HttpOutput> {
  const state: ServerState = {
    options,
    hosts: allowedHosts(options.host, options.extraHosts),
    streamClients: 0,
    lastHlsRequestAtMs: undefined,
    refusedHosts: 0,
  };
  const server = http.createServer((req, res) => handle(state, req, res));
  limitConnections(server);
  const port = await listenWithFallback(server, options);
  return {
    port,
    baseUrl: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    activity: () => ({ streamClients: state.streamClients, lastHlsRequestAtMs: state.lastHlsRequestAtMs }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function handle(state: ServerState, req: http.IncomingMessage, res: http.ServerResponse): void {
  const { options } = state;
  // Concatenated, not resolved: a target such as "//x" must not be read as a host name.
  let path: string;
  try {
    path = new URL(`http://local${(req.url ?? '/').startsWith('/') ? '' : '/'}${req.url ?? '/'}`).pathname;
  } catch {
    res.writeHead(400).end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  if (options.origin?.handle(path, req, res)) return;
  if (refuseHost(state, req, res)) return;
  if (options.privateToLoopback && !isLoopbackHost(req.socket.remoteAddress ?? '')) {
    res
      .writeHead(403, { 'content-type': 'text/plain' })
      .end('only this machine may read this; the origin serves /chunk/<n> and /edge.json\n');
    return;
  }
  if (path === '/metrics' && options.metrics !== undefined) serveMetrics(options.metrics, state.refusedHosts, res);
  else if (path === '/stats.json') {
    const body = JSON.stringify(options.stats());
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(body);
  } else if (path === '/stream.ts' && options.stream !== undefined) serveStream(state, options.stream, req, res);
  else if (options.timeshift?.handle(path, req, res)) state.lastHlsRequestAtMs = Date.now();
  else if (!serveHls(state, path, req, res)) {
    const routes = [options.stream && '/stream.ts', options.hls && '/live.m3u8', options.timeshift && '/timeshift.m3u8', '/stats.json']
      .filter(Boolean)
      .join(', ');
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; try ${routes}\n`);
  }
}

/** Sockets one address (an IPv4 address, an IPv6 /64) may hold open, this machine's excepted. */
export const CONNECTIONS_PER_ADDRESS = 32;
const MAX_CONNECTIONS = 2048;

/**
 * A broadcaster's server faces the Internet: a client that opens sockets and sends its request
 * slowly, or never, must not hold the process's file descriptors (which its peer links need).
 */
function limitConnections(server: http.Server): void {
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.maxConnections = MAX_CONNECTIONS;
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? '';
    if (isLoopbackHost(address)) return;
    const group = hostGroup(address);
    const count = (open.get(group) ?? 0) + 1;
    if (count > CONNECTIONS_PER_ADDRESS) {
      socket.destroy();
      return;
    }
    open.set(group, count);
    socket.on('close', () => {
      const left = (open.get(group) ?? 1) - 1;
      if (left <= 0) open.delete(group);
      else open.set(group, left);
    });
  });
}

/** Answers 421 to a Host this server does not answer (DNS rebinding); true when it did. */
function refuseHost(state: ServerState, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  // Browsers always send Host; a request without one comes from a program, not a page.
  if (req.headers.host === undefined) return false;
  const host = hostOf(req.headers.host);
  if (host !== undefined && state.hosts.has(host)) return false;
  state.refusedHosts++;
  res
    .writeHead(421, { 'content-type': 'text/plain' })
    .end(
      `this server answers requests for ${[...state.hosts].slice(0, 4).join(', ')}, not ${JSON.stringify(req.headers.host.slice(0, 100))}\n`,
    );
  return true;
}

function serveMetrics(metrics: () => Promise<string>, refusedHosts: number, res: http.ServerResponse): void {
  metrics().then((text) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(
      `${text}# HELP meshtv_local_http_refused_host_total Requests refused for naming a Host this server does not answer (DNS rebinding)\n` +
        `# TYPE meshtv_local_http_refused_host_total counter\nmeshtv_local_http_refused_host_total ${refusedHosts}\n`,
    );
  });
}

/** /stream.ts: the continuous MPEG-TS, for as long as the player stays. */
function serveStream(state: ServerState, stream: StreamOutput, req: http.IncomingMessage, res: http.ServerResponse): void {
  if (sendStream(stream, req, res, () => state.streamClients--)) state.streamClients++;
}

/**
 * Sends the continuous MPEG-TS to one player for as long as it stays (410 once the channel
 * ended). True when the player was added; `onGone` runs when it leaves.
 */
export function sendStream(stream: StreamOutput, req: http.IncomingMessage, res: http.ServerResponse, onGone: () => void): boolean {
  if (stream.ended) {
    res.writeHead(410, { 'content-type': 'text/plain' }).end('the channel has ended\n');
    return false;
  }
  res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'no-store' });
  if (req.method === 'HEAD') {
    res.end();
    return false;
  }
  res.socket?.setNoDelay(true);
  const sink = {
    write: (data: Uint8Array) => {
      res.write(data);
    },
    get pendingBytes() {
      return res.writableLength;
    },
    end: () => res.end(),
  };
  stream.addClient(sink);
  res.on('close', () => {
    stream.removeClient(sink);
    onGone();
  });
  return true;
}

/** The playlists and segments; false when the path is none of them. */
function serveHls(state: ServerState, path: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const { master, hls } = state.options;
  const mediaPath = master !== undefined ? '/media.m3u8' : '/live.m3u8';
  if (master !== undefined && path === '/live.m3u8') {
    state.lastHlsRequestAtMs = Date.now();
    // A fixed playlist: it exists at once, and never changes.
    servePlaylist({ playlist: () => master, onChange: () => () => {} }, req, res);
    return true;
  }
  if (hls === undefined || (path !== mediaPath && !SEGMENT_PATH.test(path))) return false;
  state.lastHlsRequestAtMs = Date.now();
  if (path === mediaPath) servePlaylist(hls, req, res);
  else serveSegment(hls, Number(SEGMENT_PATH.exec(path)?.[1]), req, res);
  return true;
}

/** Listens on the port asked for; when it is taken, on the next `fallbackPorts` ones, then any. Returns the port. */
export async function listenWithFallback(
  server: http.Server,
  options: Pick<HttpOutputOptions, 'host' | 'port' | 'fallbackPorts'>,
): Promise<number> {
  const fallbacks = options.fallbackPorts ?? 0;
  let port = options.port;
  for (let attempt = 0; ; attempt++) {
    try {
      await listen(server, options.host, port);
      return (server.address() as AddressInfo).port;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && port !== 0 && attempt < fallbacks) {
        port = attempt + 1 < fallbacks ? port + 1 : 0;
        server.close();
        continue;
      }
      if (code === 'EADDRINUSE') throw new UserError(`port ${options.port} on ${options.host} is in use; choose another with --http-port`);
      throw new UserError(`cannot serve HTTP on ${options.host}:${port}: ${(err as Error).message}`);
    }
  }
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** A playlist that may not exist yet (no segment cut), and tells when it changes. */
export interface PlaylistSource {
  playlist(): string | undefined;
  onChange(listener: () => void): () => void;
}

/** A live playlist; before the first segment exists the request waits for it a little. */
export function servePlaylist(source: PlaylistSource, req: http.IncomingMessage, res: http.ServerResponse): void {
  const send = (body: string) => {
    res.writeHead(200, {
      'content-type': 'application/vnd.apple.mpegurl',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const now = source.playlist();
  if (now !== undefined) {
    send(now);
    return;
  }
  const timer = setTimeout(() => {
    unsubscribe();
    res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('no segment yet: the channel is starting\n');
  }, FIRST_SEGMENT_WAIT_MS);
  const unsubscribe = source.onChange(() => {
    const body = source.playlist();
    if (body === undefined) return;
    clearTimeout(timer);
    unsubscribe();
    send(body);
  });
  res.on('close', () => {
    clearTimeout(timer);
    unsubscribe();
  });
}

export function serveSegment(hls: HlsSegmenter, sequence: number, req: http.IncomingMessage, res: http.ServerResponse): void {
  const data = hls.segment(sequence);
  if (data === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`segment ${sequence} is not (or no longer) available\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': data.length, 'cache-control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : data);
}
