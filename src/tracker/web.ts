// Serves the WebTV pages from the tracker: `/` (channel grid), `/watch/<channel id>` (player),
// `/embed/<channel id>` (the player alone, for an <iframe> on other sites: the only framable page),
// `/assets/app.js` (+ map, built by scripts/build.mjs into dist/web/) and `/assets/<name>.css`
// (web/); and, for addresses nothing answers, a not-found page to browsers. Only names from a fixed pattern are ever mapped to files, so no request can reach
// anything else on disk. Files are read per request: a rebuilt bundle needs no restart.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownHost } from './oembed.js';

const CHANNEL_ID = /^[0-9a-f]{64}$/;
const CSS_NAME = /^[a-z0-9][a-z0-9-]{0,63}\.css$/;

const TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  map: 'application/json; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;

/**
 * Pages may fetch from the tracker and, for the HTTP fallback, from broadcasters' origins on any
 * host; media plays from blob: URLs (Media Source Extensions); nothing else is allowed.
 */
const POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self' http: https: ws: wss:",
  "base-uri 'none'",
  "form-action 'none'",
];

/**
 * Framing: no page may sit in another site's frame (clickjacking: a hidden "Share" switch under
 * a decoy), except the embed page, which exists for that and has no setting to click.
 * X-Frame-Options is for browsers older than frame-ancestors.
 */
export const PAGE_HEADERS = {
  'content-security-policy': [...POLICY, "frame-ancestors 'none'"].join('; '),
  'x-frame-options': 'DENY',
} as const;
export const EMBED_HEADERS = { 'content-security-policy': [...POLICY, 'frame-ancestors *'].join('; ') } as const;

type PageKind = 'page' | 'embed' | 'asset';

let cachedRoot: string | undefined;

/** The package root: the nearest directory above this module that holds meshtv's package.json. */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    try {
      if ((JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: unknown }).name === 'meshtv') {
        cachedRoot = dir;
        return dir;
      }
    } catch {
      // no package.json here, or not ours: keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('meshtv package root not found above the tracker module');
    dir = parent;
  }
}

/** Serves the WebTV pages and assets; returns false (having written nothing) for any other path. */
export function serveWeb(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const pathname = pathOf(req.url ?? '/');
  if (pathname === undefined) return false;
  const file = fileFor(pathname);
  if (file === undefined) return false;
  if (file === 'missing') {
    send(req, res, 404, 'text/plain; charset=utf-8', 'no such asset\n');
    return true;
  }
  const head = file.watching === undefined ? undefined : oembedDiscoveryLink(req, file.watching);
  sendFile(req, res, { ...file, head });
  return true;
}

function pathOf(target: string): string | undefined {
  // Concatenated rather than resolved, so "//x" is never read as a host.
  try {
    return new URL(`http://request${target.startsWith('/') ? '' : '/'}${target}`).pathname;
  } catch {
    return undefined;
  }
}

interface WebFile {
  path: string;
  type: string;
  kind: PageKind;
  /** The channel a watch page shows (its oEmbed discovery link names it). */
  watching?: string;
}

function fileFor(pathname: string): WebFile | 'missing' | undefined {
  const root = packageRoot();
  if (pathname === '/' || pathname === '/index.html') return { path: path.join(root, 'web/index.html'), type: TYPES.html, kind: 'page' };
  const channel = /^\/(watch|embed)\/([^/]*)\/?$/.exec(pathname);
  if (channel !== null) {
    const [, which, id = ''] = channel;
    if (!CHANNEL_ID.test(id)) return undefined;
    if (which === 'embed') return { path: path.join(root, 'web/embed.html'), type: TYPES.html, kind: 'embed' };
    return { path: path.join(root, 'web/watch.html'), type: TYPES.html, kind: 'page', watching: id };
  }
  if (!pathname.startsWith('/assets/')) return undefined;
  const name = pathname.slice('/assets/'.length);
  if (name === 'app.js') return { path: path.join(root, 'dist/web/app.js'), type: TYPES.js, kind: 'asset' };
  if (name === 'app.js.map') return { path: path.join(root, 'dist/web/app.js.map'), type: TYPES.map, kind: 'asset' };
  if (CSS_NAME.test(name)) return { path: path.join(root, 'web', name), type: TYPES.css, kind: 'asset' };
  return 'missing';
}

/**
 * The oEmbed discovery link (oembed.com §4) for a watch page, as an absolute URL on the host the
 * request named; none when the Host header is not a plain host. The scheme is the one the browser
 * used: https through a TLS-terminating proxy that says so.
 */
export function oembedDiscoveryLink(req: IncomingMessage, channelId: string): string | undefined {
  const host = ownHost(req.headers.host);
  if (host === undefined) return undefined;
  const forwarded = req.headers['x-forwarded-proto'];
  const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const scheme = forwarded === 'https' || forwarded === 'http' ? forwarded : encrypted ? 'https' : 'http';
  const page = `${scheme}://${host}/watch/${channelId}`;
  const href = `${scheme}://${host}/oembed?url=${encodeURIComponent(page)}&format=json`;
  // Both parts passed the host pattern or are fixed text: nothing here needs HTML escaping but &.
  return `<link rel="alternate" type="application/json+oembed" href="${href.replace(/&/g, '&amp;')}" title="meshtv">`;
}

/**
 * For a request nothing else answered: a person who followed a bad link gets the not-found page
 * (404), not the API's JSON. Returns false (having written nothing) for the API and for programs
 * (anything that does not ask for HTML first), which keep their JSON answer.
 */
export function serveNotFoundPage(req: IncomingMessage, res: ServerResponse): boolean {
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !wantsPage(req)) return false;
  const pathname = pathOf(req.url ?? '/');
  if (pathname === undefined || pathname.startsWith('/api/')) return false;
  sendFile(req, res, { path: path.join(packageRoot(), 'web/not-found.html'), type: TYPES.html, kind: 'page' }, 404);
  return true;
}

/** Whether the request comes from a browser navigating (it asks for HTML first). */
function wantsPage(req: IncomingMessage): boolean {
  return /^\s*text\/html\b/.test(req.headers.accept ?? '');
}

/** Sends a file; `head` (a watch page's discovery link) goes in just before </head>. */
function sendFile(req: IncomingMessage, res: ServerResponse, file: WebFile & { head?: string }, status = 200): void {
  fs.stat(file.path, (err, stat) => {
    if (err !== null || !stat.isFile()) {
      const hint = file.path.endsWith('.js') || file.path.endsWith('.map') ? ' (run `npm run build`)' : '';
      send(req, res, 404, 'text/plain; charset=utf-8', `not found${hint}\n`);
      return;
    }
    // The inserted text depends on the request's Host: it is part of what the tag names.
    const extra = file.head === undefined ? '' : `-${createHash('sha256').update(file.head).digest('hex').slice(0, 12)}`;
    const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}${extra}"`;
    const headers: Record<string, string | number> = {
      'content-type': file.type,
      etag,
      // Revalidate every time: names carry no content hash, and a 304 costs one round trip.
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...(file.kind === 'page' ? PAGE_HEADERS : file.kind === 'embed' ? EMBED_HEADERS : {}),
    };
    if (status === 200 && req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    if (file.head !== undefined) {
      sendWithHead(req, res, file.path, file.head, status, headers);
      return;
    }
    res.writeHead(status, { ...headers, 'content-length': stat.size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = fs.createReadStream(file.path);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
}

function sendWithHead(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  head: string,
  status: number,
  headers: Record<string, string | number>,
): void {
  fs.readFile(file, 'utf8', (err, text) => {
    if (err !== null) {
      res.destroy();
      return;
    }
    const body = Buffer.from(text.replace('</head>', `  ${head}\n</head>`));
    res.writeHead(status, { ...headers, 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
