// The local servers of real viewers and broadcasters against the web pages a user visits: a
// page of another origin, in Chromium, cannot read a viewer's /stats.json (while the
// broadcaster's chunk origin stays open to it); a request naming a foreign Host is refused; an
// input URL's secrets never reach /stats.json.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { BroadcastStats } from '../../src/native/broadcaster.js';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';
import { getJson, makeTestClip, meshtv, startChannel, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

function statusWithHost(url: string, host: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, setHost: false, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    req.on('error', reject);
    req.end();
  });
}

test('a page of another site cannot read what a viewer serves; the chunk origin stays open to it', {
  timeout: 90_000,
  skip: browserSkipReason(),
}, async (t) => {
  const { trackerUrl, uri, source } = await startChannel('local servers', ['--http-port', '0']);
  const sourceBase = (await source.waitFor(/stats: (\S+)\/stats\.json/, 'stderr'))[1] as string;
  const viewer = meshtv(['watch', uri, '--no-dht', '--http-port', '0']);
  const viewerBase = (await viewer.waitFor(/^(http:\S+)\/stream\.ts$/m, 'stdout', 30_000))[1] as string;
  const newest = (await getJson<BroadcastStats>(`${sourceBase}/stats.json`)).newestSeq;

  const browser: Browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage();
  // Any page of another origin: the tracker's directory will do.
  await page.goto(trackerUrl);
  const tryFetch = (url: string) =>
    page.evaluate(async (u) => {
      try {
        const res = await fetch(u);
        return `read ${res.status}: ${(await res.text()).slice(0, 40)}`;
      } catch (err) {
        return `refused: ${(err as Error).message}`;
      }
    }, url);
  assert.match(await tryFetch(`${viewerBase}/stats.json`), /^refused/, "another site read the viewer's stats");
  assert.match(await tryFetch(`${viewerBase}/live.m3u8`), /^refused/);
  assert.match(await tryFetch(`${sourceBase}/stats.json`), /^refused/);
  assert.match(await tryFetch(`${sourceBase}/chunk/${newest}`), /^read 200/, 'browsers must still reach the origin');

  // DNS rebinding: a name that resolves to 127.0.0.1 is still not one of the server's names.
  for (const base of [viewerBase, sourceBase]) {
    assert.equal(await statusWithHost(`${base}/stats.json`, 'rebind.attacker.test:80'), 421);
    assert.equal(await statusWithHost(`${base}/stats.json`, new URL(base).host), 200);
  }
  assert.equal(await statusWithHost(`${viewerBase}/stream.ts`, 'rebind.attacker.test'), 421);
});

test("an input URL's secrets never reach /stats.json or the log", { timeout: 60_000 }, async () => {
  // A 12 s clip served over HTTP only to whoever knows the token, as a CDN's signed URL.
  const clip = path.join(tempDir('secret'), 'clip.ts');
  makeTestClip(clip, 12, false);
  const server = http.createServer((req, res) => {
    if (!req.url?.includes('token=s3cret-token')) return void res.writeHead(403).end();
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    fs.createReadStream(clip).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const { source } = await startChannel('secret input', [
      '--http-port',
      '0',
      '--input',
      `http://user:pa55word@127.0.0.1:${port}/live.ts?token=s3cret-token`,
    ]);
    const statsUrl = `${(await source.waitFor(/stats: (\S+)\/stats\.json/, 'stderr', 20_000))[1]}/stats.json`;
    await waitUntil('the input plays', async () => (await getJson<BroadcastStats>(statsUrl)).chunksProduced > 10, 20_000);
    const stats = await (await fetch(statsUrl)).text();
    assert.match(stats, new RegExp(`127\\.0\\.0\\.1:${port}/live\\.ts`));
    for (const secret of ['s3cret-token', 'pa55word', 'user:']) {
      assert.ok(!stats.includes(secret), `/stats.json shows ${secret}`);
      assert.ok(!source.stderr.includes(secret), `the log shows ${secret}`);
    }
  } finally {
    server.close();
  }
});
