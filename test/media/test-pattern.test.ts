// The test pattern carries the bitrate asked for: benchmarks run at "1.5 Mbit/s" must carry
// 1.5 Mbit/s, though the pattern is easy enough to code in a third of that.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { DEFAULT_TEST_PATTERN, ffmpegPath, testPatternArgs } from '../../src/media/ffmpeg.js';

test('the test pattern is sent at the video and audio bitrates asked for', () => {
  const o = { ...DEFAULT_TEST_PATTERN, videoBitrateKbps: 1500 };
  const seconds = 4;
  // Faster than real time, and a fixed length: -re off, -t before the output.
  const args = testPatternArgs(o).filter((a) => a !== '-re');
  args.splice(args.length - 1, 0, '-t', String(seconds));
  const run = spawnSync(ffmpegPath(), args, { maxBuffer: 64 * 1024 * 1024 });
  assert.equal(run.status, 0, run.stderr.toString());
  const kbps = (run.stdout.length * 8) / seconds / 1000;
  const asked = o.videoBitrateKbps + o.audioBitrateKbps;
  // MPEG-TS packaging adds a few per cent on top.
  assert.ok(kbps > 0.9 * asked && kbps < 1.25 * asked, `${Math.round(kbps)} kbit/s for ${asked} kbit/s asked`);
});
