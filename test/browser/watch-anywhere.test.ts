// The watch page where it is hardest to play, in real Chromium against one real channel (a
// tracker and a broadcaster): with only ManagedMediaSource (as on iPhone Safari, by a shim over
// MediaSource), with no Media Source at all, on a phone on mobile data and on Wi-Fi (upload off
// and on by default; 44 px touch targets; screenshots at 390x844 kept in test-output/), and for
// a channel id the tracker never heard of.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { PageStats } from '../../src/browser/ui/playback-notice.js';
import { browserSkipReason, buildWebApp, collectPageErrors, launchBrowser, saveScreenshot, waitInPage } from '../helpers/browser.js';
import { startChannel, stopAll } from '../helpers/processes.js';

after(stopAll);

const PHONE = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
  userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
};

interface ShimWindow {
  meshtv?: { stats(): PageStats };
  managedSourcesCreated?: number;
}

const stats = (page: Page) => page.evaluate(() => (window as ShimWindow).meshtv?.stats() as PageStats);

// The init scripts are strings: tsx wraps a test file's functions in a helper (__name) that the
// page does not have.

/** Stands in for iPhone Safari: ManagedMediaSource (a counting subclass of MediaSource) and no MediaSource. */
const MANAGED_ONLY = `
  const Saved = window.MediaSource;
  window.ManagedMediaSource = class extends Saved {
    constructor() {
      super();
      window.managedSourcesCreated = (window.managedSourcesCreated ?? 0) + 1;
    }
  };
  delete window.MediaSource;`;

const NO_MEDIA_SOURCE = 'delete window.MediaSource; delete window.ManagedMediaSource;';

/** What the Network Information API reports (Chromium on a desktop has no connection type). */
const reportConnection = (type: string) => `
  Object.defineProperty(Navigator.prototype, 'connection', {
    configurable: true,
    get: () => ({ type: ${JSON.stringify(type)}, saveData: false, effectiveType: '4g', addEventListener() {}, removeEventListener() {} }),
  });`;

async function box(page: Page, selector: string): Promise<{ width: number; height: number }> {
  const b = await page.locator(selector).boundingBox();
  assert.ok(b !== null, `${selector} is not shown`);
  return b;
}

test('the watch page with ManagedMediaSource, without Media Source, on phones, for unknown ids', {
  skip: browserSkipReason(),
  timeout: 60_000,
}, async (t) => {
  buildWebApp();
  const { trackerUrl, channelId } = await startChannel('watch anywhere');
  const watchUrl = `${trackerUrl}/watch/${channelId}`;
  const browser: Browser = await launchBrowser();
  t.after(() => browser.close());

  // Every page starts at once, so their joins overlap; the checks then go one by one.
  const open = async (name: string, options: Parameters<Browser['newContext']>[0], init: string | undefined, url = watchUrl) => {
    const context: BrowserContext = await browser.newContext(options);
    if (init !== undefined) await context.addInitScript(init);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(url);
    return { name, page, errors };
  };
  const [managed, bare, cellular, wifi, unknown] = await Promise.all([
    open('managed', {}, MANAGED_ONLY),
    open('no MSE', {}, NO_MEDIA_SOURCE),
    open('cellular', PHONE, reportConnection('cellular')),
    open('wifi', PHONE, reportConnection('wifi')),
    open('unknown id', {}, undefined, `${trackerUrl}/watch/${'ab'.repeat(32)}`),
  ]);

  await t.test('with only ManagedMediaSource, the page plays through it', async () => {
    const { page } = managed;
    await waitInPage(page, () => (window as ShimWindow).meshtv?.stats().player.startupMs !== undefined, 20_000, 'the first frame');
    const s0 = await stats(page);
    await new Promise((r) => setTimeout(r, 4_000));
    const s1 = await stats(page);
    const advanced = s1.player.currentTime - s0.player.currentTime;
    t.diagnostic(`ManagedMediaSource: +${advanced.toFixed(1)} s in 4 s, startup ${Math.round(s0.player.startupMs ?? -1)} ms`);
    assert.ok(advanced > 3, `played only ${advanced.toFixed(2)} s in 4 s`);
    const used = await page.evaluate(() => ({
      created: (window as ShimWindow).managedSourcesCreated,
      remote: (document.querySelector('video') as HTMLVideoElement).disableRemotePlayback,
    }));
    assert.ok((used.created ?? 0) >= 1, 'the page did not use ManagedMediaSource');
    assert.equal(used.remote, true, 'ManagedMediaSource needs disableRemotePlayback');
    assert.deepEqual(managed.errors, []);
  });

  await t.test('with no Media Source at all, the page says how to watch elsewhere', async () => {
    const { page } = bare;
    await page.waitForSelector('#channel-gone:not([hidden])', { timeout: 5_000 });
    assert.equal(await page.textContent('#gone-title'), 'This browser cannot play live video in a page');
    assert.match((await page.textContent('#gone-detail')) ?? '', /no Media Source Extensions/);
    assert.equal(await page.textContent('#gone-command'), `meshtv watch 'meshtv://${channelId}?tracker=${encodeURIComponent(trackerUrl)}'`);
    assert.equal(await page.isVisible('#player'), false, 'a blank player is shown');
    assert.deepEqual(bare.errors, []);
  });

  await t.test('a phone on mobile data does not upload by default; on Wi-Fi it does', async () => {
    for (const { page } of [cellular, wifi])
      await waitInPage(page, () => (window as ShimWindow).meshtv?.stats().player.playing, 20_000, 'the phone playing');
    // A few seconds among three other pages: a sharing phone would have been asked for chunks.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(await cellular.page.isChecked('#share-upload'), false, 'sharing is on over mobile data');
    assert.match((await cellular.page.textContent('#upload-hint')) ?? '', /mobile data/);
    const [upCellular, upWifi] = [(await stats(cellular.page)).mediaBytesOut, (await stats(wifi.page)).mediaBytesOut];
    t.diagnostic(`uploaded: phone on mobile data ${upCellular} B, phone on Wi-Fi ${upWifi} B`);
    assert.equal(upCellular, 0, 'the phone on mobile data uploaded');
    assert.equal(await wifi.page.isChecked('#share-upload'), true, 'sharing is off on Wi-Fi');
    await saveScreenshot(cellular.page, 'webtv-watch-phone-390x844');
    assert.deepEqual(cellular.errors, []);
    assert.deepEqual(wifi.errors, []);
  });

  await t.test('on a phone, controls are 44 px touch targets and the unmute button stays small', async () => {
    const { page } = cellular;
    await page.evaluate(() => {
      // The test channel has one rendition, so the quality menu is hidden: shown here to be measured.
      (document.getElementById('quality-row') as HTMLElement).hidden = false;
    });
    for (const selector of ['.back', '.mtv-fullscreen', '.mtv-sound', '#share-upload', '#quality']) {
      const b = await box(page, selector);
      assert.ok(b.width >= 44 && b.height >= 44, `${selector} is ${b.width}x${b.height}, under 44x44`);
    }
    const video = await box(page, 'video');
    const sound = await box(page, '.mtv-sound');
    assert.ok(sound.width < video.width / 3, `the unmute button takes ${sound.width} of the video's ${video.width} px`);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the page overflows 390 px');
    await page.goto(`${trackerUrl}/`);
    await page.waitForSelector('.card', { timeout: 10_000 });
    await saveScreenshot(page, 'webtv-index-phone-390x844');
  });

  await t.test('an unknown channel id says so, with no LIVE badge', async () => {
    const { page } = unknown;
    await page.waitForSelector('#channel-gone:not([hidden])', { timeout: 10_000 });
    assert.equal(await page.textContent('#gone-title'), 'No such channel');
    assert.equal(await page.isVisible('#live-badge'), false);
    assert.equal(await page.isVisible('#notice'), false, 'a notice (e.g. "Looking for peers…") shows with it');
    assert.equal(await page.getAttribute('.gone-back', 'href'), '/');
    await saveScreenshot(page, 'webtv-watch-unknown-channel');
    assert.deepEqual(
      unknown.errors.filter((e) => !e.includes('404')),
      [],
    );
  });
});
