// Real WebKit for tests: Debian's WebKitGTK MiniBrowser driven by selenium-webdriver through
// WebKitWebDriver. MiniBrowser cannot run headless, so it gets its own Xvfb display. The driver is
// started from its Debian path and reached by URL, so selenium-manager never looks for (or
// downloads) a driver or a browser.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Builder, type WebDriver } from 'selenium-webdriver';
import type * as Remote from 'selenium-webdriver/remote.js';
import type { PageStats } from '../../src/browser/ui/playback-notice.js';
import { missingProgramSkipReason } from './browser.js';

export const WEBKIT_DRIVER_PATH = '/usr/bin/WebKitWebDriver';
export const MINIBROWSER_PATH = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const XVFB_PATH = '/usr/bin/Xvfb';

// The driver-service builder is not exported by selenium-webdriver's main module. Its own module
// lives at remote/index.js while its types are declared as remote.d.ts, so no one import path
// serves both: load the code by its path and type it with those declarations.
const { DriverService } = createRequire(import.meta.url)('selenium-webdriver/remote/index.js') as typeof Remote;

/** Why the WebKit tests cannot run here, or undefined when they can. Pass as `{ skip: ... }`. */
export function webkitSkipReason(): string | undefined {
  return missingProgramSkipReason('WebKitGTK', [WEBKIT_DRIVER_PATH, MINIBROWSER_PATH, XVFB_PATH], 'apt-get install webkit2gtk-driver xvfb');
}

export interface WebKit {
  driver: WebDriver;
  /** WebKitGTK's version, e.g. "2.50.6". */
  version: string;
  /** Ends the session, the driver and the display, in that order; safe to call twice. */
  close(): Promise<void>;
}

/** MiniBrowser on a fresh Xvfb display, driven through WebKitWebDriver; close it in an `after` hook. */
export async function launchWebKit(): Promise<WebKit> {
  const { xvfb, display } = await startXvfb();
  let service: Remote.DriverService | undefined;
  let driver: WebDriver | undefined;
  const close = async () => {
    await driver?.quit().catch(() => undefined);
    driver = undefined;
    await service?.kill();
    service = undefined;
    // Last: a browser that outlived its driver loses its display and exits with it.
    if (xvfb.exitCode === null && xvfb.signalCode === null) {
      xvfb.kill();
      await once(xvfb, 'exit');
    }
  };
  try {
    service = new DriverService.Builder(WEBKIT_DRIVER_PATH)
      .setLoopback(true)
      .setEnvironment({ ...process.env, DISPLAY: display })
      .build();
    const url = await service.start();
    driver = await new Builder()
      .usingServer(url)
      .withCapabilities({
        browserName: 'MiniBrowser',
        'webkitgtk:browserOptions': { binary: MINIBROWSER_PATH, args: ['--automation'] },
      })
      .build();
    const version = String((await driver.getCapabilities()).get('browserVersion'));
    return { driver, version, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** An Xvfb on a display number it picks itself (-displayfd), so parallel runs never collide. */
async function startXvfb(): Promise<{ xvfb: ChildProcess; display: string }> {
  const xvfb = spawn(XVFB_PATH, ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x800x24'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  xvfb.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const number = await new Promise<string>((resolve, reject) => {
    let out = '';
    xvfb.stdio[3]?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    xvfb.on('exit', (code, signal) => reject(new Error(`Xvfb exited (${signal ?? code}) before it had a display: ${stderr}`)));
  });
  return { xvfb, display: `:${number}` };
}

/**
 * Opens `url` and records the page's uncaught errors and unhandled rejections from then on
 * (WebDriver classic cannot run a script before the page's own): read them with pageErrors().
 */
export async function openRecordingErrors(driver: WebDriver, url: string): Promise<void> {
  await driver.get(url);
  await driver.executeScript(`
    const errors = (window.__meshtvTestErrors = []);
    addEventListener('error', (e) => errors.push('error: ' + e.message));
    addEventListener('unhandledrejection', (e) => errors.push('unhandled rejection: ' + String(e.reason)));
  `);
}

export async function pageErrors(driver: WebDriver): Promise<string[]> {
  return driver.executeScript('return window.__meshtvTestErrors;');
}

/** The watch page's own figures (window.meshtv.stats()); WebDriver turns their undefined into null. */
export function webkitPageStats(driver: WebDriver): Promise<PageStats> {
  return driver.executeScript('return window.meshtv.stats();');
}

/** The notice over the video, or undefined while it is hidden. */
export function noticeText(driver: WebDriver): Promise<string | undefined> {
  return driver.executeScript(`const n = document.getElementById('notice'); return n.hidden ? undefined : n.textContent;`);
}
