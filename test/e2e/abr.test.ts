// Renditions with real processes: a broadcaster encoding a two-step ladder, a viewer on auto
// that starts low and moves up without a gap in what its player gets, a viewer pinned to one
// rendition, the directory listing the ladder, and a clear error for a rendition that does
// not exist.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { decode, getJson, meshtv, startChannel, stopAll, waitUntil } from '../helpers/processes.js';

after(stopAll);

interface Stats {
  rendition: string | undefined;
  renditions: { name: string; bitrateBps: number }[];
  switches: { up: number; down: number };
  joined: string[];
  continuity: number;
  chunksPlayed: number;
}

test('a viewer on auto moves up the ladder at a keyframe, and its player sees no gap', { timeout: 120_000 }, async () => {
  const { trackerUrl, uri } = await startChannel('ladder', ['--renditions', 'high=360p@500k,low=180p@150k']);

  const auto = meshtv(['watch', uri, '--no-dht']);
  const autoBase = (await auto.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
  // The player reads from the start, through the switch (after the 15 s calm spell).
  const decoded = decode(`${autoBase}/stream.ts`, 24, 60_000);

  const pinned = meshtv(['watch', uri, '--no-dht', '--quality', 'low']);
  const pinnedBase = (await pinned.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;

  const first = await getJson<Stats>(`${autoBase}/stats.json`);
  assert.equal(first.rendition, 'low', 'auto starts on the lowest rendition');
  assert.deepEqual(
    first.renditions.map((r) => r.name),
    ['low', 'high'],
  );

  await waitUntil(
    'the auto viewer plays the high rendition',
    async () => (await getJson<Stats>(`${autoBase}/stats.json`)).rendition === 'high',
    40_000,
  );
  const result = await decoded;
  assert.equal(result.errors, '', 'the decoder reported errors across the switch');
  assert.ok(result.videoFrames >= 20 * 25, `only ${result.videoFrames} video frames in 24 s`);
  const pts = result.videoPtsS;
  for (let i = 1; i < pts.length; i++) {
    const step = (pts[i] as number) - (pts[i - 1] as number);
    assert.ok(step > 0 && step < 0.5, `video time jumps by ${step.toFixed(3)} s at frame ${i}`);
  }
  assert.match(auto.stderr, /now playing high \(was low\)/);
  const after = await getJson<Stats>(`${autoBase}/stats.json`);
  assert.deepEqual(after.switches, { up: 1, down: 0 });
  assert.deepEqual(after.joined, ['low', 'high'], 'above the lowest rendition, a viewer still relays it');
  assert.ok(after.continuity > 0.95, `continuity ${after.continuity}`);

  // The pinned viewer stays where it was put; its master playlist names that rendition's rate.
  const pinnedStats = await getJson<Stats>(`${pinnedBase}/stats.json`);
  assert.equal(pinnedStats.rendition, 'low');
  assert.deepEqual(pinnedStats.switches, { up: 0, down: 0 });
  const master = await (await fetch(`${pinnedBase}/live.m3u8`)).text();
  const low = pinnedStats.renditions.find((r) => r.name === 'low');
  assert.match(master, new RegExp(`#EXT-X-STREAM-INF:BANDWIDTH=${low?.bitrateBps}\\nmedia\\.m3u8`));
  const media = await (await fetch(`${pinnedBase}/media.m3u8`)).text();
  assert.match(media, /#EXTINF:[\d.]+,\nlive\/\d+\.ts/);

  // The directory lists the ladder and counts viewers on every rendition.
  const channels = await getJson<{ name: string; viewers: number; renditions?: { name: string }[] }[]>(`${trackerUrl}/api/channels`);
  const listed = channels.find((c) => c.name === 'ladder');
  assert.deepEqual(
    listed?.renditions?.map((r) => r.name),
    ['low', 'high'],
  );
  await waitUntil('both viewers are counted once each', async () => {
    const list = await getJson<{ name: string; viewers: number }[]>(`${trackerUrl}/api/channels`);
    return list.find((c) => c.name === 'ladder')?.viewers === 2;
  });

  const wrong = meshtv(['watch', uri, '--no-dht', '--quality', '1080p']);
  assert.equal(await wrong.exited, 1);
  assert.match(wrong.stderr, /--quality 1080p: the channel's renditions are low, high \(or auto\)/);
});
