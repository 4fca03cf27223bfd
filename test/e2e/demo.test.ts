// `meshtv demo` (what `npm start` runs): prints the VLC/mpv URL, the stream decodes, and
// Ctrl-C (SIGINT) stops everything cleanly with exit status 0.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { decode, meshtv, stopAll, tempDir } from '../helpers/processes.js';

after(stopAll);

test('the demo prints a stream URL that decodes and stops cleanly on SIGINT', { timeout: 60_000 }, async () => {
  const demo = meshtv(['demo', '--port', '0', '--http-port', '0'], { MESHTV_HOME: tempDir('demo') });
  const url = (await demo.waitFor(/VLC\/mpv URL: (http:\S+\/stream\.ts)/))[1] as string;
  assert.match(demo.stdout, /viewer 2: +http:\S+\/stream\.ts/);
  const result = await decode(url, 5);
  assert.equal(result.exitCode, 0, result.errors);
  assert.equal(result.errors, '');
  assert.ok(result.videoFrames >= 115, `decoded ${result.videoFrames} frames`);
  assert.equal(await demo.stop('SIGINT'), 0);
});
