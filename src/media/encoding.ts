// How the broadcaster encodes its input: the encoding options and their flag values, and the
// ffmpeg command line for an input and those options. Every input leaves ffmpeg as H.264 + AAC
// in MPEG-TS on stdout (or one output per rendition of a ladder). Pure: argument building
// only; running ffmpeg is ingest.ts's job.

import { UserError } from '../common/errors.js';
import {
  DEFAULT_TEST_PATTERN,
  liveTsOutput,
  outputPipe,
  testPatternArgs,
  testPatternEncoding,
  testPatternInputs,
  X264_LOW_LATENCY,
} from './ffmpeg.js';
import { type InputSource, rtmpServerUrl } from './input.js';
import type { Rendition } from './renditions.js';

export interface EncodingOptions {
  /** Pass H.264/AAC through untouched instead of re-encoding. @default false */
  copy: boolean;
  /** @default 800 for the test pattern, 2500 for other inputs */
  videoBitrateKbps: number | undefined;
  /** @default 96 for the test pattern, 128 for other inputs */
  audioBitrateKbps: number | undefined;
  /** Output size; undefined keeps the input's (the test pattern's is 640x360). */
  resolution: Resolution | undefined;
  /** Output frame rate; undefined keeps the input's (the test pattern's is 25). */
  fps: number | undefined;
  /** Forced keyframe interval when re-encoding: the finest point a viewer can join at. @default 1 */
  keyframeIntervalS: number;
  /** A quality ladder (lowest first): one output per rendition, keyframes aligned. */
  renditions: readonly Rendition[] | undefined;
}

/** Either an exact size or a height with the width following the aspect ratio ("720p"). */
export type Resolution = { readonly width: number; readonly height: number } | { readonly width: undefined; readonly height: number };

export const DEFAULT_ENCODING: EncodingOptions = {
  copy: false,
  videoBitrateKbps: undefined,
  audioBitrateKbps: undefined,
  resolution: undefined,
  fps: undefined,
  keyframeIntervalS: 1,
  renditions: undefined,
};

const DEFAULT_VIDEO_KBPS = 2500;
const DEFAULT_AUDIO_KBPS = 128;
/** Give up on an HTTP source that sends nothing for this long (microseconds, as ffmpeg wants). */
const HTTP_RW_TIMEOUT_US = 15_000_000;

/** The full ffmpeg command line (without the program) for an input and the encoding wanted. */
export function ffmpegArgs(source: InputSource, enc: EncodingOptions): string[] {
  if (enc.renditions !== undefined) return ladderArgs(source, enc, enc.renditions);
  if (source.kind === 'testsrc') {
    if (enc.copy) throw new UserError('--copy needs an --input to copy from; the test pattern is always encoded');
    const d = DEFAULT_TEST_PATTERN;
    const height = enc.resolution?.height ?? d.height;
    const width = enc.resolution?.width ?? (enc.resolution === undefined ? d.width : evenWidth(height));
    return testPatternArgs({
      width,
      height,
      fps: enc.fps ?? d.fps,
      videoBitrateKbps: enc.videoBitrateKbps ?? d.videoBitrateKbps,
      audioBitrateKbps: enc.audioBitrateKbps ?? d.audioBitrateKbps,
      keyframeIntervalS: enc.keyframeIntervalS,
    });
  }
  // level+info: every line is tagged with its level (errors are picked out of the log) and the
  // input's streams are described (their codecs are checked under --copy).
  const args = ['-hide_banner', '-nostats', '-loglevel', 'level+info'];
  if (source.kind !== 'stdin') args.push('-nostdin');
  args.push(...inputPart(source), '-map', '0:v:0?', '-map', '0:a:0?', '-sn', '-dn');
  if (enc.copy) {
    const clash =
      enc.resolution !== undefined
        ? '--resolution'
        : enc.fps !== undefined
          ? '--fps'
          : enc.videoBitrateKbps !== undefined
            ? '--video-bitrate'
            : enc.audioBitrateKbps !== undefined
              ? '--audio-bitrate'
              : undefined;
    if (clash !== undefined) throw new UserError(`${clash} needs re-encoding; drop --copy or drop ${clash}`);
    args.push('-c', 'copy');
  } else {
    const vkbps = enc.videoBitrateKbps ?? DEFAULT_VIDEO_KBPS;
    const filters: string[] = [];
    if (enc.resolution !== undefined) filters.push(`scale=${enc.resolution.width ?? -2}:${enc.resolution.height}`);
    if (enc.fps !== undefined) filters.push(`fps=${enc.fps}`);
    if (filters.length > 0) args.push('-vf', filters.join(','));
    args.push(...liveEncoding(enc, vkbps));
  }
  args.push('-f', 'mpegts', '-muxdelay', '0', '-flush_packets', '1', 'pipe:1');
  return args;
}

/**
 * x264 and AAC for one output of a live input: keyframes on a fixed clock whatever the input's
 * frame rate (so chunks, segments and renditions align), capped video rate.
 */
function liveEncoding(enc: EncodingOptions, videoKbps: number): string[] {
  const gop = enc.fps !== undefined ? String(Math.max(1, Math.round(enc.fps * enc.keyframeIntervalS))) : undefined;
  return [
    ...X264_LOW_LATENCY,
    '-force_key_frames',
    `expr:gte(t,n_forced*${enc.keyframeIntervalS})`,
    '-sc_threshold',
    '0',
    ...(gop !== undefined ? ['-g', gop, '-keyint_min', gop] : []),
    '-b:v',
    `${videoKbps}k`,
    '-maxrate',
    `${videoKbps}k`,
    '-bufsize',
    `${Math.round(videoKbps / 2)}k`,
    '-c:a',
    'aac',
    '-b:a',
    `${enc.audioBitrateKbps ?? DEFAULT_AUDIO_KBPS}k`,
  ];
}

/**
 * One encode, one output per rendition: the decoded video is split and scaled to each height
 * and every output gets the same keyframe times, so a viewer can switch between renditions at
 * any keyframe. Output i goes to outputPipe(i).
 */
function ladderArgs(source: InputSource, enc: EncodingOptions, ladder: readonly Rendition[]): string[] {
  const clash = enc.copy
    ? '--copy'
    : enc.resolution !== undefined
      ? '--resolution'
      : enc.videoBitrateKbps !== undefined
        ? '--video-bitrate'
        : undefined;
  if (clash !== undefined) throw new UserError(`--renditions sets each rendition's size and rate; drop ${clash}`);
  const split = `split=${ladder.length}${ladder.map((_, i) => `[s${i}]`).join('')}`;
  const scales = ladder.map((r, i) => `[s${i}]scale=-2:${r.height}[v${i}]`);
  const top = Math.max(...ladder.map((r) => r.height));
  const args: string[] = [];
  let video: string;
  let audio: string;
  let encoding: (r: Rendition) => string[];
  if (source.kind === 'testsrc') {
    const fps = enc.fps ?? DEFAULT_TEST_PATTERN.fps;
    args.push(...testPatternInputs({ width: evenWidth(top), height: top, fps }));
    [video, audio] = ['[0:v]', '1:a'];
    encoding = (r) =>
      testPatternEncoding({
        fps,
        keyframeIntervalS: enc.keyframeIntervalS,
        videoBitrateKbps: r.videoBitrateKbps,
        audioBitrateKbps: enc.audioBitrateKbps ?? DEFAULT_TEST_PATTERN.audioBitrateKbps,
      });
  } else {
    args.push('-hide_banner', '-nostats', '-loglevel', 'level+info');
    if (source.kind !== 'stdin') args.push('-nostdin');
    args.push(...inputPart(source), '-sn', '-dn');
    [video, audio] = [`[0:v:0]${enc.fps !== undefined ? `fps=${enc.fps},` : ''}`, '0:a:0?'];
    encoding = (r) => liveEncoding(enc, r.videoBitrateKbps);
  }
  args.push('-filter_complex', [`${video}${split}`, ...scales].join(';'));
  ladder.forEach((r, i) => {
    args.push('-map', `[v${i}]`, '-map', audio, ...encoding(r), ...liveTsOutput(outputPipe(i)));
  });
  return args;
}

/** Bitrate the channel is announced with before it can be measured. */
export function nominalBitrateKbps(source: InputSource, enc: EncodingOptions): number | undefined {
  if (enc.copy) return undefined;
  if (source.kind === 'testsrc') {
    return (
      (enc.videoBitrateKbps ?? DEFAULT_TEST_PATTERN.videoBitrateKbps) + (enc.audioBitrateKbps ?? DEFAULT_TEST_PATTERN.audioBitrateKbps)
    );
  }
  return (enc.videoBitrateKbps ?? DEFAULT_VIDEO_KBPS) + (enc.audioBitrateKbps ?? DEFAULT_AUDIO_KBPS);
}

function inputPart(source: Exclude<InputSource, { kind: 'testsrc' }>): string[] {
  switch (source.kind) {
    case 'file':
      // -re: a file is played out in real time, as if live.
      return ['-re', ...(source.loop ? ['-stream_loop', '-1'] : []), '-i', source.path];
    case 'stdin':
      // -re as well: `cat recording.ts | meshtv broadcast --input -` must not burst.
      return ['-re', '-f', 'mpegts', '-i', 'pipe:0'];
    case 'udp':
      return ['-f', 'mpegts', '-i', source.url];
    case 'srt':
      return ['-f', 'mpegts', '-i', source.url];
    case 'rtmp':
      // ffmpeg's own RTMP server, for one publisher: OBS pushes to it.
      return ['-f', 'flv', '-listen', '1', '-i', `${rtmpServerUrl(source)}/${source.streamKey}`];
    case 'http':
      // -re: a VOD playlist or a TS file must not be read faster than real time.
      return ['-re', '-rw_timeout', String(HTTP_RW_TIMEOUT_US), '-i', source.url];
    case 'rtsp':
      return ['-rtsp_transport', 'tcp', '-i', source.url];
  }
}

/** "2500k", "2.5M", "800" (kbit/s) -> kbit/s. */
export function parseBitrateKbps(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmM]?)(?:bit\/s|bps|b)?$/.exec(value.trim());
  const n = m === null ? Number.NaN : Number(m[1]) * ((m[2] as string).toLowerCase() === 'm' ? 1000 : 1);
  if (!Number.isFinite(n) || n < 16 || n > 100_000) {
    throw new UserError(`${flag} must be a bitrate from 16k to 100M (e.g. 800k or 2.5M), got "${value}"`);
  }
  return Math.round(n);
}

/** "1280x720" or "720p" -> a resolution (even numbers, as H.264 with 4:2:0 needs). */
export function parseResolution(value: string): Resolution {
  const exact = /^(\d+)x(\d+)$/i.exec(value.trim());
  const height = /^(\d+)p$/i.exec(value.trim());
  const res: Resolution | undefined =
    exact !== null
      ? { width: Number(exact[1]), height: Number(exact[2]) }
      : height !== null
        ? { width: undefined, height: Number(height[1]) }
        : undefined;
  const ok = (n: number | undefined) => n === undefined || (n >= 16 && n <= 8192 && n % 2 === 0);
  if (res === undefined || !ok(res.width) || !ok(res.height)) {
    throw new UserError(`--resolution must be WIDTHxHEIGHT or HEIGHTp with even numbers 16-8192 (e.g. 1280x720 or 720p), got "${value}"`);
  }
  return res;
}

/** "25", "29.97", "30000/1001" -> frames per second. */
export function parseFps(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(value.trim());
  const n = m === null ? Number.NaN : Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2]));
  if (!Number.isFinite(n) || n < 1 || n > 240)
    throw new UserError(`--fps must be a frame rate from 1 to 240 (e.g. 25 or 30000/1001), got "${value}"`);
  return n;
}

function evenWidth(height: number): number {
  return Math.round((height * 16) / 9 / 2) * 2;
}
