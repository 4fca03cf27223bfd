// Which inputs make ffmpeg look up a host name, and the check that refuses them with the bundled
// static ffmpeg (which crashes in that lookup) before ffmpeg is started. No ffmpeg is run.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { UserError } from '../../src/common/errors.js';
import { isBundledFfmpeg } from '../../src/media/ffmpeg.js';
import { checkInput } from '../../src/media/ingest.js';
import { hostToResolve, parseInput } from '../../src/media/input.js';

const parse = (spec: string) => parseInput(spec, { loop: false, makeKey: () => 'generatedkey' });
const bundled = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;

describe('host names in --input', () => {
  test('the host ffmpeg would look up, for each kind of input', () => {
    const cases: [string, string | undefined][] = [
      ['http://localhost:8080/live.m3u8', 'localhost'],
      ['https://cdn.example.com/a.m3u8?token=x', 'cdn.example.com'],
      ['rtsp://cam.local:554/stream1', 'cam.local'],
      ['rtmp://localhost:1935/live', 'localhost'],
      ['udp://receiver.lan:1234', 'receiver.lan'],
      ['srt://relay.example:9000', 'relay.example'],
      // Addresses and "any address": nothing to look up.
      ['http://127.0.0.1:8080/live.m3u8', undefined],
      ['http://[::1]:8080/live.m3u8', undefined],
      ['rtsp://192.168.1.20/stream1', undefined],
      ['rtmp://0.0.0.0:1935/live', undefined],
      ['rtmp://[::]:1935/live', undefined],
      ['udp://@239.1.2.3:5000', undefined],
      ['udp://@:5000', undefined],
      ['srt://:9000?mode=listener', undefined],
      ['testsrc', undefined],
      ['-', undefined],
      ['clips/localhost.mp4', undefined],
    ];
    for (const [spec, host] of cases) assert.equal(hostToResolve(parse(spec)), host, spec);
  });

  test('the bundled ffmpeg and a host name: a UserError that says what to do', () => {
    assert.ok(isBundledFfmpeg(bundled));
    assert.throws(
      () => checkInput(parse('http://localhost:8080/live.m3u8?token=secret'), bundled),
      (err: unknown) =>
        err instanceof UserError &&
        err.message ===
          'http://localhost:8080/live.m3u8 (credentials and query hidden) names the host localhost, but the ffmpeg in use is the ' +
            `bundled static build (${bundled}), which cannot resolve host names; install ffmpeg (e.g. apt-get install ffmpeg) ` +
            'so that one is on PATH or in MESHTV_FFMPEG, or give the IP address in place of localhost',
    );
    assert.throws(() => checkInput(parse('rtmp://localhost/live'), bundled), /names the host localhost/);
  });

  test('an IP address with the bundled ffmpeg, or a host name with another ffmpeg: no objection', () => {
    checkInput(parse('http://127.0.0.1:8080/live.m3u8'), bundled);
    checkInput(parse('rtmp://0.0.0.0:1935/live'), bundled);
    assert.equal(isBundledFfmpeg('/usr/bin/ffmpeg'), false);
    checkInput(parse('http://localhost:8080/live.m3u8'), '/usr/bin/ffmpeg');
  });
});
