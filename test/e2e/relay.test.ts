// End to end with real processes: a tracker, a broadcaster that serves a single neighbour,
// and three viewers, so the second and third get the stream only through another viewer.
// ffmpeg decodes 10 s of a relayed viewer's /stream.ts; the figures (S, lag) are reported.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { nodeVerify } from '../../src/crypto/keys.js';
import type { BroadcastStats } from '../../src/native/broadcaster.js';
import type { ViewerStats } from '../../src/native/viewer.js';
import { decodeChunk, verifyChunk } from '../../src/protocol/chunk.js';
import { decode, getJson, meshtv, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

test('a viewer fed only by other viewers plays the broadcaster’s stream', { timeout: 90_000 }, async (t) => {
  const dir = tempDir('relay');
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;

  const source = meshtv([
    'broadcast',
    '--tracker',
    trackerUrl,
    '--name',
    'relay test',
    '--key',
    path.join(dir, 'k.key'),
    '--max-peers',
    '1',
    '--http-port',
    '0',
  ]);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const sourceStats = `${(await source.waitFor(/stats: (\S+)\/stats\.json/, 'stderr'))[1]}/stats.json`;

  const first = meshtv(['watch', uri, '--http-port', '0']);
  const firstUrl = (await first.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
  await waitUntil('the first viewer plays', async () => (await getJson<ViewerStats>(`${firstUrl}/stats.json`)).started).catch(async (e) => {
    throw new Error(`${e.message}: ${JSON.stringify(await getJson(`${firstUrl}/stats.json`))} ${first.stderr} ${source.stderr}`);
  });

  // The source has room for one neighbour only, so these two join through the first viewer.
  const second = meshtv(['watch', 'relay test', '--tracker', trackerUrl, '--http-port', '0']);
  const third = meshtv(['watch', uri, '--http-port', '0']);
  const secondUrl = (await second.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
  const thirdUrl = (await third.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
  await waitUntil('the relayed viewers play', async () => {
    const [b, c] = await Promise.all([getJson<ViewerStats>(`${secondUrl}/stats.json`), getJson<ViewerStats>(`${thirdUrl}/stats.json`)]);
    return b.started && c.started;
  });

  const result = await decode(`${thirdUrl}/stream.ts`, 10);
  assert.equal(result.exitCode, 0, `ffmpeg failed: ${result.errors}`);
  assert.equal(result.errors, '', 'ffmpeg reported decode errors');
  assert.ok(result.videoFrames >= 240, `decoded only ${result.videoFrames} video frames in 10 s`);
  assert.ok(result.audioFrames > 0, 'no audio decoded');
  for (let i = 1; i < result.videoPtsS.length; i++) {
    assert.ok((result.videoPtsS[i] as number) > (result.videoPtsS[i - 1] as number), `video timestamps do not advance at frame ${i}`);
  }
  const span = (result.videoPtsS.at(-1) as number) - (result.videoPtsS[0] as number);
  assert.ok(span >= 9.5, `decoded video spans only ${span.toFixed(2)} s`);

  const [a, b, c, s] = await Promise.all([
    getJson<ViewerStats>(`${firstUrl}/stats.json`),
    getJson<ViewerStats>(`${secondUrl}/stats.json`),
    getJson<ViewerStats>(`${thirdUrl}/stats.json`),
    getJson<BroadcastStats>(sourceStats),
  ]);
  assert.equal(s.peers, 1, 'the broadcaster should serve exactly one neighbour');
  for (const [name, v] of [
    ['second', b],
    ['third', c],
  ] as const) {
    assert.ok(v.mediaBytesIn > 500_000, `${name} viewer received only ${v.mediaBytesIn} bytes`);
    assert.equal(v.mediaBytesInFromSource, 0, `${name} viewer got bytes from the broadcaster`);
    assert.equal(v.shareFromPeers, 1);
  }
  for (const [name, v] of [
    ['second', b],
    ['third', c],
  ] as const)
    assert.equal(v.chunksSkipped, 0, `${name} viewer skipped chunks`);
  assert.ok(a.mediaBytesOut > 0, 'the first viewer relayed nothing');
  // One copy of the stream for three viewers; a little over 1 only while viewers join.
  assert.ok(s.sourceLoad > 0.5 && s.sourceLoad <= 1.2, `source load S = ${s.sourceLoad}`);
  t.diagnostic(`source load S = ${s.sourceLoad.toFixed(3)} (${s.mediaBytesSent} sent / ${s.bytesProduced} produced)`);

  // The broadcaster's HTTP origin serves signed chunks of its window, and nothing else.
  const origin = sourceStats.replace(/\/stats\.json$/, '');
  const res = await fetch(`${origin}/chunk/${s.newestSeq}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const served = decodeChunk(new Uint8Array(await res.arrayBuffer()));
  assert.equal(served.seq, s.newestSeq);
  assert.ok(verifyChunk(served, nodeVerify), 'the origin served a chunk that does not verify');
  assert.equal((await fetch(`${origin}/chunk/1`)).status, 404);
  t.diagnostic(`lag (capture -> handed to player): first ${a.lagMs} ms, second ${b.lagMs} ms, third ${c.lagMs} ms`);
  t.diagnostic(
    `startup: first ${a.startupMs} ms, second ${b.startupMs} ms, third ${c.startupMs} ms; continuity ${[a, b, c].map((v) => v.continuity.toFixed(3)).join(', ')}`,
  );
});
