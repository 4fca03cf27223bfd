// Real Chromium for tests: Debian's /usr/bin/chromium (or $MESHTV_CHROMIUM) driven headless by
// playwright-core, with the flags that work as root on this machine, optionally inside a network
// namespace (see nat-lab.ts); screenshots go to test-output/. Also builds page bundles with esbuild
// for test pages and the WebTV app.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM_PATH = process.env.MESHTV_CHROMIUM ?? '/usr/bin/chromium';
export const TEST_OUTPUT = path.join(ROOT, 'test-output');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/** Why browser tests cannot run here, or undefined when they can. Pass as `{ skip: ... }`. */
export function browserSkipReason(): string | undefined {
  return missingProgramSkipReason('Chromium', [CHROMIUM_PATH], 'apt-get install chromium, or set MESHTV_CHROMIUM');
}

/**
 * Why a test that needs these programs cannot run here (the first one missing, and how to
 * install it), or undefined when all are there.
 */
export function missingProgramSkipReason(what: string, programs: string[], install: string): string | undefined {
  const missing = programs.find((p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing === undefined) return undefined;
  // Under CI the test bootstrap installs the browsers, so their absence is a failure, never a skip.
  if (process.env.CI) throw new Error(`no ${what} at ${missing}: the test bootstrap should have installed it`);
  return `no ${what} at ${missing} (${install})`;
}

export interface LaunchOptions {
  /** Flags added to CHROMIUM_ARGS. */
  args?: string[];
  /**
   * A network namespace to run Chromium in (needs root). Its only network is then that
   * namespace's; it gathers no ICE candidates there unless the namespace has a default route.
   */
  netns?: string;
}

/** A headless Chromium with a fresh profile; close it in an `after` hook. */
export async function launchBrowser(opts: string[] | LaunchOptions = []): Promise<Browser> {
  const { args = [], netns } = Array.isArray(opts) ? { args: opts } : opts;
  if (netns === undefined) return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...args] });
  // playwright drives Chromium over --remote-debugging-pipe (fds 3 and 4), which `ip netns exec`
  // passes on as it execs, so a wrapper that enters the namespace is all it takes; the pid
  // playwright holds is Chromium's own, and closing the browser ends it as usual.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-chromium-netns-'));
  const wrapper = path.join(dir, 'chromium');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${quote(netns)} ${quote(CHROMIUM_PATH)} "$@"\n`, { mode: 0o755 });
  try {
    return await chromium.launch({ executablePath: wrapper, headless: true, args: [...CHROMIUM_ARGS, ...args] });
  } finally {
    // Once launched, the wrapper has exec'd into Chromium and is needed no more.
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Saves a PNG of the page as test-output/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(TEST_OUTPUT, { recursive: true });
  const file = path.join(TEST_OUTPUT, `${name.replace(/[^a-zA-Z0-9._-]/g, '_')}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Page console errors and uncaught exceptions, to print when a browser test fails. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/** Bundles a browser entry point (a test page) into one ES module, in memory. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  return (result.outputFiles[0] as { text: string }).text;
}

/** Builds dist/web/app.js exactly as `npm run build` does (the web step only). */
export function buildWebApp(): void {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), 'web'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the web bundle failed:\n${r.stderr}`);
}

/** Polls `fn` in the page until it returns a truthy value; returns that value. */
export async function waitInPage<T>(page: Page, fn: () => T, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await page.evaluate(fn);
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
