// Several trackers per channel: the broadcaster announces to all, the URI names all, and a
// swarm survives any one of them going down — viewers keep playing and newcomers still join.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import DHT from 'bittorrent-dht';
import type { ViewerStats } from '../../src/native/viewer.js';
import { getJson, meshtv, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

test('one of two trackers dies: nobody stops, and a newcomer joins through the other', { timeout: 120_000 }, async (t) => {
  const dir = tempDir('trackers');
  const a = meshtv(['tracker', '--port', '0']);
  const b = meshtv(['tracker', '--port', '0']);
  const [urlA, urlB] = await Promise.all([a, b].map(async (p) => (await p.waitFor(/tracker listening on (\S+)/))[1] as string));
  const source = meshtv([
    'broadcast',
    '--tracker',
    urlA as string,
    '--tracker',
    urlB as string,
    '--name',
    'two trackers',
    '--key',
    path.join(dir, 'k.key'),
  ]);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  assert.equal(uri.match(/tracker=/g)?.length, 2, `the URI should name both trackers: ${uri}`);
  const first = meshtv(['watch', uri, '--http-port', '0']);
  const firstBase = (await first.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
  await waitUntil('the first viewer plays', async () => (await getJson<ViewerStats>(`${firstBase}/stats.json`)).chunksPlayed > 4);

  await a.stop('SIGKILL');
  const startedAt = Date.now();
  const second = meshtv(['watch', uri, '--http-port', '0']);
  const secondBase = (await second.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
  await waitUntil('the newcomer plays', async () => (await getJson<ViewerStats>(`${secondBase}/stats.json`)).chunksPlayed > 4, 20_000);
  t.diagnostic(`a newcomer joined through the remaining tracker and played 5 chunks ${Date.now() - startedAt} ms after starting`);
  const s = await getJson<ViewerStats>(`${firstBase}/stats.json`);
  assert.equal(s.chunksSkipped, 0, 'the first viewer skipped chunks when a tracker died');
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
  assert.match(source.stderr, new RegExp(`web page: ${urlA}/watch/${channelId}`), 'the broadcaster says where browsers watch');
  const table = meshtv(['channels', '--tracker', urlB as string]);
  assert.equal(await table.exited, 0);
  assert.match(table.stdout, /^1 live channel \(watch one: meshtv watch ID or NAME\)$/m);
  assert.match(table.stdout, new RegExp(`^    web page: ${urlB}/watch/${channelId}$`, 'm'));
  const list = meshtv(['channels', '--tracker', urlB as string, '--json']);
  assert.equal(await list.exited, 0);
  assert.ok(
    (JSON.parse(list.stdout) as { name: string }[]).some((c) => c.name === 'two trackers'),
    `tracker B lists: ${list.stdout} ${list.stderr}\nsource: ${source.stderr}\nB: ${b.stderr}`,
  );
});

test('every tracker down: a new native viewer still joins through the DHT', { timeout: 120_000 }, async (t) => {
  // A local DHT bootstrap node stands in for the public routers.
  const bootstrapNode = new DHT({ bootstrap: false });
  await new Promise<void>((resolve) => bootstrapNode.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => bootstrapNode.destroy(() => resolve())));
  const dhtFlags = ['--dht-bootstrap', `127.0.0.1:${(bootstrapNode.address() as { port: number }).port}`];
  const dir = tempDir('dht');
  const tracker = meshtv(['tracker', '--port', '0']);
  const url = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const source = meshtv(['broadcast', '--tracker', url, '--name', 'no trackers', '--key', path.join(dir, 'k.key'), ...dhtFlags]);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const first = meshtv(['watch', uri, '--http-port', '0', ...dhtFlags]);
  const firstBase = (await first.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
  await waitUntil('the first viewer plays', async () => (await getJson<ViewerStats>(`${firstBase}/stats.json`)).chunksPlayed > 4);

  await tracker.stop('SIGKILL');
  const startedAt = Date.now();
  const second = meshtv(['watch', uri, '--http-port', '0', ...dhtFlags]);
  const secondBase = (await second.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
  await waitUntil('the newcomer plays', async () => (await getJson<ViewerStats>(`${secondBase}/stats.json`)).chunksPlayed > 4, 30_000);
  const s = await getJson<ViewerStats>(`${secondBase}/stats.json`);
  t.diagnostic(
    `with no tracker up, a newcomer joined through the DHT and played 5 chunks ${Date.now() - startedAt} ms after starting; DHT: ${JSON.stringify(s.dht)}`,
  );
  assert.ok((s.dht?.peersFound ?? 0) > 0, 'the newcomer should have found its peers in the DHT');
  assert.match(second.stderr, /looking for peers through the DHT/);
  assert.equal((await getJson<ViewerStats>(`${firstBase}/stats.json`)).chunksSkipped, 0, 'the first viewer skipped chunks');
});
