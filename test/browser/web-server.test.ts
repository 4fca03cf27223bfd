// serveWeb (src/tracker/web.ts) over real HTTP: pages and assets with their content types and
// headers, conditional requests, 404 for unknown assets, nothing outside web/ and dist/web/
// reachable, and `false` (nothing written) for every path it does not own.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { packageRoot, serveNotFoundPage, serveWeb } from '../../src/tracker/web.js';
import { buildWebApp, ROOT } from '../helpers/browser.js';

let base: string;
let server: http.Server;
const ID = 'ab'.repeat(32);

before(async () => {
  if (!fs.existsSync(path.join(ROOT, 'dist/web/app.js'))) buildWebApp();
  server = http.createServer((req, res) => {
    // As the tracker does: the pages first, its own routes (none here), then the not-found page.
    if (!serveWeb(req, res) && !serveNotFoundPage(req, res)) res.writeHead(418, { 'content-type': 'text/plain' }).end('not mine');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A raw request, so paths reach the server exactly as written (fetch would normalize "..", "%2e"). */
function raw(
  target: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(base);
    const socket = net.connect(Number(port), '127.0.0.1');
    let data = '';
    socket.on('data', (d) => {
      data += d.toString('latin1');
    });
    socket.on('end', () => {
      const [head = '', ...rest] = data.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const h: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        h[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers: h, body: rest.join('\r\n\r\n') });
    });
    socket.on('error', reject);
    const { host = 'x', ...others } = headers;
    const extra = Object.entries(others)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`);
  });
}

test('the package root is found from the module', () => {
  assert.equal(packageRoot(), ROOT);
});

test('pages and assets are served with their types and safety headers', async () => {
  const index = await raw('/');
  assert.equal(index.status, 200);
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(index.body, /data-page="index"/);
  assert.match(index.headers['content-security-policy'] ?? '', /script-src 'self'/);
  assert.equal(index.headers['x-content-type-options'], 'nosniff');

  const watch = await raw(`/watch/${ID}?src=/feed`);
  assert.equal(watch.status, 200);
  assert.match(watch.body, /data-page="watch"/);

  const js = await raw('/assets/app.js');
  assert.equal(js.status, 200);
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(Number(js.headers['content-length']), fs.statSync(path.join(ROOT, 'dist/web/app.js')).size);
  assert.equal((await raw('/assets/app.js.map')).headers['content-type'], 'application/json; charset=utf-8');
  const css = await raw('/assets/style.css');
  assert.equal(css.status, 200);
  assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');

  const head = await raw('/assets/style.css', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  const again = await raw('/assets/style.css', 'GET', { 'if-none-match': css.headers.etag ?? '' });
  assert.equal(again.status, 304);
});

test('unknown assets are 404 and nothing outside the asset folders can be reached', async () => {
  for (const target of [
    '/assets/nope.css',
    '/assets/app.mjs',
    '/assets/../package.json',
    '/assets/..%2fpackage.json',
    '/assets/%2e%2e/%2e%2e/etc/passwd',
    '/assets/..\\..\\package.json',
    '/assets/style.css%00.js',
    '/assets/.css',
    '/assets/',
    '/assets/sub/style.css',
  ]) {
    const r = await raw(target);
    assert.ok(r.status === 404 || r.status === 418, `${target} answered ${r.status}`);
    assert.doesNotMatch(r.body, /"name": "meshtv"|root:/, `${target} leaked a file`);
  }
});

test('paths it does not own are left to the caller', async () => {
  for (const target of ['/api/channels', '/watch/xyz', `/watch/${ID.toUpperCase()}`, `/watch/${ID}/extra`, '/favicon.ico', '/index.htm']) {
    assert.equal((await raw(target)).status, 418, target);
  }
  assert.equal((await raw('/', 'POST')).status, 418);
});

test('a browser that follows a bad link gets the not-found page; programs and the API keep their JSON answers', async () => {
  const browser = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
  for (const target of ['/watch/abc', `/watch/${ID.toUpperCase()}`, '/index.htm', '/no/such/page']) {
    const r = await raw(target, 'GET', browser);
    assert.equal(r.status, 404, target);
    assert.match(r.headers['content-type'] ?? '', /^text\/html/, target);
    assert.match(r.body, /<h1>No such page<\/h1>/, target);
    assert.ok(r.headers['content-security-policy'] !== undefined, `${target} is a page without its policy`);
  }
  assert.equal((await raw('/api/nope', 'GET', browser)).status, 418);
  assert.equal((await raw('/watch/abc', 'GET', { accept: 'application/json' })).status, 418);
});

test('only the embed page may be framed, by any site', async () => {
  const browser = { accept: 'text/html' };
  for (const target of ['/', `/watch/${ID}`, '/no/such/page']) {
    const r = await raw(target, 'GET', browser);
    assert.match(r.headers['content-security-policy'] ?? '', /frame-ancestors 'none'/, target);
    assert.equal(r.headers['x-frame-options'], 'DENY', target);
  }
  const embed = await raw(`/embed/${ID}?share=0`, 'GET', browser);
  assert.equal(embed.status, 200);
  assert.match(embed.body, /data-page="embed"/);
  assert.match(embed.headers['content-security-policy'] ?? '', /(^|; )frame-ancestors \*($|;)/);
  assert.match(embed.headers['content-security-policy'] ?? '', /script-src 'self'/);
  assert.equal(embed.headers['x-frame-options'], undefined);
  const css = await raw('/assets/embed.css');
  assert.equal(css.status, 200);
  for (const target of ['/embed/xyz', `/embed/${ID}/x`, `/embed/${ID.toUpperCase()}`])
    assert.equal((await raw(target)).status, 418, target);
});

test('a watch page names its oEmbed answer for the host it was asked for', async () => {
  const page = await raw(`/watch/${ID}`, 'GET', { host: 'tv.example:8900' });
  const link = `<link rel="alternate" type="application/json+oembed" href="http://tv.example:8900/oembed?url=${encodeURIComponent(`http://tv.example:8900/watch/${ID}`)}&amp;format=json" title="meshtv">`;
  assert.ok(page.body.includes(link), page.body.slice(0, 600));
  assert.ok(page.body.indexOf(link) < page.body.indexOf('</head>'));
  assert.equal(Number(page.headers['content-length']), Buffer.byteLength(page.body, 'latin1'));
  const proxied = await raw(`/watch/${ID}`, 'GET', { host: 'tv.example', 'x-forwarded-proto': 'https' });
  assert.match(proxied.body, /href="https:\/\/tv\.example\/oembed\?url=https%3A%2F%2Ftv\.example%2Fwatch%2F/);
  // A Host header that is no plain host name gets no link, rather than one built from it.
  const hostile = await raw(`/watch/${ID}`, 'GET', { host: 'x"><script>alert(1)</script>' });
  assert.equal(hostile.status, 200);
  assert.doesNotMatch(hostile.body, /oembed|<script>alert/);
  // The link is part of what the ETag names: another host's copy is not "not modified".
  const again = await raw(`/watch/${ID}`, 'GET', { host: 'other.example', 'if-none-match': page.headers.etag ?? '' });
  assert.equal(again.status, 200);
});
