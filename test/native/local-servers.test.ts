// The local HTTP servers of viewers and broadcasters against web pages the user visits: no CORS
// on what names the user's channel and neighbours, a Host check against DNS rebinding, and only
// the broadcaster's origin (/chunk/<n>, /edge.json) open to every page; bound to every interface,
// the rest answers this machine only. Also what reaches a terminal, and
// which origins a page may fetch chunks from.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { forTerminal } from '../../src/common/log.js';
import { loadOrCreateKey } from '../../src/crypto/keys.js';
import { originFor } from '../../src/native/broadcast-policy.js';
import { allowedHosts, CONNECTIONS_PER_ADDRESS, type HttpOutput, hostOf, startHttpOutput } from '../../src/native/http-output.js';
import { channelNameProblem, usableOrigin } from '../../src/protocol/channel-record.js';
import { originChunk, testOrigin } from '../helpers/origin.js';
import { tempDir } from '../helpers/processes.js';

/** This machine's first IPv4 address besides loopback: a client that is not "this machine" to a server. */
function lanAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
}

/** A GET with a Host header of our choosing (fetch does not let one set it). */
function get(
  port: number,
  path: string,
  host: string | undefined,
  address = '127.0.0.1',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: address, port, path, setHost: false, headers: host === undefined ? {} : { host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a local server and the pages of other sites', () => {
  let out: HttpOutput;
  before(async () => {
    out = await startHttpOutput({
      host: '127.0.0.1',
      port: 0,
      stats: () => ({ channelId: 'secret-channel', neighbours: ['198.51.100.7'] }),
      metrics: async () => 'x 1\n',
      origin: testOrigin([originChunk(5, true)]).origin,
    });
  });
  after(() => out.close());

  test('/stats.json answers its own names without CORS, and no foreign Host at all', async () => {
    for (const host of [`127.0.0.1:${out.port}`, `localhost:${out.port}`, `[::1]:${out.port}`]) {
      const res = await get(out.port, '/stats.json', host);
      assert.equal(res.status, 200, `Host ${host}`);
      assert.equal(res.headers['access-control-allow-origin'], undefined, 'any site could read it');
    }
    for (const host of [`evil.example:${out.port}`, 'rebind.attacker.test', '127.0.0.1.nip.io', 'a b', '']) {
      for (const path of ['/stats.json', '/metrics', '/stream.ts', '/live.m3u8']) {
        const res = await get(out.port, path, host);
        assert.equal(res.status, 421, `${path} with Host ${JSON.stringify(host)}`);
        assert.ok(!res.body.includes('secret-channel'));
      }
    }
    const metrics = await get(out.port, '/metrics', `127.0.0.1:${out.port}`);
    assert.match(metrics.body, /^meshtv_local_http_refused_host_total 20$/m, 'refusals are counted for the operator');
  });

  test("the broadcaster's /chunk/<n> origin serves every page, whatever its Host", async () => {
    const res = await get(out.port, '/chunk/5', 'tv.example.org');
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal((await get(out.port, '/chunk/60', 'tv.example.org')).status, 404);
  });
});

test("a server on every interface also answers this machine's addresses and names", () => {
  const hosts = allowedHosts('0.0.0.0', ['tv-box.lan']);
  assert.ok(hosts.has('127.0.0.1') && hosts.has('localhost') && hosts.has('tv-box.lan'));
  assert.ok(!hosts.has('evil.example'));
  assert.equal(hostOf('[::1]:8902'), '::1');
  assert.equal(hostOf('LocalHost:8902'), 'localhost');
  assert.equal(hostOf('a b'), undefined);
});

test('a page fetches chunks only from a clean origin, and from a private address only when it is on one itself', () => {
  const publicPage = 'https://tracker.example/watch/abc';
  assert.equal(usableOrigin('http://203.0.114.9:8080', publicPage), 'http://203.0.114.9:8080');
  assert.equal(usableOrigin('https://origin.example/tv/', publicPage), 'https://origin.example/tv');
  for (const bad of [
    'http://127.0.0.1:8080',
    'http://localhost:8080',
    'http://localhost.:631/x',
    'http://0x7f.1:80',
    'http://2130706433:80',
    'http://192.168.1.1',
    'http://10.0.0.1:80',
    'http://[::1]:80',
    'http://169.254.169.254/latest',
    'http://user:pw@origin.example',
    'https://origin.example/?token=x',
    'https://origin.example/#x',
    'ftp://origin.example',
    'javascript:alert(1)',
    'not a url',
  ])
    assert.equal(usableOrigin(bad, publicPage), undefined, bad);
  assert.equal(
    usableOrigin('http://127.0.0.1:8080', 'http://127.0.0.1:8000/watch/abc'),
    'http://127.0.0.1:8080',
    'a page on a lab machine',
  );
  assert.equal(usableOrigin('http://192.168.1.5:8080', 'http://192.168.1.2:8000/'), 'http://192.168.1.5:8080', 'a page on a LAN');
  assert.equal(usableOrigin(undefined, publicPage), undefined);
});

test('channel names: control and invisible characters are refused; what reaches a terminal is escaped', () => {
  assert.equal(channelNameProblem('News 24'), undefined);
  assert.equal(channelNameProblem('Familie 👨‍👩‍👧'), undefined, 'emoji sequences need the zero-width joiner');
  assert.match(channelNameProblem('News\u001b[2J') ?? '', /U\+001B at position 5/);
  assert.match(channelNameProblem('abc\u202edef') ?? '', /U\+202E/);
  assert.match(channelNameProblem('a\u200bb') ?? '', /U\+200B/);
  assert.equal(forTerminal('evil\u001b]0;pwned\u0007 \u202eabc', true), 'evil\\u{1b}]0;pwned\\u{7} \\u{202e}abc');
  assert.equal(forTerminal('two\nlines'), 'two\nlines');
  assert.equal(forTerminal('two\nlines', true), 'two\\u{a}lines');
});

test('a broadcaster publishes an origin browsers elsewhere can reach, never its loopback to a remote tracker', () => {
  const at = (o: Partial<Parameters<typeof originFor>[0]>) =>
    originFor({
      bound: '127.0.0.1',
      port: 8080,
      announceAddress: undefined,
      seenAddress: undefined,
      trackers: ['http://127.0.0.1:8000'],
      ...o,
    });
  assert.deepEqual(at({}), { url: 'http://127.0.0.1:8080' }, 'tracker and browsers on this machine');
  assert.match(
    String((at({ trackers: ['https://tracker.example'] }) as { refusal?: string }).refusal),
    /not published.*--http-host 0\.0\.0\.0/,
  );
  assert.deepEqual(at({ bound: '0.0.0.0', seenAddress: '203.0.114.9', trackers: ['https://tracker.example'] }), {
    url: 'http://203.0.114.9:8080',
  });
  assert.deepEqual(at({ bound: '0.0.0.0', announceAddress: 'tv.example.org', trackers: ['https://tracker.example'] }), {
    url: 'http://tv.example.org:8080',
  });
  assert.deepEqual(at({ bound: '::', seenAddress: '2001:db8::7' }), { url: 'http://[2001:db8::7]:8080' });
  assert.ok('refusal' in at({ bound: '0.0.0.0', trackers: ['https://tracker.example'] }), 'no tracker has seen it yet');
});

test('a channel key file that others can read is reported with the fix', () => {
  const file = path.join(tempDir('exposed-key'), 'k.key');
  assert.equal(loadOrCreateKey(file).created, true);
  assert.equal(loadOrCreateKey(file).exposed, undefined, 'created 0600');
  fs.chmodSync(file, 0o644);
  assert.match(loadOrCreateKey(file).exposed ?? '', /other users \(mode 644\).*chmod 600/);
});

test("a broadcaster's server on every interface serves the origin to all, the stats only to this machine", async (t) => {
  const lan = lanAddress();
  if (lan === undefined) {
    t.skip('this machine has no address besides loopback');
    return;
  }
  const server = await startHttpOutput({
    host: '0.0.0.0',
    port: 0,
    stats: () => ({ neighbours: ['198.51.100.7'] }),
    origin: testOrigin([originChunk(5, true)]).origin,
    privateToLoopback: true,
  });
  try {
    const fromLan = await get(server.port, '/stats.json', `${lan}:${server.port}`, lan);
    assert.equal(fromLan.status, 403);
    assert.ok(!fromLan.body.includes('198.51.100.7'));
    assert.equal((await get(server.port, '/metrics', `${lan}:${server.port}`, lan)).status, 403);
    assert.equal((await get(server.port, '/chunk/5', 'tv.example.org', lan)).status, 200);
    assert.equal((await get(server.port, '/stats.json', `127.0.0.1:${server.port}`)).status, 200);
  } finally {
    await server.close();
  }
});

test('one address cannot hold more than its share of sockets on a server bound to every interface', async (t) => {
  const lan = lanAddress();
  if (lan === undefined) {
    t.skip('this machine has no address besides loopback');
    return;
  }
  const server = await startHttpOutput({ host: '0.0.0.0', port: 0, stats: () => ({}), privateToLoopback: true });
  const sockets: net.Socket[] = [];
  try {
    const closed: boolean[] = [];
    for (let i = 0; i <= CONNECTIONS_PER_ADDRESS; i++) {
      const socket = net.connect({ host: lan, port: server.port });
      socket.on('error', () => {});
      const index = i;
      closed[index] = false;
      socket.on('close', () => {
        closed[index] = true;
      });
      sockets.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(closed.filter(Boolean).length, 1, 'only the socket past the cap was closed');
    assert.equal(closed[CONNECTIONS_PER_ADDRESS], true);
    assert.equal((await get(server.port, '/stats.json', `127.0.0.1:${server.port}`)).status, 200, 'this machine is not counted');
  } finally {
    for (const s of sockets) s.destroy();
    await server.close();
  }
});
