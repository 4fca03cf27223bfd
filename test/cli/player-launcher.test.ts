// `meshtv watch --player`: the command lines for each player, finding them, and with real
// processes a stand-in `ffplay` first on PATH (a shell script that records its arguments and
// plays the URL with the bundled ffmpeg): the viewer starts it on the stream URL, stops when
// it exits, stops it on Ctrl-C, and says clearly when it is missing or fails at once.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findPlayer, isHeadless, parsePlayer, playerArgs } from '../../src/cli/player-launcher.js';
import { UserError } from '../../src/common/errors.js';
import { ffmpegPath } from '../../src/media/ffmpeg.js';
import { meshtv, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

describe('player command lines', () => {
  test('names are checked', () => {
    assert.equal(parsePlayer('VLC'), 'vlc');
    assert.throws(
      () => parsePlayer('quicktime'),
      (e: unknown) => e instanceof UserError && /--player must be vlc, mpv, ffplay/.test(e.message),
    );
  });

  test('arguments per player; ffplay without a display plays sound only, and none quits at the end by itself', () => {
    const url = 'http://127.0.0.1:8902/stream.ts';
    assert.deepEqual(playerArgs('vlc', url, { title: 'meshtv news', headless: false }), [
      '--play-and-exit',
      '--meta-title=meshtv news',
      url,
    ]);
    assert.deepEqual(playerArgs('mpv', url, { title: 'meshtv news', headless: false }), [
      '--title=meshtv news',
      '--force-window=immediate',
      url,
    ]);
    const ffplay = playerArgs('ffplay', url, { title: 'meshtv news', headless: false });
    assert.equal(ffplay.at(-1), url);
    assert.equal(ffplay.includes('-nodisp'), false);
    assert.equal(ffplay.includes('-autoexit'), false);
    assert.equal(ffplay[ffplay.indexOf('-scan_all_pmts') + 1], '0', 'ffplay would read 5 s of stream before its first frame');
    assert.ok(playerArgs('ffplay', url, { title: 't', headless: true }).includes('-nodisp'));
  });

  test('a display is X11 or Wayland on Linux; macOS and Windows always have one', () => {
    assert.equal(isHeadless({}, 'linux'), true);
    assert.equal(isHeadless({ DISPLAY: ':0' }, 'linux'), false);
    assert.equal(isHeadless({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux'), false);
    assert.equal(isHeadless({}, 'darwin'), false);
  });

  test('found on PATH, or a clear error naming how to install it', () => {
    const dir = tempDir('player-path');
    const mpv = path.join(dir, 'mpv');
    fs.writeFileSync(mpv, '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'vlc'), 'not executable', { mode: 0o644 });
    assert.equal(findPlayer('mpv', { PATH: dir }, 'linux'), mpv);
    assert.throws(
      () => findPlayer('vlc', { PATH: dir }, 'linux'),
      (e: unknown) =>
        e instanceof UserError && /vlc is not installed \(not found on PATH\); install it .*or choose another --player/.test(e.message),
    );
  });
});

describe('meshtv watch --player (stand-in ffplay)', { timeout: 90_000 }, () => {
  const dir = tempDir('player');
  let uri: string;

  before(async () => {
    const tracker = meshtv(['tracker', '--port', '0']);
    const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
    const source = meshtv(['broadcast', '--tracker', trackerUrl, '--name', 'player test', '--key', path.join(dir, 'k.key')]);
    uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  });

  /** A directory holding an executable `ffplay` with the given shell body. */
  function standIn(name: string, body: string): string {
    const bin = path.join(dir, name);
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'ffplay'), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return bin;
  }

  test('starts the player on the stream URL and stops when the player exits', async () => {
    const record = path.join(dir, 'plays.txt');
    // Records its arguments, plays 3 s of the last one (the URL) with real ffmpeg, then quits.
    const bin = standIn(
      'plays',
      `printf '%s\\n' "$@" > "${record}.args"
for last; do :; done
"${ffmpegPath()}" -hide_banner -v error -i "$last" -t 3 -f null - 2> "${record}.errors"
echo "exit $?" > "${record}.status"`,
    );
    const viewer = meshtv(['watch', uri, '--http-port', '0', '--player', 'ffplay'], { PATH: `${bin}:${process.env.PATH}`, DISPLAY: '' });
    const url = (await viewer.waitFor(/^(http:\S+\/stream\.ts)$/m))[1] as string;
    assert.equal(await viewer.exited, 0, viewer.stderr);
    assert.match(viewer.stderr, /started ffplay on http:/);
    assert.match(viewer.stderr, /no display .*ffplay plays the sound only/);
    assert.match(viewer.stderr, /ffplay exited; stopping/);
    const args = fs.readFileSync(`${record}.args`, 'utf8').trim().split('\n');
    assert.equal(args.at(-1), url);
    assert.ok(args.includes('-nodisp'), `headless ffplay arguments: ${args.join(' ')}`);
    assert.equal(args.includes('-autoexit'), false);
    assert.equal(fs.readFileSync(`${record}.status`, 'utf8').trim(), 'exit 0');
    assert.equal(fs.readFileSync(`${record}.errors`, 'utf8'), '', 'the player could not decode the stream');
  });

  test('Ctrl-C stops the player too', async () => {
    const record = path.join(dir, 'waits.txt');
    const bin = standIn(
      'waits',
      `trap 'echo terminated > "${record}"; exit 0' TERM INT\necho started > "${record}"\nwhile :; do sleep 0.2; done`,
    );
    const viewer = meshtv(['watch', uri, '--http-port', '0', '--player', 'ffplay'], { PATH: `${bin}:${process.env.PATH}`, DISPLAY: ':0' });
    await viewer.waitFor(/started ffplay/, 'stderr');
    assert.doesNotMatch(viewer.stderr, /no display/);
    await waitUntil('the player runs', () => fs.existsSync(record) && fs.readFileSync(record, 'utf8').includes('started'));
    assert.equal(await viewer.stop('SIGINT'), 0);
    assert.equal(fs.readFileSync(record, 'utf8').trim(), 'terminated');
    assert.doesNotMatch(viewer.stderr, /ffplay exited/, 'stopping the player ourselves is not news');
  });

  test('a player that fails at once: one clear error', async () => {
    const bin = standIn('fails', `echo 'Could not initialize SDL - No available video device' >&2\nexit 1`);
    const viewer = meshtv(['watch', uri, '--http-port', '0', '--player', 'ffplay'], { PATH: `${bin}:${process.env.PATH}` });
    assert.equal(await viewer.exited, 1);
    const errors = viewer.stderr.split('\n').filter((l) => l.startsWith('meshtv: error:'));
    assert.deepEqual(errors, ['meshtv: error: ffplay exited at once (code 1): Could not initialize SDL - No available video device']);
  });

  test('no ffplay on PATH: one clear error, before joining anything', async () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    const viewer = meshtv(['watch', 'no such channel', '--tracker', 'http://127.0.0.1:9', '--player', 'ffplay'], { PATH: empty });
    assert.equal(await viewer.exited, 1);
    assert.equal(viewer.stderr.trim().split('\n').length, 1, viewer.stderr);
    assert.match(viewer.stderr, /^meshtv: error: ffplay is not installed \(not found on PATH\); install it .*--player\n$/);
  });
});
