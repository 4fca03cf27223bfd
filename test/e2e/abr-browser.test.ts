// Adaptive bitrate in a real browser: a Chromium page on a two-rendition channel starts on the
// low rendition, moves up while its link is fast, and when its download is throttled switches
// down and keeps playing; the quality menu then pins a rendition. Switch counts and continuity
// are reported.
//
// The throttle is `tc tbf` on the page's link in a network namespace, not DevTools network
// emulation: Chromium's emulation (Network.emulateNetworkConditions) applies to HTTP and
// WebSockets only, and left the page's WebRTC data channels at full speed when we tried.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type BenchNet, createBenchNet, netnsUnavailable } from '../../src/bench/netns.js';
import { browserSkipReason, collectPageErrors, launchBrowser } from '../helpers/browser.js';
import { startChannel, stopAll, waitUntil } from '../helpers/processes.js';

after(stopAll);

interface PageFigures {
  rendition: string | undefined;
  quality: string;
  switchingTo: string | undefined;
  switches: { up: number; down: number };
  continuity: number;
  downloadBps: number;
  player: { currentTime: number; longestStallMs: number; stalls: number; playing: boolean };
}

const figures = (page: Page) => page.evaluate(() => (window as unknown as { meshtv: { stats(): PageFigures } }).meshtv.stats());

const skip = browserSkipReason() ?? netnsUnavailable();

test('a page moves up on a fast link, down when its download is throttled, and keeps playing', { timeout: 240_000, skip }, async (t) => {
  const net: BenchNet = createBenchNet(['page']);
  t.after(() => net.destroy());
  const { trackerUrl, channelId } = await startChannel('ladder', ['--renditions', 'low=180p@150k,high=360p@700k'], net.rootAddress);

  const browser: Browser = await launchBrowser({ netns: (net.hosts[0] as { ns: string }).ns });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const errors = collectPageErrors(page);
  await page.goto(`${trackerUrl}/watch/${channelId}`);
  let last: PageFigures | undefined;
  await waitUntil(
    'the page plays',
    async () => {
      last = await figures(page);
      return last.player.playing;
    },
    45_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; page: ${JSON.stringify(last)}; errors: ${errors.join(' | ')}`);
  });
  const first = last as PageFigures;
  // It starts on the lowest rendition (on a loaded machine it may have moved up by the time it plays).
  assert.ok(first.rendition === 'low' || first.switches.up >= 1, `started on ${first.rendition}`);
  assert.equal(first.switches.down, 0);
  await waitUntil(
    'the page moves up',
    async () => {
      last = await figures(page);
      return last.rendition === 'high';
    },
    60_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; page: ${JSON.stringify(last)}; errors: ${errors.join(' | ')}`);
  });
  const up = await figures(page);
  t.diagnostic(`fast link: on high after ${JSON.stringify(up.switches)}, continuity ${up.continuity.toFixed(4)}`);

  // 450 kbit/s cannot carry the high rendition (700k video), and carries the low one (150k).
  net.limitDownload(0, 450_000);
  await waitUntil('the throttled page switches down', async () => (await figures(page)).rendition === 'low', 60_000);
  const down = await figures(page);
  t.diagnostic(`throttled: on low, switches ${JSON.stringify(down.switches)}, continuity ${down.continuity.toFixed(4)}`);
  await new Promise((r) => setTimeout(r, 15_000));
  const after = await figures(page);
  const advanced = after.player.currentTime - down.player.currentTime;
  t.diagnostic(
    `15 s later: +${advanced.toFixed(1)} s played, continuity ${after.continuity.toFixed(4)}, ` +
      `stalls ${after.player.stalls} (longest ${after.player.longestStallMs} ms), switches ${JSON.stringify(after.switches)}`,
  );
  assert.equal(after.rendition, 'low');
  assert.ok(after.switches.down >= 1);
  assert.ok(advanced >= 13, `played only ${advanced.toFixed(1)} s in 15 s on the throttled link`);
  assert.ok(after.player.playing, 'the page still plays');

  // The quality menu: the user pins high (the link is free again) and the page follows.
  net.limitDownload(0, undefined);
  await page.selectOption('#quality', 'high');
  await waitUntil('the pinned rendition plays', async () => (await figures(page)).rendition === 'high', 30_000);
  const pinned = await figures(page);
  assert.equal(pinned.quality, 'high');
  assert.deepEqual(errors, []);
});
