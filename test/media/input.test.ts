// --input parsing and the ffmpeg command lines built for each input kind and encoding choice;
// the flag parsers for bitrates, sizes and frame rates. Pure functions: no ffmpeg is run.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UserError } from '../../src/common/errors.js';
import {
  DEFAULT_ENCODING,
  type EncodingOptions,
  ffmpegArgs,
  nominalBitrateKbps,
  parseBitrateKbps,
  parseFps,
  parseResolution,
} from '../../src/media/encoding.js';
import { testPatternArgs } from '../../src/media/ffmpeg.js';
import { describeInput, endsByItself, type InputSource, parseInput, redactUrls, waitsForSender } from '../../src/media/input.js';
import { parseRenditions } from '../../src/media/renditions.js';

const opts = { loop: false, makeKey: () => 'generatedkey' };
const parse = (spec: string | undefined, loop = false) => parseInput(spec, { ...opts, loop });
const enc = (o: Partial<EncodingOptions> = {}): EncodingOptions => ({ ...DEFAULT_ENCODING, ...o });

/** The value following `flag` in an argument list. */
function after(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof UserError && pattern.test(err.message));
}

describe('parseInput', () => {
  test('each kind of input', () => {
    assert.deepEqual(parse(undefined), { kind: 'testsrc' });
    assert.deepEqual(parse('testsrc'), { kind: 'testsrc' });
    assert.deepEqual(parse('-'), { kind: 'stdin' });
    assert.deepEqual(parse('clips/news.mp4'), { kind: 'file', path: 'clips/news.mp4', loop: false });
    assert.deepEqual(parse('/tmp/a b.ts', true), { kind: 'file', path: '/tmp/a b.ts', loop: true });
    assert.deepEqual(parse('file:///tmp/a%20b.ts'), { kind: 'file', path: '/tmp/a b.ts', loop: false });
    assert.deepEqual(parse('https://example.com/live/index.m3u8?token=x'), {
      kind: 'http',
      url: 'https://example.com/live/index.m3u8?token=x',
    });
    assert.deepEqual(parse('rtsp://cam.local:554/stream1'), { kind: 'rtsp', url: 'rtsp://cam.local:554/stream1' });
    assert.deepEqual(parse('srt://relay.example:9000'), { kind: 'srt', url: 'srt://relay.example:9000', listener: false });
    assert.deepEqual(parse('srt://:9000?mode=listener'), { kind: 'srt', url: 'srt://:9000?mode=listener', listener: true });
  });

  test('UDP: live-reception options added, unicast bound locally, multicast joined', () => {
    const u = (spec: string) => (parse(spec) as Extract<InputSource, { kind: 'udp' }>).url;
    assert.equal(u('udp://127.0.0.1:1234'), 'udp://127.0.0.1:1234?fifo_size=1000000&overrun_nonfatal=1&localaddr=127.0.0.1');
    assert.equal(u('udp://0.0.0.0:1234'), 'udp://0.0.0.0:1234?fifo_size=1000000&overrun_nonfatal=1');
    assert.equal(u('udp://@239.1.2.3:5000'), 'udp://239.1.2.3:5000?fifo_size=1000000&overrun_nonfatal=1');
    assert.equal(u('udp://@:5000'), 'udp://0.0.0.0:5000?fifo_size=1000000&overrun_nonfatal=1');
    assert.equal(u('udp://239.1.2.3:5000?fifo_size=50000'), 'udp://239.1.2.3:5000?fifo_size=50000&overrun_nonfatal=1');
    rejects(() => parse('udp://127.0.0.1'), /expected udp:\/\/host:port/);
    rejects(() => parse('udp://127.0.0.1:70000'), /port must be 1-65535/);
  });

  test('RTMP: listen address, application and stream key; a key is made up when none is given', () => {
    assert.deepEqual(parse('rtmp://0.0.0.0:1935/live/s3cret'), {
      kind: 'rtmp',
      host: '0.0.0.0',
      port: 1935,
      app: 'live',
      streamKey: 's3cret',
      keyGenerated: false,
    });
    assert.deepEqual(parse('rtmp://127.0.0.1'), {
      kind: 'rtmp',
      host: '127.0.0.1',
      port: 1935,
      app: 'live',
      streamKey: 'generatedkey',
      keyGenerated: true,
    });
    rejects(() => parse('rtmp://0.0.0.0:1935/live/bad%20key'), /stream key may hold/);
    rejects(() => parse('rtmp://0.0.0.0:0/live/k'), /port must be/);
  });

  test('mistakes are named', () => {
    rejects(() => parse(''), /--input is empty/);
    rejects(() => parse('ftp://example.com/a.ts'), /ftp:\/\/ is not supported/);
    rejects(() => parse('udp://0.0.0.0:1234', true), /--loop applies to a file/);
    rejects(() => parse('testsrc', true), /--loop applies to a file/);
    rejects(() => parse('-', true), /--loop applies to a file/);
    rejects(() => parse('http://exa mple.com/x'), /not a valid URL/);
  });

  test('which inputs end by themselves, which wait for a sender', () => {
    const kinds = [
      'testsrc',
      'a.mp4',
      '-',
      'udp://0.0.0.0:1',
      'srt://h:1',
      'srt://:1?mode=listener',
      'rtmp://0.0.0.0/live/k',
      'http://h/x',
    ];
    assert.deepEqual(
      kinds.map((k) => endsByItself(parse(k))),
      [false, true, true, false, false, false, false, false],
    );
    assert.equal(endsByItself(parse('a.mp4', true)), false);
    assert.deepEqual(
      kinds.map((k) => waitsForSender(parse(k))),
      [false, false, true, true, false, true, true, false],
    );
  });

  test('descriptions hide passwords and stream keys', () => {
    assert.equal(
      describeInput(parse('http://user:pw@example.com/live.m3u8')),
      'http://example.com/live.m3u8 (credentials and query hidden)',
    );
    assert.equal(
      describeInput(parse('https://cdn.example/live.m3u8?token=s3cret')),
      'https://cdn.example/live.m3u8 (credentials and query hidden)',
    );
    assert.equal(
      describeInput(parse('srt://203.0.113.5:9000?mode=caller&passphrase=s3cret')),
      'srt://203.0.113.5:9000 (credentials and query hidden)',
    );
    assert.equal(
      redactUrls("srt://203.0.113.5:9000?passphrase=s3cret: Connection refused (from 'https://u:p@x/y?token=t')"),
      "srt://203.0.113.5:9000 (credentials and query hidden) Connection refused (from 'https://x/y (credentials and query hidden)')",
    );
    assert.equal(describeInput(parse('rtmp://0.0.0.0:1935/live/s3cret')), 'RTMP push on rtmp://0.0.0.0:1935/live');
    assert.equal(describeInput(parse('a.mp4', true)), 'file a.mp4 (looped)');
    assert.equal(describeInput(parse('udp://127.0.0.1:1234')), 'udp://127.0.0.1:1234');
  });
});

describe('ffmpegArgs', () => {
  test('a ladder: one decode split and scaled per rendition, one output per pipe, same keyframe clock', () => {
    const ladder = parseRenditions('hd=720p@2500k,sd=360p@700k');
    assert.deepEqual(
      ladder.map((r) => r.name),
      ['sd', 'hd'],
      'lowest first',
    );
    const args = ffmpegArgs(parse('rtsp://cam.local/stream'), enc({ renditions: ladder }));
    assert.equal(args[args.indexOf('-filter_complex') + 1], '[0:v:0]split=2[s0][s1];[s0]scale=-2:360[v0];[s1]scale=-2:720[v1]');
    const outputs = args.filter((a) => a.startsWith('pipe:'));
    assert.deepEqual(outputs, ['pipe:1', 'pipe:3'], 'stdout, then fd 3 (fd 2 is the log)');
    assert.deepEqual(
      args.flatMap((a, i) => (a === '-b:v' ? [args[i + 1]] : [])),
      ['700k', '2500k'],
    );
    assert.equal(args.filter((a) => a === 'expr:gte(t,n_forced*1)').length, 2, 'both outputs keyframe on the same clock');
    const pattern = ffmpegArgs(parse('testsrc'), enc({ renditions: ladder }));
    assert.ok(pattern.includes('testsrc=size=1280x720:rate=25'), 'the pattern is drawn at the top size');
    for (const [o, flag] of [
      [{ copy: true }, '--copy'],
      [{ resolution: parseResolution('480p') }, '--resolution'],
      [{ videoBitrateKbps: 900 }, '--video-bitrate'],
    ] as const) {
      assert.throws(
        () => ffmpegArgs(parse('rtsp://cam.local/stream'), enc({ renditions: ladder, ...o })),
        (err: unknown) => err instanceof UserError && err.message.includes(`drop ${flag}`),
      );
    }
  });

  test('bad ladders are named', () => {
    for (const [spec, reason] of [
      ['720p', /2-6 entries/],
      ['720p,720p', /names must differ/],
      ['a=360p@800k,b=480p@800k', /same rate/],
      ['360p,hd=721p', /height must be even/],
      ['x y=360p,720p', /name "x y" may hold/],
      ['360,720p', /must be \[NAME=\]HEIGHTp/],
      ['360p@0.001k,720p', /rate must be 16k-100M/],
    ] as const) {
      assert.throws(
        () => parseRenditions(spec),
        (err: unknown) => err instanceof UserError && reason.test(err.message),
        spec,
      );
    }
  });

  test('the test pattern keeps its own command line, with size, rate and bitrate from the flags', () => {
    assert.deepEqual(ffmpegArgs(parse('testsrc'), enc()), testPatternArgs());
    const args = ffmpegArgs(parse('testsrc'), enc({ resolution: { width: undefined, height: 720 }, fps: 30, videoBitrateKbps: 2000 }));
    assert.match(args.join(' '), /testsrc=size=1280x720:rate=30/);
    assert.equal(after(args, '-b:v'), '2000k');
    assert.equal(after(args, '-g'), '30');
    rejects(() => ffmpegArgs(parse('testsrc'), enc({ copy: true })), /--copy needs an --input/);
  });

  test('every other input: first video and audio stream, H.264 (x264 low latency, 1 s keyframes) + AAC, MPEG-TS on stdout', () => {
    const args = ffmpegArgs(parse('a.mp4'), enc());
    const line = args.join(' ');
    assert.match(line, /-loglevel level\+info/);
    assert.match(line, /-nostdin -re -i a\.mp4 -map 0:v:0\? -map 0:a:0\? -sn -dn/);
    assert.match(line, /-c:v libx264 -preset veryfast -tune zerolatency -pix_fmt yuv420p/);
    assert.equal(after(args, '-force_key_frames'), 'expr:gte(t,n_forced*1)');
    assert.equal(after(args, '-sc_threshold'), '0');
    assert.equal(after(args, '-b:v'), '2500k');
    assert.equal(after(args, '-maxrate'), '2500k');
    assert.equal(after(args, '-bufsize'), '1250k');
    assert.equal(after(args, '-c:a'), 'aac');
    assert.equal(after(args, '-b:a'), '128k');
    assert.equal(after(args, '-vf'), undefined, 'the input size and rate are kept');
    assert.equal(after(args, '-g'), undefined);
    assert.deepEqual(args.slice(-7), ['-f', 'mpegts', '-muxdelay', '0', '-flush_packets', '1', 'pipe:1']);
  });

  test('resolution, frame rate and bitrates when re-encoding', () => {
    const args = ffmpegArgs(
      parse('a.mp4'),
      enc({ resolution: { width: 1280, height: 720 }, fps: 30, videoBitrateKbps: 3000, audioBitrateKbps: 96 }),
    );
    assert.equal(after(args, '-vf'), 'scale=1280:720,fps=30');
    assert.equal(after(args, '-g'), '30');
    assert.equal(after(args, '-keyint_min'), '30');
    assert.equal(after(args, '-b:v'), '3000k');
    assert.equal(after(args, '-b:a'), '96k');
    assert.equal(after(ffmpegArgs(parse('a.mp4'), enc({ resolution: { width: undefined, height: 480 } })), '-vf'), 'scale=-2:480');
  });

  test('--copy passes the streams through, and refuses settings that need re-encoding', () => {
    const args = ffmpegArgs(parse('udp://0.0.0.0:1234'), enc({ copy: true }));
    assert.equal(after(args, '-c'), 'copy');
    assert.equal(args.includes('libx264'), false);
    rejects(() => ffmpegArgs(parse('a.mp4'), enc({ copy: true, fps: 25 })), /--fps needs re-encoding/);
    rejects(() => ffmpegArgs(parse('a.mp4'), enc({ copy: true, videoBitrateKbps: 900 })), /--video-bitrate needs re-encoding/);
  });

  test('input options per kind', () => {
    const input = (spec: string, loop = false) => {
      const args = ffmpegArgs(parse(spec, loop), enc());
      return args.slice(args.indexOf('-loglevel') + 2, args.indexOf('-map')).join(' ');
    };
    assert.equal(input('a.mp4', true), '-nostdin -re -stream_loop -1 -i a.mp4');
    assert.equal(input('-'), '-re -f mpegts -i pipe:0');
    assert.equal(input('udp://@239.0.0.1:1234'), '-nostdin -f mpegts -i udp://239.0.0.1:1234?fifo_size=1000000&overrun_nonfatal=1');
    assert.equal(input('srt://h:9000'), '-nostdin -f mpegts -i srt://h:9000');
    assert.equal(input('rtmp://0.0.0.0:1935/live/k'), '-nostdin -f flv -listen 1 -i rtmp://0.0.0.0:1935/live/k');
    assert.equal(input('rtmp://[::]:1935/live/k'), '-nostdin -f flv -listen 1 -i rtmp://[::]:1935/live/k');
    assert.equal(input('http://h/live.m3u8'), '-nostdin -re -rw_timeout 15000000 -i http://h/live.m3u8');
    assert.equal(input('rtsp://cam/1'), '-nostdin -rtsp_transport tcp -i rtsp://cam/1');
  });

  test('announced bitrate before measurement', () => {
    assert.equal(nominalBitrateKbps(parse('testsrc'), enc()), 896);
    assert.equal(nominalBitrateKbps(parse('a.mp4'), enc()), 2628);
    assert.equal(nominalBitrateKbps(parse('a.mp4'), enc({ copy: true })), undefined);
  });
});

describe('flag parsers', () => {
  test('bitrates', () => {
    assert.equal(parseBitrateKbps('800k', '--video-bitrate'), 800);
    assert.equal(parseBitrateKbps('800', '--video-bitrate'), 800);
    assert.equal(parseBitrateKbps('2.5M', '--video-bitrate'), 2500);
    assert.equal(parseBitrateKbps('96kbit/s', '--audio-bitrate'), 96);
    rejects(() => parseBitrateKbps('fast', '--video-bitrate'), /--video-bitrate must be a bitrate/);
    rejects(() => parseBitrateKbps('2G', '--video-bitrate'), /--video-bitrate must be a bitrate/);
    rejects(() => parseBitrateKbps('1k', '--audio-bitrate'), /--audio-bitrate must be a bitrate from 16k/);
  });

  test('resolutions', () => {
    assert.deepEqual(parseResolution('1280x720'), { width: 1280, height: 720 });
    assert.deepEqual(parseResolution('720p'), { width: undefined, height: 720 });
    rejects(() => parseResolution('1281x720'), /even numbers/);
    rejects(() => parseResolution('hd'), /--resolution must be/);
  });

  test('frame rates', () => {
    assert.equal(parseFps('25'), 25);
    assert.ok(Math.abs(parseFps('30000/1001') - 29.97) < 0.01);
    rejects(() => parseFps('0'), /--fps must be/);
    rejects(() => parseFps('many'), /--fps must be/);
  });
});
