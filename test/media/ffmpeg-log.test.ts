// FfmpegLog on stderr as the bundled ffmpeg writes it with -loglevel level+info: the line that
// explains a failure, the input's codecs, and refused RTMP publishers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FfmpegLog } from '../../src/media/ffmpeg-log.js';

test('the explanation is the last error, else the last warning, else the last line', () => {
  const log = new FfmpegLog();
  log.push('[mpegts @ 0x2ac6db80] [warning] Could not detect TS packet size, defaulting to non-FEC/DVHS\n');
  assert.equal(log.explanation(), 'Could not detect TS packet size, defaulting to non-FEC/DVHS');
  log.push(
    '[tcp @ 0x38ed2100] [error] Connection to tcp://127.0.0.1:1 failed: Connection refused\n[error] http://127.0.0.1:1/x.m3u8: Conn',
  );
  assert.equal(log.explanation(), 'Connection to tcp://127.0.0.1:1 failed: Connection refused');
  log.push('ection refused\n    Last message repeated 1 times\n[info] video:12kB audio:8kB\n');
  assert.equal(log.explanation(), 'http://127.0.0.1:1/x.m3u8: Connection refused');

  const plain = new FfmpegLog();
  plain.push('something went wrong without a level');
  assert.equal(plain.explanation(), undefined, 'an unfinished line waits for its end');
  plain.end();
  assert.equal(plain.explanation(), 'something went wrong without a level');
});

test('input stream codecs, not output ones', () => {
  const log = new FfmpegLog();
  const events = log.push(
    [
      "[info] Input #0, flv, from 'rtmp://127.0.0.1:19354/live/secret':",
      '[info]   Duration: 00:00:00.00, start: 0.059000, bitrate: N/A',
      '[info]     Stream #0:0: Video: h264 (High), yuv420p(progressive), 320x240 [SAR 1:1 DAR 4:3], 57 kb/s, 25 fps',
      '[info]     Stream #0:1: Audio: aac (LC), 48000 Hz, mono, fltp, 66 kb/s',
      "[info] Input #1, mpegts, from 'udp://0.0.0.0:1234':",
      '[info]     Stream #1:0[0x100]: Video: mpeg2video (Main) ([2][0][0][0] / 0x0002), yuv420p(tv, top first), 720x576',
      '[info]     Stream #1:1[0x101](fra): Audio: mp2 ([3][0][0][0] / 0x0003), 48000 Hz, stereo, s16p, 192 kb/s',
      "[info] Output #0, mpegts, to 'pipe:1':",
      '[info]     Stream #0:0: Video: h264 (libx264), yuv420p, 320x240, q=-1--1, 25 fps',
      '[info] Stream mapping:',
      '',
    ].join('\n'),
  );
  assert.deepEqual(events, [
    { type: 'input-stream', index: 0, media: 'video', codec: 'h264' },
    { type: 'input-stream', index: 1, media: 'audio', codec: 'aac' },
    { type: 'input-stream', index: 0, media: 'video', codec: 'mpeg2video' },
    { type: 'input-stream', index: 1, media: 'audio', codec: 'mp2' },
  ]);
});

test('an RTMP publisher with the wrong stream key or application', () => {
  const log = new FfmpegLog();
  assert.deepEqual(log.push('[rtmp @ 0x2979c500] [warning] Unexpected stream wrong, expecting secret\r\n'), [
    { type: 'rtmp-rejected', what: 'stream key', got: 'wrong' },
  ]);
  assert.deepEqual(log.push("[rtmp @ 0x385c5540] [error] App field don't match up: other <-> live\n"), [
    { type: 'rtmp-rejected', what: 'application', got: 'other' },
  ]);
});
