// Finding ffmpeg and building its command lines. MESHTV_FFMPEG wins, then the ffmpeg on PATH;
// otherwise the static build shipped in the npm package @ffmpeg-installer/ffmpeg, so nothing
// outside npm is needed (but that build cannot resolve host names: see isBundledFfmpeg).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UserError } from '../common/errors.js';

/** The executable `name` on PATH (on Windows also with the PATHEXT extensions), if any. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const exts = process.platform === 'win32' ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';')] : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

let cached: string | undefined;

export function ffmpegPath(): string {
  if (cached !== undefined) return cached;
  const override = process.env.MESHTV_FFMPEG;
  cached = override !== undefined && override !== '' ? override : (findOnPath('ffmpeg') ?? bundledFfmpeg());
  return cached;
}

function bundledFfmpeg(): string {
  const bundled = bundledFfmpegPath();
  if (bundled === undefined) {
    throw new UserError('ffmpeg not found: install it (apt-get install ffmpeg) or run npm install to get the bundled build');
  }
  return bundled;
}

/** Where @ffmpeg-installer/ffmpeg put its static build, if it is installed and runnable. */
function bundledFfmpegPath(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const bundled = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    fs.accessSync(bundled, fs.constants.X_OK);
    return bundled;
  } catch {
    return undefined;
  }
}

/**
 * True if `ffmpeg` is the bundled static build. That build (ffmpeg 4.1, linked statically
 * against glibc) crashes with SIGSEGV on any host-name lookup, so it can only take addresses.
 */
export function isBundledFfmpeg(ffmpeg: string): boolean {
  const bundled = bundledFfmpegPath();
  return bundled !== undefined && path.resolve(ffmpeg) === path.resolve(bundled);
}

const protocolCache = new Map<string, Set<string>>();

/** The input protocols an ffmpeg binary was built with (`ffmpeg -protocols`); empty if it cannot say. */
export function ffmpegInputProtocols(ffmpeg: string): Set<string> {
  const cached = protocolCache.get(ffmpeg);
  if (cached !== undefined) return cached;
  const r = spawnSync(ffmpeg, ['-hide_banner', '-protocols'], { encoding: 'utf8', timeout: 10_000 });
  const text = typeof r.stdout === 'string' ? r.stdout : '';
  const input = /Input:\s*([\s\S]*?)(?:Output:|$)/.exec(text)?.[1] ?? '';
  const protocols = new Set(input.split(/\s+/).filter((p) => p !== ''));
  protocolCache.set(ffmpeg, protocols);
  return protocols;
}

/** H.264 for live: x264's fast preset tuned for zero latency (no frame lookahead, no B-frames). */
export const X264_LOW_LATENCY: readonly string[] = [
  '-c:v',
  'libx264',
  '-preset',
  'veryfast',
  '-tune',
  'zerolatency',
  '-pix_fmt',
  'yuv420p',
];

export interface TestPatternOptions {
  width: number;
  height: number;
  fps: number;
  videoBitrateKbps: number;
  audioBitrateKbps: number;
  /** Keyframe interval in seconds: the finest point a viewer can join at. */
  keyframeIntervalS: number;
}

export const DEFAULT_TEST_PATTERN: TestPatternOptions = {
  width: 640,
  height: 360,
  fps: 25,
  videoBitrateKbps: 800,
  audioBitrateKbps: 96,
  keyframeIntervalS: 1,
};

/** ffmpeg's two lavfi inputs for the test pattern: input 0 is the video, input 1 the audio. */
export function testPatternInputs(o: Pick<TestPatternOptions, 'width' | 'height' | 'fps'>): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${o.width}x${o.height}:rate=${o.fps}`,
    '-re',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=1000:sample_rate=48000:beep_factor=4',
  ];
}

/**
 * The test pattern's encoding of one output: fixed GOP so chunks align on keyframes (and the
 * renditions of a ladder on each other), constant bitrate.
 */
export function testPatternEncoding(
  o: Pick<TestPatternOptions, 'fps' | 'keyframeIntervalS' | 'videoBitrateKbps' | 'audioBitrateKbps'>,
): string[] {
  const gop = String(Math.max(1, Math.round(o.fps * o.keyframeIntervalS)));
  return [
    ...X264_LOW_LATENCY,
    '-g',
    gop,
    '-keyint_min',
    gop,
    '-sc_threshold',
    '0',
    // Constant bitrate, padded with filler: the pattern is so easy to code that x264 would
    // otherwise send well under the rate asked for (about 540 of 1500 kbit/s), and a benchmark
    // run at "1.5 Mbit/s" should carry 1.5 Mbit/s.
    '-b:v',
    `${o.videoBitrateKbps}k`,
    '-minrate',
    `${o.videoBitrateKbps}k`,
    '-maxrate',
    `${o.videoBitrateKbps}k`,
    '-bufsize',
    `${Math.round(o.videoBitrateKbps / 2)}k`,
    '-x264-params',
    'nal-hrd=cbr',
    '-c:a',
    'aac',
    '-b:a',
    `${o.audioBitrateKbps}k`,
  ];
}

/** MPEG-TS written as soon as each packet is ready, to `target` (pipe:1 is stdout). */
export function liveTsOutput(target = 'pipe:1'): string[] {
  return ['-f', 'mpegts', '-muxdelay', '0', '-flush_packets', '1', target];
}

/** Where output `index` of a multi-output ffmpeg writes: stdout first, then fds 3, 4, ... */
export function outputPipe(index: number): string {
  return index === 0 ? 'pipe:1' : `pipe:${index + 2}`;
}

/**
 * A live test pattern in real time: ffmpeg's testsrc (moving colour pattern with a running
 * seconds counter, drawn without fonts) and a 1 kHz tone, H.264 (x264 veryfast, zerolatency)
 * + AAC, muxed as MPEG-TS on stdout.
 */
export function testPatternArgs(o: TestPatternOptions = DEFAULT_TEST_PATTERN): string[] {
  return [...testPatternInputs(o), ...testPatternEncoding(o), ...liveTsOutput()];
}
