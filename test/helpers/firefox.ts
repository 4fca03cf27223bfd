// Real Firefox for tests: Debian's firefox-esr driven headless by puppeteer-core over WebDriver
// BiDi (puppeteer cannot download a browser here, and 24.x is the last line that runs on Node 20).

import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { PageStats } from '../../src/browser/ui/playback-notice.js';
import { missingProgramSkipReason } from './browser.js';

export const FIREFOX_PATH = process.env.MESHTV_FIREFOX ?? '/usr/bin/firefox-esr';

/**
 * Preferences of the test profile. Only autoplay needs one: the page starts the video without a
 * click. WebRTC needs none here: Firefox's host candidates on the machine's own interface reach
 * the native peers (checked with its defaults: 2 peers, half the bytes from them).
 */
const FIREFOX_PREFS = { 'media.autoplay.default': 0 };

/** Why the Firefox tests cannot run here, or undefined when they can. Pass as `{ skip: ... }`. */
export function firefoxSkipReason(): string | undefined {
  return missingProgramSkipReason('Firefox', [FIREFOX_PATH], 'apt-get install firefox-esr, or set MESHTV_FIREFOX');
}

/** A headless Firefox with a fresh profile (puppeteer's temporary one); close it in an `after` hook. */
export function launchFirefox(): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX_PATH,
    headless: true,
    extraPrefsFirefox: FIREFOX_PREFS,
  });
}

/** The page's console errors and uncaught exceptions, from now on. */
export function collectFirefoxErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e instanceof Error ? e.message : String(e)}`));
  return errors;
}

/** The watch page's own figures (window.meshtv.stats()). */
export function firefoxPageStats(page: Page): Promise<PageStats> {
  return page.evaluate(() => (window as unknown as { meshtv: { stats(): PageStats } }).meshtv.stats());
}
