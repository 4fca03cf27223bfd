// The watch page in real Firefox (Debian's firefox-esr over WebDriver BiDi): a tracker, a
// test-pattern broadcaster and a native viewer, then Firefox opens /watch/<id>. It must play at
// least 8 s of video in 10 s of wall time, with peers and part of its bytes from them (WebRTC
// between Firefox and the native nodes), and report no console error.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Browser } from 'puppeteer-core';
import { collectFirefoxErrors, firefoxPageStats, firefoxSkipReason, launchFirefox } from '../helpers/firefox.js';
import { meshtv, startChannel, stopAll, waitUntil } from '../helpers/processes.js';

after(stopAll);

const WINDOW_MS = 10_000;

test('Firefox plays the watch page from peers', { timeout: 60_000, skip: firefoxSkipReason() }, async (t) => {
  const { trackerUrl, uri, channelId } = await startChannel('firefox test');
  // A second source of chunks besides the broadcaster, so "from peers" has someone to come from.
  const native = meshtv(['watch', uri, '--http-port', '0']);
  await native.waitFor(/^(http:\S+)\/stream\.ts$/m);

  let browser: Browser | undefined;
  t.after(() => browser?.close());
  browser = await launchFirefox();
  t.diagnostic(`browser: ${await browser.version()}`);
  const page = await browser.newPage();
  const errors = collectFirefoxErrors(page);
  await page.goto(`${trackerUrl}/watch/${channelId}`);

  await waitUntil('the first frame', async () => (await firefoxPageStats(page)).player.startupMs !== undefined, 20_000);
  const start = await firefoxPageStats(page);
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const end = await firefoxPageStats(page);
  const played = end.player.currentTime - start.player.currentTime;
  t.diagnostic(
    `played ${played.toFixed(1)} s in ${WINDOW_MS / 1000} s, peers ${end.peers}, ` +
      `from peers ${(end.shareFromPeers * 100).toFixed(0)}%, longest stall ${end.player.longestStallMs} ms`,
  );
  assert.ok(played >= 8, `Firefox played only ${played.toFixed(2)} s in ${WINDOW_MS / 1000} s`);
  assert.ok(end.peers > 0, 'Firefox has no peers');
  assert.ok(end.shareFromPeers > 0, 'Firefox got nothing from peers');
  assert.deepEqual(errors, [], 'the page reported errors');
});
