// The channel's thumbnail in the directory: every so often the broadcaster decodes the newest
// keyframe chunk of its own stream with ffmpeg into a small JPEG, signs it with the channel
// key and posts it to its trackers. Failures only log: a missing thumbnail never stops a channel.

import { spawn } from 'node:child_process';
import { bytesToHex } from '../common/hex.js';
import type { Logger } from '../common/log.js';
import type { ChannelKey } from '../crypto/keys.js';
import { MAX_THUMBNAIL_BYTES, signThumbnail } from '../protocol/thumbnail.js';

export interface ThumbnailOptions {
  ffmpeg: string;
  key: ChannelKey;
  trackers: string[];
  /** The newest chunk payload that starts with a keyframe (MPEG-TS), if any. */
  latestKeyframe: () => Uint8Array | undefined;
  log: Logger;
  /**
   * A directory card needs no fresher picture, and each costs an ffmpeg decode and a post of
   * about 6 KB: every 10 s that was 0.5% of a 0.9 Mbit/s stream's bytes on the broadcaster's
   * interface (bench/browsers.ts --netns). @default 30000
   */
  intervalMs?: number;
}

export function startThumbnails(o: ThumbnailOptions): { stop(): void } {
  let busy = false;
  const tick = async () => {
    const ts = o.latestKeyframe();
    if (busy || ts === undefined) return;
    busy = true;
    try {
      const jpeg = await snapshot(o.ffmpeg, ts);
      const issuedAtMs = Date.now();
      const signature = bytesToHex(signThumbnail(issuedAtMs, jpeg, o.key.sign));
      await Promise.allSettled(
        o.trackers.map((t) =>
          fetch(new URL(`/api/channels/${o.key.channelId}/thumbnail.jpg`, t), {
            method: 'POST',
            headers: { 'content-type': 'image/jpeg', 'x-meshtv-issued-at': String(issuedAtMs), 'x-meshtv-signature': signature },
            body: Buffer.from(jpeg),
            signal: AbortSignal.timeout(5000),
          }),
        ),
      );
    } catch (err) {
      o.log.debug(`thumbnail: ${(err as Error).message}`);
    } finally {
      busy = false;
    }
  };
  const first = setTimeout(() => void tick(), 2000);
  const timer = setInterval(() => void tick(), o.intervalMs ?? 30_000);
  timer.unref();
  first.unref();
  return {
    stop: () => {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}

/** Decodes the first video frame of an MPEG-TS piece into a 320-pixel-wide JPEG. */
export function snapshot(ffmpeg: string, ts: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'mpegts',
      '-i',
      'pipe:0',
      '-frames:v',
      '1',
      '-vf',
      'scale=320:-2',
      '-q:v',
      '5',
      '-f',
      'image2',
      '-c:v',
      'mjpeg',
      'pipe:1',
    ];
    const proc = spawn(ffmpeg, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let size = 0;
    let err = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= MAX_THUMBNAIL_BYTES) out.push(d);
    });
    proc.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-500);
    });
    proc.stdin.on('error', () => {});
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && size > 0 && size <= MAX_THUMBNAIL_BYTES) resolve(new Uint8Array(Buffer.concat(out)));
      else reject(new Error(`ffmpeg could not cut a thumbnail (${code}): ${err.trim()}`));
    });
    proc.stdin.end(ts);
  });
}
