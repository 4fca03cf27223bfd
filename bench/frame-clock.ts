// A source whose every frame carries its number, and the reader that finds it in a tab's <video>:
// lag and skipped frames measured from outside meshtv, as a viewer's eyes would.
//
// ffmpeg draws the frame number in the top 32 rows as FRAME_BITS white or black squares of 32 px
// (bit k at x = 32k), generating the pattern in real time (-re), and sends the MPEG-TS to the
// broadcaster over UDP (--input udp://... --copy), as a live encoder would: what is sent before
// the broadcaster listens is lost, never queued (a pipe would hold it, and the broadcaster,
// reading its stdin in real time, would then run seconds behind for good). The same stream
// also comes to us on ffmpeg's stdout, and frame n is captured at t0 + n / fps, t0 being when
// its first bytes came out: the lag read back runs from there to the frame being painted.

import { type ChildProcess, spawn } from 'node:child_process';
import type { Page } from 'playwright-core';

export const FRAME_BITS = 20;
const BLOCK_PX = 32;

/** ffmpeg's arguments for the frame-numbered test pattern (640x360, 1 s GOP, H.264 + AAC in MPEG-TS on stdout). */
function frameNumberedArgs(fps: number, udpUrl: string): string[] {
  const bits = Array.from(
    { length: FRAME_BITS },
    (_, k) => `drawbox=x=${k * BLOCK_PX}:y=0:w=${BLOCK_PX}:h=${BLOCK_PX}:color=white:t=fill:enable='mod(floor(n/${2 ** k}),2)'`,
  );
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...['-re', '-f', 'lavfi', '-i', `testsrc=size=640x360:rate=${fps}`],
    ...['-re', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000'],
    '-vf',
    [`drawbox=x=0:y=0:w=${FRAME_BITS * BLOCK_PX}:h=${BLOCK_PX}:color=black:t=fill`, ...bits].join(','),
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
    ...['-g', String(fps), '-keyint_min', String(fps), '-sc_threshold', '0', '-b:v', '800k', '-maxrate', '800k', '-bufsize', '400k'],
    ...['-c:a', 'aac', '-b:a', '96k', '-map', '0:v', '-map', '1:a', '-f', 'tee', `[f=mpegts]${udpUrl}|[f=mpegts]pipe:1`],
  ];
}

export interface FrameSource {
  readonly ffmpeg: ChildProcess;
  /** Wall-clock time (ms) of frame 0: when ffmpeg's first bytes came out. */
  readonly t0: Promise<number>;
}

/** Starts the frame-numbered source, sending to `udpUrl` (udp://HOST:PORT?pkt_size=1316). */
export function startFrameSource(fps: number, udpUrl: string): FrameSource {
  const ffmpeg = spawn('ffmpeg', frameNumberedArgs(fps, udpUrl), { stdio: ['ignore', 'pipe', 'inherit'] });
  const t0 = new Promise<number>((resolve) => ffmpeg.stdout?.once('data', () => resolve(Date.now())));
  // Read and dropped: only the first bytes' time matters.
  ffmpeg.stdout?.resume();
  return { ffmpeg, t0 };
}

/**
 * What a tab saw: each painted frame's number, when it was painted (wall clock, ms), and the
 * <video>'s count of frames presented so far (requestVideoFrameCallback's presentedFrames).
 */
export interface FrameSamples {
  frames: [number, number, number][];
}

/**
 * Starts reading the number of every frame the tab's <video> paints (requestVideoFrameCallback).
 * Plain JavaScript in a string: the TypeScript loader would add helpers the page lacks.
 */
export async function watchFrames(page: Page): Promise<void> {
  await page.waitForSelector('video');
  await page.evaluate(`(() => {
    const bits = ${FRAME_BITS}, block = ${BLOCK_PX};
    const video = document.querySelector('video');
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const store = { frames: [] };
    window.benchFrames = store;
    function onFrame(_now, meta) {
      const paintedAt = Date.now();
      if (video.videoWidth > 0) {
        canvas.width = video.videoWidth;
        canvas.height = block;
        ctx.drawImage(video, 0, 0, video.videoWidth, block, 0, 0, video.videoWidth, block);
        const row = ctx.getImageData(0, block / 2, bits * block, 1).data;
        let n = 0;
        for (let k = 0; k < bits; k++) if (row[(k * block + block / 2) * 4] > 128) n += 2 ** k;
        store.frames.push([n, paintedAt, meta.presentedFrames]);
      }
      video.requestVideoFrameCallback(onFrame);
    }
    video.requestVideoFrameCallback(onFrame);
  })()`);
}

export async function readFrames(page: Page): Promise<FrameSamples> {
  return page.evaluate(() => (window as unknown as { benchFrames: FrameSamples }).benchFrames);
}

/**
 * Lags (painted at minus captured at, ms) of the frames painted in [fromMs, toMs], and the
 * numbers missing among them: `skipped`, never presented by the <video>, and `unread`, presented
 * but gone before this page's callback could read them (a busy tab; not a fault of playback).
 */
export function frameFigures(
  s: FrameSamples,
  t0: number,
  fps: number,
  fromMs: number,
  toMs: number,
): { lags: number[]; skipped: number; unread: number } {
  const lags: number[] = [];
  let skipped = 0;
  let unread = 0;
  let last: [number, number] | undefined;
  for (const [n, at, presented] of s.frames) {
    if (at < fromMs || at > toMs) continue;
    lags.push(at - (t0 + (n * 1000) / fps));
    if (last !== undefined && n > last[0] + 1) {
      const missing = n - last[0] - 1;
      const presentedBetween = Math.min(missing, Math.max(0, presented - last[1] - 1));
      unread += presentedBetween;
      skipped += missing - presentedBetween;
    }
    if (last === undefined || n > last[0]) last = [n, presented];
  }
  return { lags, skipped, unread };
}
