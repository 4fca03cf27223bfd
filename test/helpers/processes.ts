// Real processes for end-to-end tests: starts the built `meshtv` program, waits for lines it
// prints, and makes sure every process started is stopped when the test ends.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ffmpegPath } from '../../src/media/ffmpeg.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/meshtv.js');

export interface Proc {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<Proc>();

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `meshtv-${prefix}-`));
}

/**
 * Starts `meshtv args`. With `opts.netns` it runs inside that network namespace (see nat-lab.ts);
 * `ip netns exec` execs node, so the child's pid is node's and stop() reaches it.
 */
export function meshtv(args: string[], env: Record<string, string> = {}, opts?: { netns?: string }): Proc {
  const [cmd, argv] = opts?.netns
    ? ['ip', ['netns', 'exec', opts.netns, process.execPath, BIN, ...args]]
    : [process.execPath, [BIN, ...args]];
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const waiters: (() => void)[] = [];
  const proc: Proc = {
    child,
    stdout: '',
    stderr: '',
    // 'exit' can come before the last of stderr has been read (seen under load: exit 1 with an
    // empty stderr); 'close' comes once the pipes are drained. A grandchild holding the pipes
    // open must not hang a test, so 'exit' still settles it 2 s later.
    exited: new Promise((resolve) => {
      child.on('close', (code) => resolve(code));
      child.on('exit', (code) => setTimeout(() => resolve(code), 2000).unref());
    }),
    waitFor(pattern, stream = 'stdout', timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = proc[stream].match(pattern);
          if (m) {
            clearTimeout(timer);
            resolve(m);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          reject(
            new Error(
              `timed out waiting for ${pattern} on ${stream} of meshtv ${args.join(' ')}\nstdout: ${proc.stdout}\nstderr: ${proc.stderr}`,
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.push(() => void check());
        proc.exited.then(() => {
          if (!check()) {
            clearTimeout(timer);
            reject(new Error(`meshtv ${args.join(' ')} exited before printing ${pattern}\nstdout: ${proc.stdout}\nstderr: ${proc.stderr}`));
          }
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      running.delete(proc);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
  };
  child.stdout?.on('data', (d: Buffer) => {
    proc.stdout += d.toString();
    for (const w of waiters) w();
  });
  child.stderr?.on('data', (d: Buffer) => {
    proc.stderr += d.toString();
    for (const w of waiters) w();
  });
  running.add(proc);
  return proc;
}

/**
 * A tracker (on `trackerHost`, default loopback) and a broadcaster of the test pattern with a
 * fresh key, DHT off; `broadcastArgs` are added to the broadcaster's flags.
 */
export async function startChannel(
  name: string,
  broadcastArgs: string[] = [],
  trackerHost?: string,
): Promise<{ trackerUrl: string; uri: string; channelId: string; tracker: Proc; source: Proc }> {
  const tracker = meshtv(['tracker', ...(trackerHost !== undefined ? ['--host', trackerHost] : []), '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const key = path.join(tempDir(name.replace(/[^a-z0-9]+/gi, '-')), 'k.key');
  const source = meshtv(['broadcast', '--tracker', trackerUrl, '--name', name, '--key', key, '--no-dht', ...broadcastArgs]);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
  return { trackerUrl, uri, channelId, tracker, source };
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

export interface DecodeResult {
  exitCode: number | null;
  errors: string;
  videoFrames: number;
  audioFrames: number;
  /** Presentation times of the video frames in seconds, in output order. */
  videoPtsS: number[];
}

/**
 * Decodes `seconds` of media from a URL with real ffmpeg (framecrc output decodes every frame)
 * and returns the frame timestamps and anything ffmpeg reported at error level.
 */
export function decode(url: string, seconds: number, timeoutMs = (seconds + 20) * 1000): Promise<DecodeResult> {
  return new Promise((resolve, reject) => {
    const args = ['-hide_banner', '-v', 'error', '-i', url, '-t', String(seconds), '-f', 'framecrc', '-'];
    const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ffmpeg did not finish decoding ${url} in ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const timebases = new Map<number, number>();
      for (const m of out.matchAll(/^#tb (\d+): (\d+)\/(\d+)$/gm)) timebases.set(Number(m[1]), Number(m[2]) / Number(m[3]));
      const videoPtsS: number[] = [];
      let videoFrames = 0;
      let audioFrames = 0;
      for (const line of out.split('\n')) {
        if (line.startsWith('#') || line.trim() === '') continue;
        const [stream, , pts] = line.split(',').map((x) => Number(x.trim()));
        if (stream === 0) {
          videoFrames++;
          videoPtsS.push((pts as number) * (timebases.get(0) ?? 1));
        } else audioFrames++;
      }
      resolve({ exitCode: code, errors: err.trim(), videoFrames, audioFrames, videoPtsS });
    });
  });
}

/**
 * Encodes a test clip with real ffmpeg: the test pattern, H.264 with a keyframe every second,
 * and (unless `audio` is false) a 440 Hz tone in AAC; the container follows the file's
 * extension (.mp4, .ts).
 */
export function makeTestClip(file: string, seconds: number, audio = true): void {
  const r = spawnSync(ffmpegPath(), [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=320x240:rate=25',
    ...(audio ? ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'] : []),
    '-t',
    String(seconds),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-pix_fmt',
    'yuv420p',
    '-g',
    '25',
    '-keyint_min',
    '25',
    '-sc_threshold',
    '0',
    ...(audio ? ['-c:a', 'aac', '-b:a', '64k'] : []),
    file,
  ]);
  if (r.status !== 0) throw new Error(`ffmpeg could not make ${file}: ${r.stderr?.toString()}`);
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Runs `meshtv args` and checks it fails as a user error: exit 1, one line on stderr,
 * "meshtv: error: " matching `pattern`, and no stack trace.
 */
export async function failsWithOneError(args: string[], pattern: RegExp, env: Record<string, string> = {}): Promise<void> {
  const p = meshtv(args, env);
  const code = await p.exited;
  assert.equal(code, 1, `expected exit 1 from meshtv ${args.join(' ')}; stderr: ${p.stderr}`);
  const lines = p.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one error line, got:\n${p.stderr}`);
  assert.match(lines[0] as string, /^meshtv: error: /);
  assert.match(lines[0] as string, pattern);
  assert.doesNotMatch(p.stderr, /\n\s+at /, 'stack trace printed for a user error');
}
