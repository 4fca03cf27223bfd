// The WebTV pages in real Chromium, served by serveWeb with the production bundle
// (dist/web/app.js): the channel grid from a stub directory, and the player page playing a live
// test feed (`?src=`), with its stats panel, chart and sharing settings; both at 360 px and on
// a desktop-sized window. Screenshots go to test-output/.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { PageStats } from '../../src/browser/ui/playback-notice.js';
import { ffmpegPath } from '../../src/media/ffmpeg.js';
import { serveWeb } from '../../src/tracker/web.js';
import { browserSkipReason, buildWebApp, collectPageErrors, launchBrowser, saveScreenshot, waitInPage } from '../helpers/browser.js';
import { LiveSource } from './live-source.js';

const LIVE_ID = 'a1'.repeat(32);
const OTHER_ID = 'b2'.repeat(32);
const TWIN_ID = 'c3'.repeat(32);
const HOUR = 3600_000;
const NOW = Date.now();
const CHANNELS = [
  {
    id: LIVE_ID,
    name: 'Test Pattern',
    bitrateBps: 900_000,
    viewers: 3,
    sameNameAs: [],
    category: 'Test',
    description: 'Bars and tone',
    now: { title: 'Test card', start: NOW - HOUR, stop: NOW + HOUR },
  },
  {
    id: OTHER_ID,
    name: 'News 24',
    bitrateBps: 2_400_000,
    viewers: 12,
    sameNameAs: [TWIN_ID],
    category: 'News',
    description: 'Headlines around the clock',
    now: { title: 'Evening bulletin', start: NOW - HOUR, stop: NOW + HOUR },
    next: { title: 'Weather', start: NOW + HOUR, stop: NOW + 2 * HOUR },
  },
  { id: TWIN_ID, name: 'News 24', bitrateBps: 1_200_000, viewers: 0, sameNameAs: [OTHER_ID], category: 'news' },
];

interface MeshtvWindow {
  meshtv?: { stats(): PageStats };
}

function thumbnailJpeg(): Buffer {
  const r = spawnSync(
    ffmpegPath(),
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x180', '-frames:v', '1', '-f', 'mjpeg', 'pipe:1'],
    {
      maxBuffer: 1 << 22,
    },
  );
  if (r.status !== 0) throw new Error(`ffmpeg could not make a thumbnail: ${r.stderr}`);
  return r.stdout;
}

const noHorizontalScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

test('WebTV pages in Chromium', { skip: browserSkipReason(), timeout: 60_000 }, async (t) => {
  buildWebApp();
  const jpeg = thumbnailJpeg();
  const source = new LiveSource();
  source.start();
  const server = http.createServer((req, res) => {
    if (source.handleFeed(req, res) || serveWeb(req, res)) return;
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname === '/api/channels') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(CHANNELS));
    else if (pathname === `/api/channels/${OTHER_ID}/thumbnail.jpg`) res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg);
    else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    source.stop();
  });
  browser = await launchBrowser();

  await t.test('the channel grid lists the directory, with thumbnails or placeholders', async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 740 } });
    const errors = collectPageErrors(page);
    await page.goto(`${base}/`);
    await page.waitForSelector('.card:nth-child(3)', { timeout: 5_000 });
    const cards = await page.$$eval('.card', (items) =>
      items.map((li) => ({
        title: li.querySelector('.card-title')?.textContent,
        href: li.querySelector('a')?.getAttribute('href'),
        meta: li.querySelector('.card-meta')?.textContent,
        warning: (li.querySelector('.card-warning') as HTMLElement | null)?.hidden === false,
        thumbnailShown: (li.querySelector('.thumb-img') as HTMLImageElement | null)?.hidden === false,
        placeholderShown: (li.querySelector('.thumb-placeholder') as HTMLElement | null)?.hidden === false,
      })),
    );
    // Sorted by audience; names are text; twins are flagged.
    assert.deepEqual(
      cards.map((c) => c.title),
      ['News 24', 'Test Pattern', 'News 24'],
    );
    assert.equal(cards[0]?.href, `/watch/${OTHER_ID}`);
    assert.equal(cards[0]?.meta, '12 viewers · 2.4 Mbit/s');
    assert.deepEqual(
      cards.map((c) => c.warning),
      [true, false, true],
    );
    await waitInPage(
      page,
      () => (document.querySelector('.card .thumb-img') as HTMLImageElement | null)?.hidden === false,
      5_000,
      'the thumbnail',
    );
    const placeholders = await page.$$eval('.card', (items) =>
      items.map((li) => (li.querySelector('.thumb-placeholder') as HTMLElement).hidden === false),
    );
    assert.deepEqual(placeholders, [false, true, true], 'only the channel with a thumbnail shows an image');
    assert.ok(await noHorizontalScroll(page), 'the grid overflows 360 px');
    await saveScreenshot(page, 'webtv-index-360');
    await page.setViewportSize({ width: 1280, height: 720 });
    await saveScreenshot(page, 'webtv-index-desktop');
    assert.deepEqual(
      errors.filter((e) => !e.includes('404')),
      [],
    );
    await page.close();
  });

  await t.test('the grid shows now/next and filters by category and search', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const errors = collectPageErrors(page);
    await page.goto(`${base}/`);
    await page.waitForSelector('.card:nth-child(3)', { timeout: 5_000 });
    const shown = () =>
      page.$$eval('.card', (items) =>
        items.filter((li) => !(li as HTMLElement).hidden).map((li) => li.querySelector('a')?.getAttribute('href')),
      );
    const first = await page.$eval('.card', (li) => [
      li.querySelector('.card-now')?.textContent,
      li.querySelector('.card-next')?.textContent,
    ]);
    assert.match(first[0] ?? '', /^Now: Evening bulletin \(\d\d?:\d\d( [AP]M)?–\d\d?:\d\d( [AP]M)?\)$/);
    assert.match(first[1] ?? '', /^Next \d\d?:\d\d( [AP]M)?: Weather$/);
    // One entry per category, whatever its case.
    assert.deepEqual(await page.$$eval('#category option', (o) => o.map((x) => x.textContent)), ['All categories', 'News', 'Test']);
    await page.selectOption('#category', 'News');
    assert.deepEqual(await shown(), [`/watch/${OTHER_ID}`, `/watch/${TWIN_ID}`]);
    await page.fill('#search', 'BULLETIN');
    assert.deepEqual(await shown(), [`/watch/${OTHER_ID}`]);
    assert.equal(await page.textContent('#status'), '1 of 3 live channels match');
    await page.selectOption('#category', '');
    await page.fill('#search', 'bars');
    assert.deepEqual(await shown(), [`/watch/${LIVE_ID}`], 'descriptions are searched');
    await page.fill('#search', '');
    assert.equal((await shown()).length, 3);
    assert.deepEqual(
      errors.filter((e) => !e.includes('404')),
      [],
    );
    await page.close();
  });

  await t.test('the player page plays, shows live stats and a chart, and keeps sharing settings', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = collectPageErrors(page);
    await page.goto(`${base}/watch/${LIVE_ID}?src=/feed`);
    await waitInPage(
      page,
      () => (window as unknown as MeshtvWindow).meshtv?.stats().player.startupMs !== undefined,
      10_000,
      'the first frame',
    );
    const s0 = (await page.evaluate(() => (window as unknown as MeshtvWindow).meshtv?.stats())) as PageStats;
    await new Promise((r) => setTimeout(r, 4_000));
    const s1 = (await page.evaluate(() => (window as unknown as MeshtvWindow).meshtv?.stats())) as PageStats;
    assert.ok(s1.player.currentTime - s0.player.currentTime > 3, 'the video is not advancing');
    assert.ok(s1.chunksPlayed > 10 && s1.downloadBps > 100_000, `viewer stats look dead: ${JSON.stringify(s1)}`);

    const panel = await page.evaluate(() =>
      Object.fromEntries(
        Array.from(document.querySelectorAll('.stats div')).map((d) => [
          d.querySelector('dt')?.textContent,
          d.querySelector('dd')?.textContent,
        ]),
      ),
    );
    assert.match(panel['Lag behind source'] ?? '', /^\d+\.\d s$/);
    assert.match(panel.Download ?? '', /kbit\/s|Mbit\/s/);
    assert.equal(panel.Peers, '0');
    assert.equal(await page.textContent('#channel-name'), 'Test Pattern');
    assert.match((await page.textContent('#programme-now')) ?? '', /^Now: Test card \(/);
    assert.equal(await page.textContent('#channel-description'), 'Test · Bars and tone');
    assert.equal(await page.isVisible('#banner'), true, 'a test feed must be labelled as such');
    const inked = await page.evaluate(() => {
      const c = document.getElementById('chart') as HTMLCanvasElement;
      const data = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if ((data[i] as number) > 0) n++;
      return n;
    });
    assert.ok(inked > 500, 'the chart is blank');

    // window.meshtv cannot be replaced by page scripts.
    assert.equal(await page.evaluate(() => Reflect.set(window, 'meshtv', {})), false);

    await page.fill('#upload-cap', '800');
    await page.dispatchEvent('#upload-cap', 'change');
    await page.uncheck('#share-upload');
    const saved = await page.evaluate(() => localStorage.getItem('meshtv.sharing'));
    assert.deepEqual(JSON.parse(saved ?? '{}'), { uploadLimitBps: 800_000, uploadEnabled: false });
    assert.equal(await page.isDisabled('#upload-cap'), true);
    await page.check('#share-upload');
    await saveScreenshot(page, 'webtv-watch-desktop');

    await page.setViewportSize({ width: 360, height: 780 });
    await new Promise((r) => setTimeout(r, 1_200)); // one stats tick at the new size
    assert.ok(await noHorizontalScroll(page), 'the player page overflows 360 px');
    await saveScreenshot(page, 'webtv-watch-360');
    const s2 = (await page.evaluate(() => (window as unknown as MeshtvWindow).meshtv?.stats())) as PageStats;
    t.diagnostic(
      `watch page: startup ${Math.round(s0.player.startupMs ?? -1)} ms, lag ${Math.round(s2.player.lagMs ?? -1)} ms, ` +
        `stalls ${s2.player.stalls} (longest ${Math.round(s2.player.longestStallMs)} ms), download ${Math.round(s2.downloadBps / 1000)} kbit/s`,
    );
    assert.deepEqual(errors, []);
    await page.close();
  });
});
