// Serves the WebTV pages from the tracker: `/` (channel grid), `/watch/<channel id>` (player),
// `/assets/app.js` (+ map, built by scripts/build.mjs into dist/web/) and `/assets/<name>.css`
// (web/); and, for addresses nothing answers, a not-found page to browsers. Only names from a fixed pattern are ever mapped to files, so no request can reach
// anything else on disk. Files are read per request: a rebuilt bundle needs no restart.

import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self' http: https: ws: wss:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

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
  sendFile(req, res, file.path, file.type, file.page);
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

function fileFor(pathname: string): { path: string; type: string; page: boolean } | 'missing' | undefined {
  const root = packageRoot();
  if (pathname === '/' || pathname === '/index.html') return { path: path.join(root, 'web/index.html'), type: TYPES.html, page: true };
  if (pathname.startsWith('/watch/')) {
    const id = pathname.slice('/watch/'.length).replace(/\/$/, '');
    return CHANNEL_ID.test(id) ? { path: path.join(root, 'web/watch.html'), type: TYPES.html, page: true } : undefined;
  }
  if (!pathname.startsWith('/assets/')) return undefined;
  const name = pathname.slice('/assets/'.length);
  if (name === 'app.js') return { path: path.join(root, 'dist/web/app.js'), type: TYPES.js, page: false };
  if (name === 'app.js.map') return { path: path.join(root, 'dist/web/app.js.map'), type: TYPES.map, page: false };
  if (CSS_NAME.test(name)) return { path: path.join(root, 'web', name), type: TYPES.css, page: false };
  return 'missing';
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
  sendFile(req, res, path.join(packageRoot(), 'web/not-found.html'), TYPES.html, true, 404);
  return true;
}

/** Whether the request comes from a browser navigating (it asks for HTML first). */
function wantsPage(req: IncomingMessage): boolean {
  return /^\s*text\/html\b/.test(req.headers.accept ?? '');
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: string, type: string, page: boolean, status = 200): void {
  fs.stat(file, (err, stat) => {
    if (err !== null || !stat.isFile()) {
      const hint = file.endsWith('.js') || file.endsWith('.map') ? ' (run `npm run build`)' : '';
      send(req, res, 404, 'text/plain; charset=utf-8', `not found${hint}\n`);
      return;
    }
    const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers: Record<string, string | number> = {
      'content-type': type,
      etag,
      // Revalidate every time: names carry no content hash, and a 304 costs one round trip.
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...(page ? { 'content-security-policy': PAGE_CSP } : {}),
    };
    if (status === 200 && req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(status, { ...headers, 'content-length': stat.size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = fs.createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
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
