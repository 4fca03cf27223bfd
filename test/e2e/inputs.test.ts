// Every kind of broadcaster input end to end, with real processes: a source made with ffmpeg
// (a file, UDP, stdin, an RTMP push, an HLS URL served here) goes through `meshtv broadcast`
// and `meshtv watch`, and ffmpeg decodes 10 s from both /stream.ts and /live.m3u8 without an
// error. A file without --loop ends the channel cleanly. The pipelines run side by side.

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ffmpegInputProtocols, ffmpegPath } from '../../src/media/ffmpeg.js';
import type { BroadcastStats } from '../../src/native/broadcaster.js';
import type { ViewerStats } from '../../src/native/viewer.js';
import {
  type DecodeResult,
  decode,
  failsWithOneError,
  getJson,
  makeTestClip,
  meshtv,
  type Proc,
  ROOT,
  stopAll,
  tempDir,
  waitUntil,
} from '../helpers/processes.js';

const children = new Set<ChildProcess>();
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await stopAll();
});

/** A helper ffmpeg (a source or a pusher), killed when the tests end. */
function ffmpeg(args: string[], stdout: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  const child = spawn(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], { stdio: ['ignore', stdout, 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const { port } = s.address();
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function assertDecoded(r: DecodeResult, what: string, fps: number): void {
  assert.equal(r.exitCode, 0, `${what}: ffmpeg failed: ${r.errors}`);
  assert.equal(r.errors, '', `${what}: ffmpeg reported decode errors`);
  assert.ok(r.videoFrames >= 10 * fps * 0.9, `${what}: decoded only ${r.videoFrames} video frames in 10 s`);
  assert.ok(r.audioFrames > 0, `${what}: no audio decoded`);
  for (let i = 1; i < r.videoPtsS.length; i++) {
    assert.ok((r.videoPtsS[i] as number) > (r.videoPtsS[i - 1] as number), `${what}: video timestamps do not advance at frame ${i}`);
  }
  const span = (r.videoPtsS.at(-1) as number) - (r.videoPtsS[0] as number);
  assert.ok(span >= 9.4, `${what}: decoded video spans only ${span.toFixed(2)} s`);
}

describe('broadcaster inputs, end to end', { concurrency: true, timeout: 150_000 }, () => {
  const dir = tempDir('inputs');
  const clip = path.join(dir, 'clip.mp4');
  let trackerUrl: string;
  const key = (name: string) => ['--key', path.join(dir, `${name}.key`)];

  before(async () => {
    // An 8 s clip, H.264 (1 s GOP) + AAC: the material every source below is made from.
    makeTestClip(clip, 8);
    const tracker = meshtv(['tracker', '--port', '0']);
    trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  });

  /** Joins the channel a broadcaster printed, and decodes 10 s of both outputs at once; the viewer is left running. */
  async function watchAndDecode(source: Proc | StdinProc, fps: number): Promise<{ proc: Proc; base: string }> {
    const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m, 'stdout', 30_000))[1] as string;
    const viewer = meshtv(['watch', uri, '--http-port', '0']);
    const base = (await viewer.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
    await waitUntil('the viewer plays', async () => (await getJson<ViewerStats>(`${base}/stats.json`)).started, 30_000).catch((e) => {
      throw new Error(`${e.message}\nbroadcaster: ${source.stderr}\nviewer: ${viewer.stderr}`);
    });
    const [ts, hls] = await Promise.all([decode(`${base}/stream.ts`, 10), decode(`${base}/live.m3u8`, 10)]);
    assertDecoded(ts, '/stream.ts', fps);
    assertDecoded(hls, '/live.m3u8', fps);
    return { proc: viewer, base };
  }

  test('a file, looped, re-encoded to another size and frame rate', async () => {
    const b = meshtv([
      'broadcast',
      '--tracker',
      trackerUrl,
      ...key('file'),
      '--name',
      'file',
      '--input',
      clip,
      '--loop',
      '--resolution',
      '256x144',
      '--fps',
      '15',
      '--video-bitrate',
      '300k',
      '--http-port',
      '0',
    ]);
    await watchAndDecode(b, 15);
    const stats = await getJson<BroadcastStats>(`${(await b.waitFor(/stats: (\S+)/, 'stderr'))[1]}`);
    assert.equal(stats.ended, false, 'a looped file never ends');
    assert.equal(stats.inputRestarts, 0, 'looping is ffmpeg’s job, not a restart');
    await b.stop();
  });

  test('MPEG-TS pushed to UDP, passed through with --copy', async () => {
    const port = await freePort('udp');
    ffmpeg(['-re', '-stream_loop', '-1', '-i', clip, '-c', 'copy', '-f', 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`]);
    const b = meshtv([
      'broadcast',
      '--tracker',
      trackerUrl,
      ...key('udp'),
      '--name',
      'udp',
      '--input',
      `udp://127.0.0.1:${port}`,
      '--copy',
    ]);
    await watchAndDecode(b, 25);
    await b.stop();
  });

  test('MPEG-TS on stdin', async () => {
    const pusher = ffmpeg(['-re', '-stream_loop', '-1', '-i', clip, '-c', 'copy', '-f', 'mpegts', 'pipe:1'], 'pipe');
    const b = meshtvWithStdin([
      'broadcast',
      '--tracker',
      trackerUrl,
      ...key('stdin'),
      '--name',
      'stdin',
      '--input',
      '-',
      '--video-bitrate',
      '400k',
    ]);
    pusher.stdout?.pipe(b.child.stdin as NodeJS.WritableStream);
    b.child.stdin?.on('error', () => {}); // the broadcaster may go first at the end
    await watchAndDecode(b, 25);
    await b.stop();
  });

  test('an RTMP push as from OBS, with the stream key checked', async () => {
    const port = await freePort('tcp');
    const b = meshtv([
      'broadcast',
      '--tracker',
      trackerUrl,
      ...key('rtmp'),
      '--name',
      'rtmp',
      '--input',
      `rtmp://127.0.0.1:${port}/live/s3cret`,
      '--copy',
    ]);
    await b.waitFor(/Stream Key: s3cret/, 'stderr', 15_000);
    assert.match(b.stderr, new RegExp(`Server: +rtmp://127\\.0\\.0\\.1:${port}/live\\b`));
    // A push with another key is refused, and the server listens again.
    ffmpeg(['-re', '-t', '3', '-i', clip, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/guess`]);
    await b.waitFor(/refused an RTMP push to stream key "guess"/, 'stderr', 15_000);
    await b.waitFor(/listening again/, 'stderr');
    // OBS retries until the server is back; so does this pusher, until told to stop. (A pusher
    // still running 2 s after its start was once taken for connected: on a loaded machine
    // ffmpeg took 2.3 s to find the server not listening yet, and nothing pushed.)
    const keepPushing = (): { stop(): void } => {
      let stopped = false;
      let pusher: ChildProcess | undefined;
      const start = () => {
        if (stopped) return;
        pusher = ffmpeg(['-re', '-stream_loop', '-1', '-i', clip, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/s3cret`]);
        pusher.on('exit', () => setTimeout(start, 300));
      };
      start();
      return {
        stop: () => {
          stopped = true;
          pusher?.kill('SIGTERM');
        },
      };
    };
    const first = keepPushing();
    const viewer = await watchAndDecode(b, 25);

    // OBS stops and starts streaming again: the server listens again, the viewer carries on,
    // and its playlist marks the new timeline.
    first.stop();
    await b.waitFor(/ended; listening again/, 'stderr');
    const second = keepPushing();
    const played = (await getJson<ViewerStats>(`${viewer.base}/stats.json`)).chunksPlayed;
    await waitUntil(
      'the viewer plays the second push',
      async () => (await getJson<ViewerStats>(`${viewer.base}/stats.json`)).chunksPlayed > played + 8,
      20_000,
    );
    await waitUntil(
      'the playlist marks a discontinuity',
      async () => (await (await fetch(`${viewer.base}/live.m3u8`)).text()).includes('#EXT-X-DISCONTINUITY\n'),
      15_000,
    );
    second.stop();
    await viewer.proc.stop();
    await b.stop();
  });

  test('a live HLS URL relayed', async () => {
    const hlsDir = path.join(dir, 'hls');
    fs.mkdirSync(hlsDir);
    ffmpeg([
      '-re',
      '-stream_loop',
      '-1',
      '-i',
      clip,
      '-c',
      'copy',
      '-f',
      'hls',
      '-hls_time',
      '1',
      '-hls_list_size',
      '6',
      '-hls_flags',
      'delete_segments',
      path.join(hlsDir, 'live.m3u8'),
    ]);
    const server = http.createServer((req, res) => {
      const file = path.join(hlsDir, path.basename(new URL(req.url ?? '/', 'http://x').pathname));
      fs.readFile(file, (err, data) => {
        if (err) res.writeHead(404).end();
        else res.writeHead(200, { 'content-type': file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t' }).end(data);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/live.m3u8`;
      await waitUntil('the source playlist has 3 segments', () => {
        try {
          return (fs.readFileSync(path.join(hlsDir, 'live.m3u8'), 'utf8').match(/#EXTINF/g) ?? []).length >= 3;
        } catch {
          return false;
        }
      });
      const b = meshtv(['broadcast', '--tracker', trackerUrl, ...key('hls'), '--name', 'hls', '--input', url, '--video-bitrate', '400k']);
      await watchAndDecode(b, 25);
      await b.stop();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test('a file without --loop: the channel ends cleanly for the broadcaster, the viewer and its players', async () => {
    // 20 s, so that a viewer slow to start on a loaded machine still joins well before the end
    // (with the 8 s clip the channel once ended before the players asked, and they got a 410).
    const longClip = path.join(dir, 'clip-20s.mp4');
    makeTestClip(longClip, 20);
    const b = meshtv(['broadcast', '--tracker', trackerUrl, ...key('end'), '--name', 'end', '--input', longClip, '--copy']);
    const uri = (await b.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
    const viewer = meshtv(['watch', uri, '--http-port', '0']);
    // A viewer with a player that would stay on its last frame for ever (as ffplay does).
    const bin = path.join(dir, 'player-bin');
    const record = path.join(dir, 'player.txt');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'ffplay'), `#!/bin/sh\ntrap 'echo stopped > "${record}"; exit 0' TERM\nwhile :; do sleep 0.2; done\n`, {
      mode: 0o755,
    });
    const withPlayer = meshtv(['watch', uri, '--http-port', '0', '--player', 'ffplay'], { PATH: `${bin}:${process.env.PATH}` });
    const base = (await viewer.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
    await waitUntil('the viewer plays', async () => (await getJson<ViewerStats>(`${base}/stats.json`)).started);
    // Players that ask for far more than is left: they get the rest, then the end.
    const startedAt = Date.now();
    const decodes = Promise.all([decode(`${base}/stream.ts`, 60), decode(`${base}/live.m3u8`, 60)]);
    assert.equal(await viewer.exited, 0, `viewer: ${viewer.stderr}`);
    assert.match(viewer.stderr, /channel ended/);
    const [ts, hls] = await decodes;
    assert.ok(Date.now() - startedAt < 30_000, 'the players were not told of the end');
    for (const [what, r] of [
      ['/stream.ts', ts],
      ['/live.m3u8', hls],
    ] as const) {
      assert.equal(r.exitCode, 0, `${what}: ${r.errors}`);
      assert.equal(r.errors, '', `${what}: decode errors`);
      assert.ok(r.videoFrames >= 25, `${what}: only ${r.videoFrames} frames before the end`);
    }
    assert.equal(await b.exited, 0, `broadcaster: ${b.stderr}`);
    assert.match(b.stderr, /ended: channel ended/);
    assert.equal(await withPlayer.exited, 0, `viewer with a player: ${withPlayer.stderr}`);
    assert.match(withPlayer.stderr, /channel ended/);
    assert.equal(fs.readFileSync(record, 'utf8').trim(), 'stopped', 'the player was left running');
  });

  test('srt:// with an ffmpeg that lacks SRT: one clear error', async (t) => {
    if (ffmpegInputProtocols(ffmpegPath()).has('srt')) {
      t.skip('this ffmpeg has SRT');
      return;
    }
    await failsWithOneError(['broadcast', '--tracker', trackerUrl, ...key('srt'), '--input', 'srt://127.0.0.1:9000'], /has no SRT support/);
  });

  test('inputs that fail at once: one clear error each', async () => {
    const closed = await freePort('tcp');
    await Promise.all([
      failsWithOneError(
        ['broadcast', '--tracker', trackerUrl, ...key('bad1'), '--input', `http://127.0.0.1:${closed}/live.m3u8`],
        /cannot read http:\/\/127\.0\.0\.1:\d+\/live\.m3u8: Connection refused \(ffmpeg exited with code 1\); check the URL$/,
      ),
      failsWithOneError(
        ['broadcast', '--tracker', trackerUrl, ...key('bad2'), '--input', path.join(dir, 'missing.mp4')],
        /input file .*missing\.mp4 not found/,
      ),
      failsWithOneError(['broadcast', '--tracker', trackerUrl, ...key('bad3'), '--input', dir], /is a directory/),
      failsWithOneError(
        ['broadcast', '--tracker', trackerUrl, ...key('bad4'), '--input', path.join(ROOT, 'package.json')],
        /cannot read file .*package\.json: .*\(ffmpeg exited with code 1\); is it a video file/,
      ),
      (async () => {
        // stdin waits for a sender, so how soon ffmpeg gives up decides whether the broadcast
        // said it started first: either way it ends with this one error.
        const p = meshtv(['broadcast', '--tracker', trackerUrl, ...key('bad5'), '--input', '-']);
        assert.equal(await p.exited, 1, p.stderr);
        assert.match(
          p.stderr.trim().split('\n').pop() as string,
          /^meshtv: error: cannot read MPEG-TS on stdin: .*\(ffmpeg exited with code 1\); pipe MPEG-TS into meshtv/,
        );
        assert.equal(p.stderr.match(/error/g)?.length, 1, p.stderr);
      })(),
      failsWithOneError(
        ['broadcast', '--tracker', trackerUrl, ...key('bad6'), '--input', clip, '--copy', '--fps', '30'],
        /--fps needs re-encoding/,
      ),
    ]);
  });

  test('an input with no audio or video (a text file, a picture) is an error, not a channel that ends at once', async () => {
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'hello\nworld\n');
    const picture = path.join(dir, 'picture.png');
    execFileSync(ffmpegPath(), ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x64', '-frames:v', '1', '-y', picture]);
    for (const input of [text, picture]) {
      const p = meshtv(['broadcast', '--tracker', trackerUrl, '--no-dht', ...key(path.basename(input)), '--input', input]);
      assert.equal(await p.exited, 1, `meshtv broadcast --input ${input}: ${p.stderr}`);
      assert.match(
        p.stderr.trim().split('\n').pop() as string,
        // ffmpeg 4 reads a text file and finds no stream in it; ffmpeg 5 refuses it at once.
        /^meshtv: error: (file .* gave no audio or video to broadcast|cannot read file .*: .*\(ffmpeg exited with code 1\)); is it a video file( ffmpeg can read)?\?$/,
      );
      assert.doesNotMatch(p.stderr, /channel ended/);
    }
  });

  test("a second broadcaster with the same key is refused, naming the first one's pid", async () => {
    const first = meshtv(['broadcast', '--tracker', trackerUrl, '--no-dht', ...key('shared')]);
    await first.waitFor(/^(meshtv:\/\/\S+)$/m, 'stdout', 30_000);
    const second = meshtv(['broadcast', '--tracker', trackerUrl, '--no-dht', ...key('shared')]);
    const outcome = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    await second.stop();
    assert.equal(outcome, 1, `the second broadcaster was not refused: ${second.stderr}`);
    assert.match(second.stderr, new RegExp(`^meshtv: error: key .*shared\\.key is in use by pid ${first.child.pid}`, 'm'));
    await first.stop();
    // Its lock went with it: the key can broadcast again.
    const again = meshtv(['broadcast', '--tracker', trackerUrl, '--no-dht', ...key('shared')]);
    await again.waitFor(/^(meshtv:\/\/\S+)$/m, 'stdout', 30_000);
    await again.stop();
  });
});

/** `meshtv` with a pipe for stdin (the shared helper gives it none). */
interface StdinProc {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

function meshtvWithStdin(args: string[]): StdinProc {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/meshtv.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const p: StdinProc = {
    child,
    stdout: '',
    stderr: '',
    waitFor: (pattern, stream = 'stdout', timeoutMs = 15_000) =>
      waitUntil(`${pattern} on ${stream} of meshtv ${args.join(' ')}`, () => pattern.test(p[stream]), timeoutMs).then(
        () => p[stream].match(pattern) as RegExpMatchArray,
        (e: Error) => {
          throw new Error(`${e.message}\nstderr: ${p.stderr}`);
        },
      ),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.on('exit', r)));
    },
  };
  child.stdout.on('data', (d: Buffer) => {
    p.stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    p.stderr += d.toString();
  });
  return p;
}
