// The broadcaster dies (SIGKILL) and comes back with the same key: the channel keeps its id,
// the viewer says it is waiting, and playback resumes on the new chunks without restarting
// the viewer. The time to resume is printed.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { BroadcastStats } from '../../src/native/broadcaster.js';
import type { ViewerStats } from '../../src/native/viewer.js';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';
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

test('a broadcaster keeps a numbering floor beside its key and a restart numbers past it', { timeout: 90_000 }, async () => {
  // Chunks come a little faster than the clock's 200 ms ticks (keyframes cut extra ones), so
  // after hours on air the numbering is far ahead of the clock: the saved floor keeps a
  // restart past it. Here the floor a long run would leave is written by hand.
  const key = path.join(tempDir('renumber'), 'k.key');
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const args = ['broadcast', '--tracker', trackerUrl, '--key', key, '--http-port', '0'];
  const produced = async (b: ReturnType<typeof meshtv>, n: number) => {
    const url = (await b.waitFor(/stats: (\S+)/, 'stderr'))[1] as string;
    let s: BroadcastStats | undefined;
    await waitUntil(`${n} chunks produced`, async () => {
      s = await getJson<BroadcastStats>(url);
      return s.chunksProduced >= n;
    });
    return s as BroadcastStats;
  };
  const first = meshtv(args);
  const before = await produced(first, 10);
  // By default a broadcaster bounds what it uploads to the swarm: 1.8 copies of the stream.
  assert.ok(before.uploadLimitBps !== null, 'the broadcaster has no upload cap by default');
  const copies = before.uploadLimitBps / before.produceBps;
  assert.ok(copies > 1.4 && copies < 2.3, `the default cap is ${copies.toFixed(2)} copies of the stream`);
  const statsUrl = (await first.waitFor(/stats: (\S+)/, 'stderr'))[1] as string;
  const metrics = await (await fetch(statsUrl.replace(/stats\.json$/, 'metrics'))).text();
  assert.match(metrics, /^meshtv_broadcaster_upload_limit_bits_per_second \d+$/m, 'the cap is not among the metrics');
  await new Promise((r) => setTimeout(r, 1500));
  await first.stop('SIGKILL');
  const saved = JSON.parse(fs.readFileSync(`${key}.seq`, 'utf8')) as Record<string, number>;
  const floor = saved[before.channelId] ?? 0;
  assert.ok(
    floor > (before.newestSeq ?? Number.POSITIVE_INFINITY),
    `the saved floor ${floor} is not past the run's chunk ${before.newestSeq}`,
  );

  const farAhead = floor + 100_000;
  fs.writeFileSync(`${key}.seq`, JSON.stringify({ [before.channelId]: farAhead }));
  const second = meshtv([...args, '--upload-limit', 'unlimited']);
  const s = await produced(second, 1);
  assert.equal(s.uploadLimitBps, null, '--upload-limit unlimited left a cap');
  const firstOfRun = (s.newestSeq ?? 0) - s.chunksProduced + 1;
  assert.equal(firstOfRun, farAhead, 'the restart did not number from the saved floor');
});

test('the tracker is killed and restarted: viewers keep playing and the channel is listed again', { timeout: 120_000 }, async (t) => {
  const dir = tempDir('tracker-restart');
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const port = new URL(trackerUrl).port;
  const source = meshtv(['broadcast', '--tracker', trackerUrl, '--name', 'steady', '--key', path.join(dir, 'k.key')]);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
  const viewers = [meshtv(['watch', uri, '--http-port', '0']), meshtv(['watch', uri, '--http-port', '0'])];
  const bases = await Promise.all(viewers.map(async (v) => (await v.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string));
  const played = async () => Promise.all(bases.map(async (b) => (await getJson<ViewerStats>(`${b}/stats.json`)).chunksPlayed));
  await waitUntil('both viewers play', async () => (await played()).every((n) => n > 4));

  await tracker.stop('SIGKILL');
  const atKill = await played();
  await new Promise((r) => setTimeout(r, 6000));
  const without = await played();
  for (const [i, n] of without.entries()) {
    assert.ok(n >= (atKill[i] as number) + 16, `viewer ${i + 1} stalled without the tracker: ${atKill[i]} -> ${n}`);
  }

  const restarted = meshtv(['tracker', '--port', port]);
  await restarted.waitFor(/tracker listening on/);
  const backAt = Date.now();
  await waitUntil(
    'the channel is listed again',
    async () =>
      (await getJson<{ id: string; viewers: number }[]>(`${trackerUrl}/api/channels`)).some((c) => c.id === channelId && c.viewers === 2),
    20_000,
  );
  t.diagnostic(`listed again with both viewers ${Date.now() - backAt} ms after the tracker came back; viewers played on meanwhile`);
  const skipped = await Promise.all(bases.map(async (b) => (await getJson<ViewerStats>(`${b}/stats.json`)).chunksSkipped));
  assert.deepEqual(skipped, [0, 0]);
});

test('a browser page resumes on its own after the broadcaster is killed and restarted', {
  timeout: 120_000,
  skip: browserSkipReason(),
}, async (t) => {
  const key = path.join(tempDir('restart-page'), 'k.key');
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const args = ['broadcast', '--tracker', trackerUrl, '--name', 'phoenix', '--key', key];
  const first = meshtv(args);
  const uri = (await first.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${trackerUrl}/watch/${(uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0]}`);
  const played = async () =>
    (await page.evaluate(() => (window as unknown as { meshtv: { stats(): { player: { currentTime: number } } } }).meshtv.stats())).player
      .currentTime;
  await waitUntil('the page plays', async () => (await played()) > 2, 30_000);

  await first.stop('SIGKILL');
  const second = meshtv(args);
  await second.waitFor(/^(meshtv:\/\/\S+)$/m);
  const backAt = Date.now();
  const atRestart = await played();
  await waitUntil('the page plays the new run', async () => (await played()) > atRestart + 3, 30_000);
  t.diagnostic(`the page played 3 s of the new run ${Date.now() - backAt} ms after the broadcaster printed its URI again`);
});
