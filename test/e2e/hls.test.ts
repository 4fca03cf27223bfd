// The viewer's HLS output with real processes: a sliding live playlist whose media sequence,
// segment names and target duration agree over time, segments that each start with the PAT
// and decode on their own; and two viewers on one machine without --http-port do not clash.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { decode, meshtv, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

interface Playlist {
  text: string;
  targetDuration: number;
  mediaSequence: number;
  segments: { uri: string; duration: number }[];
}

async function playlist(url: string): Promise<Playlist> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  const text = await res.text();
  const lines = text.trim().split('\n');
  const segments: Playlist['segments'] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l.startsWith('#EXTINF:')) segments.push({ duration: Number(l.slice(8).split(',')[0]), uri: lines[i + 1] as string });
  }
  const tag = (name: string) => Number(lines.find((l) => l.startsWith(`#${name}:`))?.split(':')[1]);
  return { text, targetDuration: tag('EXT-X-TARGETDURATION'), mediaSequence: tag('EXT-X-MEDIA-SEQUENCE'), segments };
}

test('HLS: a consistent sliding playlist of keyframe-aligned segments; viewers side by side', { timeout: 90_000 }, async () => {
  const dir = tempDir('hls');
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const source = meshtv(['broadcast', '--tracker', trackerUrl, '--name', 'hls test', '--key', path.join(dir, 'k.key')]);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;

  // No --http-port: the second viewer must not fail on the first one's port.
  const first = meshtv(['watch', uri]);
  const firstBase = (await first.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
  const second = meshtv(['watch', uri]);
  const secondBase = (await second.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string;
  assert.notEqual(firstBase, secondBase);
  assert.match(first.stderr, /HLS: http:\S+\/live\.m3u8/);

  // The playlist request waits for the first segment rather than failing.
  const p0 = await playlist(`${firstBase}/live.m3u8`);
  assert.ok(p0.segments.length >= 1);

  const seen: Playlist[] = [p0];
  await waitUntil(
    'the window is full and has slid',
    async () => {
      const p = await playlist(`${firstBase}/live.m3u8`);
      seen.push(p);
      return p.mediaSequence >= 1 && p.segments.length === 6;
    },
    30_000,
  );
  const byUri = new Map<string, number>();
  let lastSequence = -1;
  for (const p of seen) {
    assert.ok(p.segments.length <= 6, `window of ${p.segments.length} segments`);
    assert.ok(p.mediaSequence >= lastSequence, 'EXT-X-MEDIA-SEQUENCE went back');
    lastSequence = p.mediaSequence;
    p.segments.forEach((s, i) => {
      assert.equal(s.uri, `live/${p.mediaSequence + i}.ts`, 'media sequence and segment names disagree');
      assert.ok(Math.round(s.duration) <= p.targetDuration, `EXTINF ${s.duration} above target ${p.targetDuration}`);
      // The test pattern has a keyframe every second: segments of 2 s.
      assert.ok(Math.abs(s.duration - 2) < 0.05, `segment of ${s.duration} s`);
      const before = byUri.get(s.uri);
      if (before !== undefined) assert.equal(s.duration, before, `${s.uri} changed its duration`);
      byUri.set(s.uri, s.duration);
    });
    assert.equal(p.targetDuration, 2);
  }

  const last = seen.at(-1) as Playlist;
  const newest = `${firstBase}/${last.segments.at(-1)?.uri}`;
  const res = await fetch(newest);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'video/mp2t');
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.equal(bytes.length % 188, 0);
  assert.equal(bytes[0], 0x47);
  // ffmpeg 4.3 and later (Debian's 5.1) may write the SDT (pid 0x11) just before a PAT, and the
  // chunker keeps the two together (test/media/ts-chunker.test.ts): the PAT comes before all else.
  const pids = Array.from(
    { length: bytes.length / 188 },
    (_, i) => (((bytes[i * 188 + 1] as number) & 0x1f) << 8) | (bytes[i * 188 + 2] as number),
  );
  assert.equal(
    pids.find((pid) => pid !== 0x11),
    0,
    'a segment starts with the PAT',
  );
  const head = await fetch(newest, { method: 'HEAD' });
  assert.equal(head.headers.get('content-length'), String(bytes.length));
  assert.equal((await fetch(`${firstBase}/live/999999999.ts`)).status, 404);

  // One segment on its own decodes from its first frame.
  const one = await decode(newest, 5);
  assert.equal(one.exitCode, 0, one.errors);
  assert.equal(one.errors, '');
  assert.ok(one.videoFrames >= 48, `decoded ${one.videoFrames} frames of a 2 s segment`);

  // The second viewer serves its own playlist.
  const p2 = await playlist(`${secondBase}/live.m3u8`);
  assert.ok(p2.segments.length >= 1);
});
