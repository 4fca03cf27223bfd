// The TV gateway's HTTP server: the playlist, the guide, logos, each channel's stream and HLS,
// /stats.json and /metrics. Like the viewer's local server it checks the Host header (DNS
// rebinding) and sends no CORS header; bound to the LAN it also answers the names and
// addresses this machine has there, and builds every URL it hands out from the Host the app used.

import http from 'node:http';
import { UserError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { allowedHosts, hostOf, listenWithFallback, sendStream, servePlaylist, serveSegment } from './http-output.js';
import { timeshiftRoutes } from './timeshift-routes.js';
import { GatewayRefusal, type HeldEntry } from './tv-channels.js';

export interface TvRoutes {
  playlist(base: string): Promise<string>;
  epg(base: string): Promise<string>;
  logo(id: string): Promise<Uint8Array | undefined>;
  /** The held channel, joined on this request if needed (throws a UserError to answer with). */
  channel(id: string): Promise<HeldEntry>;
  streamPlayer(e: HeldEntry): () => void;
  hlsRequest(e: HeldEntry): void;
  stats(): unknown;
  metrics(): Promise<string>;
}

export interface TvServerOptions {
  host: string;
  port: number;
  fallbackPorts: number;
  routes: TvRoutes;
  log: Logger;
}

const ID = '([0-9a-f]{64})';
const CHANNEL_TS = new RegExp(`^/channel/${ID}\\.ts$`);
const CHANNEL_M3U8 = new RegExp(`^/channel/${ID}\\.m3u8$`);
const CHANNEL_SEGMENT = new RegExp(`^/channel/${ID}/(\\d{1,15})\\.ts$`);
/** The channel's timeshift window: its playlist, and segments its relative links name. */
const CHANNEL_TIMESHIFT = new RegExp(`^/channel/${ID}(/timeshift(?:\\.m3u8|/\\d{1,15}\\.ts))$`);
const LOGO = new RegExp(`^/logo/${ID}\\.jpg$`);
const ROUTES =
  '/playlist.m3u, /epg.xml, /channel/<id>.ts, /channel/<id>.m3u8, /channel/<id>/timeshift.m3u8, /logo/<id>.jpg, /stats.json, /metrics';

export async function startTvServer(o: TvServerOptions): Promise<{ port: number; baseUrl: string; close(): Promise<void> }> {
  const hosts = allowedHosts(o.host);
  const server = http.createServer((req, res) => {
    handle(o, hosts, req, res).catch((err: Error) => {
      // A refusal says why (the cap, a channel not live); a channel that could not be joined is the
      // trackers' or the swarm's failure (502); anything else is a bug (500).
      const status = err instanceof GatewayRefusal ? err.status : err instanceof UserError ? 502 : 500;
      if (status === 500) o.log.warn(`${req.url?.slice(0, 200)}: ${err.stack ?? err.message}`);
      const headers = { 'content-type': 'text/plain; charset=utf-8', ...(status === 503 ? { 'retry-after': '10' } : {}) };
      if (!res.headersSent) res.writeHead(status, headers).end(`${err.message.trimEnd()}\n`);
      else res.end();
    });
  });
  const port = await listenWithFallback(server, o);
  const shown = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host;
  return {
    port,
    baseUrl: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(o: TvServerOptions, hosts: Set<string>, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const target = req.url ?? '/';
  if (!target.startsWith('/')) return void res.writeHead(400).end();
  const path = new URL(`http://local${target}`).pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
  const host = req.headers.host === undefined ? undefined : hostOf(req.headers.host);
  if (req.headers.host !== undefined && (host === undefined || !hosts.has(host))) {
    res
      .writeHead(421, { 'content-type': 'text/plain' })
      .end(
        `this server answers requests for ${[...hosts].slice(0, 4).join(', ')}, not ${JSON.stringify(req.headers.host.slice(0, 100))}\n`,
      );
    return;
  }
  // The Host passed the check above, so it is one of ours: safe to build URLs from.
  const address = req.socket.localAddress ?? '127.0.0.1';
  const base = `http://${req.headers.host ?? `${address.includes(':') ? `[${address}]` : address}:${req.socket.localPort}`}`;
  const { routes } = o;
  if (path === '/playlist.m3u') return send(req, res, 'audio/x-mpegurl; charset=utf-8', await routes.playlist(base));
  if (path === '/epg.xml') return send(req, res, 'application/xml; charset=utf-8', await routes.epg(base));
  if (path === '/stats.json') return send(req, res, 'application/json', JSON.stringify(routes.stats()));
  if (path === '/metrics') return send(req, res, 'text/plain; version=0.0.4; charset=utf-8', await routes.metrics());
  const logo = LOGO.exec(path);
  if (logo !== null) {
    const jpeg = await routes.logo(logo[1] as string);
    if (jpeg === undefined) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no verified logo for this channel yet\n');
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length, 'cache-control': 'max-age=60' });
    return void res.end(req.method === 'HEAD' ? undefined : jpeg);
  }
  if (await serveChannel(routes, path, req, res)) return;
  res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; try ${ROUTES}\n`);
}

/** A channel's stream, HLS playlist or segment; false when the path is none of them. */
async function serveChannel(routes: TvRoutes, path: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
  const ts = CHANNEL_TS.exec(path);
  if (ts !== null) {
    const e = await routes.channel(ts[1] as string);
    const session = await e.ready;
    if (res.destroyed) return true;
    const gone = routes.streamPlayer(e);
    if (!sendStream(session.output.stream, req, res, gone)) gone();
    return true;
  }
  const shifted = CHANNEL_TIMESHIFT.exec(path);
  if (shifted !== null) {
    const e = await routes.channel(shifted[1] as string);
    const session = await e.ready;
    routes.hlsRequest(e);
    if (session.timeshift === undefined)
      res.writeHead(404, { 'content-type': 'text/plain' }).end('timeshift is off on this gateway (--timeshift)\n');
    else timeshiftRoutes(session.timeshift).handle(shifted[2] as string, req, res);
    return true;
  }
  const m3u8 = CHANNEL_M3U8.exec(path);
  const segment = CHANNEL_SEGMENT.exec(path);
  if (m3u8 === null && segment === null) return false;
  const e = await routes.channel(((m3u8 ?? segment) as RegExpExecArray)[1] as string);
  const session = await e.ready;
  routes.hlsRequest(e);
  if (segment !== null) serveSegment(session.output.hls, Number(segment[2]), req, res);
  else servePlaylist(session.output.hls, req, res);
  return true;
}

function send(req: http.IncomingMessage, res: http.ServerResponse, type: string, body: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
