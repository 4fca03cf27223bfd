// The broadcaster dies (SIGKILL) and comes back with the same key: the channel keeps its id,
// the viewer says it is waiting, and playback resumes on the new chunks without restarting
// the viewer. The time to resume is printed.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ViewerStats } from '../../src/node/viewer.js';
import { getJson, meshtv, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

test('viewers resume after the broadcaster is killed and restarted with the same key', { timeout: 120_000 }, async (t) => {
  const dir = tempDir('restart');
  const key = path.join(dir, 'k.key');
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const first = meshtv(['broadcast', '--tracker', trackerUrl, '--name', 'phoenix', '--key', key]);
  const uri = (await first.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const viewer = meshtv(['watch', uri, '--http-port', '0']);
  const base = (await viewer.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
  const stats = () => getJson<ViewerStats>(`${base}/stats.json`);
  await waitUntil('the viewer plays', async () => (await stats()).chunksPlayed > 8);

  await first.stop('SIGKILL');
  await viewer.waitFor(/no new data for \d+ s: the broadcaster may be gone/, 'stderr', 20_000);
  const quiet = await stats();
  assert.ok((quiet.silentForMs ?? 0) >= 5000, `silence not reported: ${quiet.silentForMs}`);

  const second = meshtv(['broadcast', '--tracker', trackerUrl, '--name', 'phoenix', '--key', key]);
  const uri2 = (await second.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  assert.equal(uri2, uri, 'the channel did not keep its id');
  const backAt = Date.now();
  const before = quiet.chunksPlayed;
  await waitUntil('playback resumes', async () => (await stats()).chunksPlayed > before + 4, 30_000);
  const resumeMs = Date.now() - backAt;
  await viewer.waitFor(/the stream is back/, 'stderr', 10_000);
  t.diagnostic(`resumed ${resumeMs} ms after the broadcaster printed its URI again`);
});
