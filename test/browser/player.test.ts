// MsePlayer in real Chromium: a live ffmpeg test pattern, cut into chunks by TsChunker, is
// long-polled by a test page that appends each chunk as it is made; one chunk (not a keyframe)
// is withheld on purpose. Playback must keep pace with the source and never freeze for a
// second. A second page joins on a sliver of media before a hole and must still start; a third
// makes one append fail with QuotaExceededError, which shrinks the back buffer.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { MIN_BACK_BUFFER_S } from '../../src/browser/mse-sink.js';
import type { MsePlayerStats } from '../../src/browser/player-config.js';
import { serveWeb } from '../../src/tracker/web.js';
import {
  browserSkipReason,
  bundleForBrowser,
  collectPageErrors,
  launchBrowser,
  ROOT,
  saveScreenshot,
  waitInPage,
} from '../helpers/browser.js';
import { LiveSource } from './live-source.js';

const PAGE_HTML = `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/assets/style.css"></head>
<body><div id="player" class="player-box"></div><script type="module" src="/player.js"></script></body></html>`;

interface TestWindow {
  test?: { player: { stats(): MsePlayerStats } };
}

const playerStats = (page: Page) => page.evaluate(() => (window as unknown as TestWindow).test?.player.stats());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startServer(source: LiveSource): Promise<{ url: string; close(): Promise<void> }> {
  const pageJs = await bundleForBrowser(path.join(ROOT, 'test/browser/player-page.ts'));
  const server = http.createServer((req, res) => {
    if (source.handleFeed(req, res) || serveWeb(req, res)) return;
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname === '/player.html') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE_HTML);
    else if (pathname === '/player.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(pageJs);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

test('MsePlayer plays a live chunk stream in Chromium', { skip: browserSkipReason(), timeout: 60_000 }, async (t) => {
  const source = new LiveSource();
  source.start();
  const server = await startServer(source);
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close();
    await server.close();
    source.stop();
  });
  browser = await launchBrowser();

  await t.test('keeps pace with the source across a missing chunk, no stall over 1 s', async () => {
    const page = await browser.newPage({ viewport: { width: 960, height: 540 } });
    const errors = collectPageErrors(page);
    const opened = Date.now();
    await page.goto(`${server.url}/player.html`);
    const first = await waitInPage(
      page,
      () => (window as unknown as TestWindow).test?.player.stats().startupMs !== undefined,
      10_000,
      'the first frame',
    );
    assert.ok(first);
    const s0 = (await playerStats(page)) as MsePlayerStats;
    const wall0 = Date.now();

    await sleep(3_000);
    source.withholdNext(LiveSource.notKeyframe);
    await sleep(10_000 - (Date.now() - wall0));
    const s1 = (await playerStats(page)) as MsePlayerStats;
    const shot = await saveScreenshot(page, 'player-live');

    const advancedS = s1.currentTime - s0.currentTime;
    t.diagnostic(
      `page open -> first frame ${Date.now() - opened - (Date.now() - wall0)} ms (player startup ${Math.round(s0.startupMs ?? -1)} ms); ` +
        `currentTime +${advancedS.toFixed(2)} s in 10 s; stalls ${s1.stalls}, longest ${Math.round(s1.longestStallMs)} ms; ` +
        `behind newest data ${s1.behindNewestS.toFixed(2)} s; buffer ahead ${s1.bufferAheadS.toFixed(2)} s; ` +
        `lag behind capture ${Math.round(s1.lagMs ?? -1)} ms; gap jumps ${s1.gapJumps}; skipped ${s1.chunksSkipped}; ` +
        `dropped frames ${s1.droppedVideoFrames}; screenshot ${path.relative(ROOT, shot)}`,
    );
    assert.equal(s1.failed, false, `player failed: ${s1.error}\n${errors.join('\n')}`);
    assert.ok(advancedS >= 8, `currentTime advanced only ${advancedS.toFixed(2)} s in 10 s\n${errors.join('\n')}`);
    assert.ok(s1.longestStallMs < 1_000, `a stall lasted ${Math.round(s1.longestStallMs)} ms`);
    assert.ok(s1.chunksSkipped >= 1, 'the withheld chunk was not skipped');
    assert.ok(s1.behindNewestS < 2.5, `playing ${s1.behindNewestS.toFixed(2)} s behind the newest data`);
    assert.ok(fs.statSync(shot).size > 10_000, 'the screenshot is empty');

    // The sound button: muted autoplay says how to get sound; a click unmutes, another mutes.
    const sound = async () =>
      page.evaluate(() => {
        const b = document.querySelector('.mtv-sound') as HTMLButtonElement;
        return {
          state: b.dataset.state,
          label: b.getAttribute('aria-label'),
          muted: (document.querySelector('video') as HTMLVideoElement).muted,
        };
      });
    assert.deepEqual(await sound(), { state: 'muted', label: 'Unmute', muted: true });
    await page.click('.mtv-sound');
    assert.deepEqual(await sound(), { state: 'sound', label: 'Mute', muted: false });
    await page.click('.mtv-sound');
    assert.deepEqual(await sound(), { state: 'muted', label: 'Unmute', muted: true });
    await page.close();
  });

  await t.test('starts past a hole right after its first chunk', async () => {
    // The page joins on a keyframe chunk whose successor never comes and whose next ones come
    // 2 s later: it holds one chunk's sliver of media, too little for the browser to begin.
    source.holeAfterNextKeyframe(2_000);
    const before = source.withheld.size;
    while (source.withheld.size === before) await sleep(20);
    const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/player.html`);
    await waitInPage(page, () => (window as unknown as TestWindow).test?.player.stats().startupMs !== undefined, 10_000, 'the first frame');
    const s0 = (await playerStats(page)) as MsePlayerStats;
    await sleep(4_000);
    const s1 = (await playerStats(page)) as MsePlayerStats;
    t.diagnostic(
      `gap jumps ${s1.gapJumps}; +${(s1.currentTime - s0.currentTime).toFixed(2)} s in 4 s; startup ${Math.round(s1.startupMs ?? -1)} ms`,
    );
    assert.equal(s1.failed, false, `player failed: ${s1.error}\n${errors.join('\n')}`);
    assert.ok(s1.currentTime - s0.currentTime >= 3, `playback stopped at the hole\n${errors.join('\n')}`);
    await page.close();
  });

  await t.test('recovers from QuotaExceededError by evicting old media', async () => {
    const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/player.html?quota=16`);
    await waitInPage(page, () => (window as unknown as TestWindow).test?.player.stats().startupMs !== undefined, 10_000, 'the first frame');
    const s0 = (await playerStats(page)) as MsePlayerStats;
    await sleep(5_000);
    const s1 = (await playerStats(page)) as MsePlayerStats;
    t.diagnostic(
      `quota evictions ${s1.quotaEvictions}; +${(s1.currentTime - s0.currentTime).toFixed(2)} s in 5 s; error: ${s1.error ?? 'none'}`,
    );
    assert.ok(s1.quotaEvictions >= 1, 'QuotaExceededError was never met');
    // The back buffer shrinks for good, to what the browser could hold, but keeps MIN_BACK_BUFFER_S to rewind into.
    assert.equal(s1.backBufferS, MIN_BACK_BUFFER_S);
    assert.equal(s1.failed, false, `player failed: ${s1.error}\n${errors.join('\n')}`);
    assert.ok(s1.currentTime - s0.currentTime >= 3.5, `playback stopped after the full buffer\n${errors.join('\n')}`);
    await page.close();
  });
});
