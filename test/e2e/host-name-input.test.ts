// An --input URL that names a host (http://localhost:PORT/...), served by a small HTTP server
// here: with an ffmpeg that resolves names (Debian's, on PATH) the broadcaster produces chunks
// from it; with only the bundled static ffmpeg, which would die of SIGSEGV in the lookup, it
// stops before starting ffmpeg with one error that says what to do.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findOnPath, isBundledFfmpeg } from '../../src/media/ffmpeg.js';
import type { BroadcastStats } from '../../src/native/broadcaster.js';
import { failsWithOneError, getJson, makeTestClip, meshtv, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

describe('an --input URL with a host name', { timeout: 60_000 }, () => {
  const dir = tempDir('host-name');
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    fs.readFile(path.join(dir, 'clip.ts'), (err, data) => {
      if (err) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'video/mp2t' }).end(data);
    });
  });
  let url: string;
  let trackerUrl: string;

  before(async () => {
    makeTestClip(path.join(dir, 'clip.ts'), 10);
    // No host given: both ::1 and 127.0.0.1, whichever "localhost" resolves to first.
    await new Promise<void>((r) => server.listen(0, () => r()));
    url = `http://localhost:${(server.address() as AddressInfo).port}/clip.ts`;
    const tracker = meshtv(['tracker', '--port', '0']);
    trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  });
  after(async () => {
    await stopAll();
    server.closeAllConnections();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('with the ffmpeg on PATH: broadcasts', async (t) => {
    const onPath = findOnPath('ffmpeg');
    if (onPath === undefined || isBundledFfmpeg(onPath)) {
      t.skip('no ffmpeg on PATH that resolves names (the bootstrap installs Debian’s as root)');
      return;
    }
    const b = meshtv(
      ['broadcast', '--tracker', trackerUrl, '--key', path.join(dir, 'ok.key'), '--no-dht', '--input', url, '--copy', '--http-port', '0'],
      { MESHTV_FFMPEG: '' },
    );
    const statsUrl = (await b.waitFor(/stats: (\S+)/, 'stderr', 30_000))[1] as string;
    let stats: BroadcastStats | undefined;
    await waitUntil('the broadcaster cuts chunks from the URL', async () => {
      stats = await getJson<BroadcastStats>(statsUrl);
      return stats.chunksProduced >= 3;
    });
    assert.match(stats?.input ?? '', /^http:\/\/localhost:\d+\/clip\.ts$/);
    assert.ok(requests.length > 0);
  });

  test('with only the bundled ffmpeg: one clear error before ffmpeg starts, exit 1', async () => {
    const seen = requests.length;
    // PATH holds no ffmpeg, so the bundled build is the one in use.
    const emptyPath = fs.mkdtempSync(path.join(dir, 'path-'));
    await failsWithOneError(
      ['broadcast', '--tracker', trackerUrl, '--key', path.join(dir, 'bundled.key'), '--no-dht', '--input', url],
      /^meshtv: error: http:\/\/localhost:\d+\/clip\.ts names the host localhost, but the ffmpeg in use is the bundled static build \(\S+\), which cannot resolve host names; install ffmpeg \(e\.g\. apt-get install ffmpeg\) so that one is on PATH or in MESHTV_FFMPEG, or give the IP address in place of localhost$/,
      { PATH: emptyPath, MESHTV_FFMPEG: '' },
    );
    assert.equal(requests.length, seen, 'ffmpeg was started');
  });
});
