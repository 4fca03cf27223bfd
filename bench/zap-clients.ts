// What the zapping benchmarks (tv-zap.ts, watch-start.ts) share: meshtv processes they can wait
// on, a tracker with small live channels, and players timed to their first picture: ffmpeg
// (first decoded frame) and headless VLC (first picture its video output shows).

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantile } from '../src/sim/metrics.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const children: ChildProcess[] = [];

export interface Meshtv {
  child: ChildProcess;
  /** Resolves with the first capture group of the first match in its output so far or to come. */
  line: (re: RegExp) => Promise<string>;
  /** SIGTERM, and resolves once it has exited. */
  stop: () => Promise<void>;
}

export function meshtv(args: string[], env: Record<string, string> = {}): Meshtv {
  const child = spawn(process.execPath, [path.join(root, 'bin/meshtv.js'), ...args], { env: { ...process.env, ...env } });
  children.push(child);
  let out = '';
  const waiters: (() => void)[] = [];
  const feed = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  const line = (re: RegExp) =>
    new Promise<string>((resolve) => {
      const check = () => {
        const m = re.exec(out);
        if (m) resolve(m[1] as string);
      };
      waiters.push(check);
      check();
    });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return { child, line, stop };
}

/** Stops every meshtv process this benchmark started. */
export function stopAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}

/** A tracker and `count` small live channels (320x180, 300 kb/s: three fit two shared cores), a few seconds in. */
export async function liveChannels(dir: string, count: number): Promise<string> {
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = await tracker.line(/tracker listening on (\S+)/);
  for (let n = 1; n <= count; n++)
    meshtv([
      'broadcast',
      '--tracker',
      trackerUrl,
      '--name',
      `Zap ${n}`,
      '--key',
      path.join(dir, `${n}.key`),
      '--no-dht',
      '--resolution',
      '320x180',
      '--video-bitrate',
      '300k',
    ]);
  await new Promise((r) => setTimeout(r, 6000));
  return trackerUrl;
}

/**
 * From now to the first video frame ffmpeg decodes from url (framecrc prints a line per frame),
 * in ms; with ffmpeg's default probing unless inputOptions change it.
 */
export function ffmpegFirstFrameMs(url: string, inputOptions: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const ff = spawn('ffmpeg', [
      '-hide_banner',
      '-v',
      'error',
      ...inputOptions,
      '-i',
      url,
      '-map',
      '0:v',
      '-frames:v',
      '1',
      '-f',
      'framecrc',
      '-',
    ]);
    let out = '';
    ff.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').some((l) => /^0,/.test(l))) {
        resolve(performance.now() - startedAt);
        ff.kill('SIGKILL');
      }
    });
    ff.on('exit', () => reject(new Error(`ffmpeg decoded no frame from ${url}`)));
  });
}

const VLC_TIMEOUT_MS = 30_000;

/**
 * From now to the first picture headless VLC (default settings otherwise) shows from url, in ms.
 * VLC refuses to run as root, so it runs as nobody. With no display, VLC finds no video output
 * unless told to use the dummy one, which shows nothing; the scene filter writes each picture
 * that reaches the video output as a PNG just before it is shown, so the first file's appearance
 * is when VLC would have shown its first picture (plus a PNG encode of a few ms). The dummy
 * output takes the decoder's own I420 when told: with its default choice, VLC finds no
 * converter for the scene filter.
 */
export async function vlcFirstPictureMs(url: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-vlc-'));
  fs.chmodSync(dir, 0o777);
  const snapshot = path.join(dir, 'first.png');
  const startedAt = performance.now();
  const scene = ['--video-filter', 'scene', '--scene-format', 'png', '--scene-ratio', '1', '--scene-replace', '--scene-prefix', 'first'];
  const vout = ['--vout', 'vdummy', '--dummy-chroma', 'I420'];
  // Its own process group, so that runuser and VLC are killed together.
  const vlc = spawn('runuser', ['-u', 'nobody', '--', 'cvlc', ...vout, ...scene, '--scene-path', dir, url], {
    detached: true,
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => vlc.once('exit', () => resolve()));
  let shownAt: number | undefined;
  await Promise.race([
    exited,
    new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (fs.existsSync(snapshot)) shownAt = performance.now();
        if (shownAt !== undefined || performance.now() - startedAt > VLC_TIMEOUT_MS || vlc.exitCode !== null || vlc.signalCode !== null) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    }),
  ]);
  try {
    process.kill(-(vlc.pid as number), 'SIGKILL');
  } catch {
    // VLC had exited already.
  }
  await exited;
  fs.rmSync(dir, { recursive: true, force: true });
  if (shownAt === undefined) throw new Error(`VLC showed no picture from ${url} within ${VLC_TIMEOUT_MS} ms`);
  return shownAt - startedAt;
}

/** "p50 X ms, p95 Y ms (n=N)" */
export function p50p95(xs: number[]): string {
  return `p50 ${(quantile(xs, 0.5) ?? Number.NaN).toFixed(0)} ms, p95 ${(quantile(xs, 0.95) ?? Number.NaN).toFixed(0)} ms (n=${xs.length})`;
}

/** "p50 X ms, range A-B ms (n=N)" */
export function p50range(xs: number[]): string {
  return `p50 ${(quantile(xs, 0.5) ?? Number.NaN).toFixed(0)} ms, range ${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)} ms (n=${xs.length})`;
}
