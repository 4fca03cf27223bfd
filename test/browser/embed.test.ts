// The embed page and the player's timeshift in real Chromium, on one live test feed: a page on
// another origin (a second HTTP server, another port) frames /embed/<id>, which plays there,
// while its frame of /watch/<id> is refused. In the framed player: pause 5 s and resume plays on
// continuously about 5 s behind live ("-0:05"), 10 s back works, and "LIVE" returns to the edge.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Browser, Frame } from 'playwright-core';
import type { PageStats } from '../../src/browser/ui/playback-notice.js';
import { serveWeb } from '../../src/tracker/web.js';
import { browserSkipReason, buildWebApp, collectPageErrors, launchBrowser, saveScreenshot } from '../helpers/browser.js';
import { LiveSource } from './live-source.js';

const ID = 'a1'.repeat(32);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface MeshtvWindow {
  meshtv?: { stats(): PageStats };
}

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; base: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function close(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function waitInFrame<T>(frame: Frame, fn: () => T, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await frame.evaluate(fn);
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const playerStats = async (frame: Frame) =>
  (await frame.evaluate(() => (window as unknown as MeshtvWindow).meshtv?.stats().player)) as PageStats['player'];
const badge = (frame: Frame) => frame.evaluate(() => document.querySelector('.mtv-live')?.textContent);

test('the embed page plays framed by another site, with pause, rewind and live', {
  skip: browserSkipReason(),
  timeout: 90_000,
}, async (t) => {
  buildWebApp();
  const source = new LiveSource();
  source.start();
  const tracker = await listen((req, res) => {
    if (source.handleFeed(req, res) || serveWeb(req, res)) return;
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname === `/api/channels/${ID}`)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: ID, name: 'Test Pattern', viewers: 1 }));
    else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  const frameOf = (path: string) =>
    `<!doctype html><html><body><p>A blog</p><iframe src="${tracker.base}${path}" width="640" height="360" allow="autoplay; fullscreen"></iframe></body></html>`;
  const site = await listen((req, res) => {
    const page =
      req.url === '/embed' ? frameOf(`/embed/${ID}?src=/feed`) : req.url === '/watch' ? frameOf(`/watch/${ID}?src=/feed`) : undefined;
    if (page === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  });
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close();
    await close(site.server);
    await close(tracker.server);
    source.stop();
  });
  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 800, height: 500 } });
  const errors = collectPageErrors(page);

  await t.test("the watch page refuses another site's frame", async () => {
    await page.goto(`${site.base}/watch`);
    await sleep(1_000);
    const shown = await Promise.all(
      page.frames().map((f) => f.evaluate(() => document.body?.dataset.page ?? null).catch(() => 'inaccessible' as const)),
    );
    assert.ok(!shown.includes('watch'), `the watch page rendered in a frame: ${JSON.stringify(shown)}`);
  });

  await page.goto(`${site.base}/embed`);
  const frame = await (async () => {
    for (let i = 0; i < 50; i++) {
      const f = page.frames().find((x) => x.url().startsWith(`${tracker.base}/embed/`));
      if (f !== undefined) return f;
      await sleep(100);
    }
    throw new Error('no embed frame');
  })();

  await t.test('the embed page plays inside the frame, names the channel and says it shares', async () => {
    await waitInFrame(
      frame,
      () => (window as unknown as MeshtvWindow).meshtv?.stats().player.startupMs !== undefined,
      15_000,
      'the first frame',
    );
    const title = await waitInFrame(
      frame,
      () => {
        const a = document.getElementById('channel-name') as HTMLAnchorElement;
        return a.textContent === 'Test Pattern' && { text: a.textContent, href: a.href, target: a.target };
      },
      5_000,
      'the channel name',
    );
    assert.deepEqual(title, { text: 'Test Pattern', href: `${tracker.base}/watch/${ID}`, target: '_blank' });
    assert.equal(await frame.evaluate(() => (document.getElementById('embed-sharing') as HTMLElement).hidden), false);
    assert.equal(await badge(frame), 'LIVE');
  });

  await t.test('pause 5 s, resume: continuous, about 5 s behind live; -10 s; LIVE', async () => {
    // Enough media behind the playhead for the 10 s step back after the pause.
    await waitInFrame(
      frame,
      () => ((window as unknown as MeshtvWindow).meshtv?.stats().player.bufferedBehindS ?? 0) >= 8.5,
      20_000,
      '8.5 s held',
    );
    await frame.click('.mtv-playpause');
    await sleep(5_000);
    await frame.click('.mtv-playpause');
    const resumed = await playerStats(frame);
    await sleep(2_500);
    const s1 = await playerStats(frame);
    const label1 = await badge(frame);
    await saveScreenshot(page, 'embed-timeshift');
    t.diagnostic(
      `after pause 5 s + 2.5 s: badge ${label1}, timeshift ${s1.timeshiftS.toFixed(2)} s, behind newest ${s1.behindNewestS.toFixed(2)} s, ` +
        `+${(s1.currentTime - resumed.currentTime).toFixed(2)} s played in 2.5 s, held behind ${s1.bufferedBehindS.toFixed(1)} s`,
    );
    assert.equal(s1.atLive, false);
    assert.ok(s1.timeshiftS >= 4 && s1.timeshiftS <= 7, `timeshift ${s1.timeshiftS}`);
    assert.match(label1 ?? '', /^-0:0[4-7]$/);
    assert.ok(s1.currentTime - resumed.currentTime >= 2, `played ${s1.currentTime - resumed.currentTime} s in 2.5 s\n${errors.join('\n')}`);
    assert.equal(s1.liveSeeks, resumed.liveSeeks, 'the catch-up pulled the user back to live');
    assert.equal(s1.gapJumps, resumed.gapJumps, 'playback jumped');
    assert.ok(s1.longestStallMs < 500, `a stall of ${s1.longestStallMs} ms`);

    await frame.click('.mtv-back');
    await sleep(1_500);
    const s2 = await playerStats(frame);
    const label2 = await badge(frame);
    t.diagnostic(
      `after -10 s: badge ${label2}, timeshift ${s2.timeshiftS.toFixed(2)} s, currentTime ${(s2.currentTime - s1.currentTime).toFixed(2)} s`,
    );
    assert.ok(s2.timeshiftS >= s1.timeshiftS + 8 && s2.timeshiftS <= s1.timeshiftS + 12, `timeshift ${s2.timeshiftS} after -10 s`);
    assert.ok(s2.playing, 'not playing after the step back');

    await frame.click('.mtv-live');
    await sleep(1_500);
    const s3 = await playerStats(frame);
    t.diagnostic(
      `after LIVE: badge ${await badge(frame)}, behind newest ${s3.behindNewestS.toFixed(2)} s, lag ${Math.round(s3.lagMs ?? -1)} ms`,
    );
    assert.equal(await badge(frame), 'LIVE');
    assert.equal(s3.atLive, true);
    assert.ok(s3.behindNewestS <= 2, `${s3.behindNewestS} s behind the newest data`);
    assert.ok(s3.playing, 'not playing at live');
    assert.equal(s3.failed, false, `${s3.error}\n${errors.join('\n')}`);
  });
});
