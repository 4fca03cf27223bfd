// The TV gateway's pure parts: the M3U playlist and its escaping, lasting channel numbers (and
// their file), the cap on channels joined at once, and where a new stream player starts.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { MAX_BACKLOG_BYTES, StreamOutput } from '../../src/media/stream-output.js';
import { TvGuides } from '../../src/native/tv-epg.js';
import { assignNumbers, loadNumbers, MAX_REMEMBERED, type NumberEntry, saveNumbers } from '../../src/native/tv-numbers.js';
import { playlistText, renderPlaylist } from '../../src/native/tv-playlist.js';
import { capMessage, decideJoin, lingerExpired } from '../../src/native/tv-pool.js';
import { tvStatusLine } from '../../src/native/tv-report.js';
import { FLAG_KEYFRAME } from '../../src/protocol/chunk.js';

const id = (n: number) => n.toString(16).padStart(64, '0');
const quiet = createLogger({ level: 'error', format: 'text', sink: { write: () => {} } });

test('the playlist: one #EXTINF line and one URL per channel, by number, in the form IPTV apps read', () => {
  const text = renderPlaylist('http://192.168.1.5:8903', [
    { id: id(2), name: 'News', number: 7, category: 'News' },
    { id: id(1), name: 'Sport', number: 3 },
  ]);
  assert.equal(
    text,
    '#EXTM3U x-tvg-url="http://192.168.1.5:8903/epg.xml"\n' +
      `#EXTINF:-1 tvg-id="${id(1)}.meshtv" tvg-name="Sport" tvg-logo="http://192.168.1.5:8903/logo/${id(1)}.jpg" tvg-chno="3" group-title="meshtv",Sport\n` +
      `http://192.168.1.5:8903/channel/${id(1)}.ts\n` +
      `#EXTINF:-1 tvg-id="${id(2)}.meshtv" tvg-name="News" tvg-logo="http://192.168.1.5:8903/logo/${id(2)}.jpg" tvg-chno="7" group-title="News",News\n` +
      `http://192.168.1.5:8903/channel/${id(2)}.ts\n`,
  );
});

test('no channel name can break the playlist: quotes, commas, newlines, control and bidi characters', () => {
  const hostile = 'Evil" tvg-logo="http://x",Fake\r\n#EXTINF:-1,Injected\nhttp://evil/\u0000\u001b[2J\u202e';
  const text = renderPlaylist('http://127.0.0.1:8903', [{ id: id(1), name: hostile, number: 1, category: 'a"b,\nc' }]);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 3, 'one header, one #EXTINF, one URL');
  const extinf = lines[1] as string;
  // Exactly the attributes written, each quote pair ours; the title is what follows the one comma.
  assert.equal((extinf.match(/"/g) ?? []).length, 10);
  assert.equal((extinf.match(/,/g) ?? []).length, 1);
  assert.doesNotMatch(extinf, /[\p{Cc}\u202e]/u);
  assert.match(extinf, /group-title="a\u201db\u201a c",/);
  assert.equal(lines[2], `http://127.0.0.1:8903/channel/${id(1)}.ts`);
  assert.equal(playlistText('  a \t b  '), 'a b');
  assert.equal([...playlistText('x'.repeat(500))].length, 120);
  // A name of nothing but hidden characters still gives the channel a title.
  assert.match(renderPlaylist('http://h', [{ id: id(1), name: '\u0000\u200e', number: 1 }]), /,000000000000\n/);
});

test("the guide names the playlist's channels by their tvg-id, with the programmes of their verified guides", async () => {
  const channel = { id: id(1), name: 'A & <B> "C"\u0001', number: 4, category: undefined, trackers: ['http://t'] };
  const asked: string[] = [];
  const guides = new TvGuides(async (c) => {
    asked.push(c.id);
    return { channelId: c.id, issuedAtMs: 0, programmes: [{ startMs: 1_000_000, stopMs: 4_600_000, title: 'News <live>' }] };
  });
  const xml = await guides.render('http://h:1', [channel], 2_000_000);
  assert.match(xml, /<display-name>A &amp; &lt;B&gt; &quot;C&quot;<\/display-name>/);
  assert.match(xml, new RegExp(`<channel id="${id(1)}\\.meshtv">`));
  assert.match(xml, /<title>News &lt;live&gt;<\/title>/);
  const playlist = renderPlaylist('http://h:1', [channel]);
  assert.match(playlist, new RegExp(`tvg-id="${id(1)}\\.meshtv"`), 'the playlist and the guide name the channel alike');
  await guides.render('http://h:1', [channel], 2_030_000);
  assert.equal(asked.length, 1, 'a guide is fetched at most once a minute');
});

test('channel numbers: kept while channels come and go, new ones take the lowest free number', () => {
  const first = assignNumbers(new Map(), [id(3), id(1), id(2)], 1000);
  assert.deepEqual([...first.numbers].map(([k, v]) => [k, v.number]).sort(), [
    [id(1), 1],
    [id(2), 2],
    [id(3), 3],
  ]);
  assert.equal(first.changed, true);
  // Channel 2 goes; a new one comes: 1 and 3 keep theirs, the newcomer does not take 2 (remembered).
  const second = assignNumbers(first.numbers, [id(1), id(3), id(9)], 2000);
  assert.equal(second.numbers.get(id(1))?.number, 1);
  assert.equal(second.numbers.get(id(3))?.number, 3);
  assert.equal(second.numbers.get(id(9))?.number, 4);
  // Channel 2 is back: its number again.
  const third = assignNumbers(second.numbers, [id(2), id(9)], 3000);
  assert.equal(third.numbers.get(id(2))?.number, 2);
  assert.equal(third.changed, false, 'nothing new to save');
});

test('channel numbers: the table stays bounded, forgetting the channels gone longest', () => {
  const old = new Map<string, NumberEntry>();
  for (let i = 0; i < MAX_REMEMBERED; i++) old.set(id(i + 100), { number: i + 1, seenAtMs: i });
  const { numbers } = assignNumbers(old, [id(1), id(2)], 1e9);
  assert.equal(numbers.size, MAX_REMEMBERED);
  assert.equal(numbers.has(id(100)), false, 'the longest gone is forgotten');
  assert.equal(numbers.has(id(101)), false);
  assert.equal(numbers.get(id(1))?.number, 1, 'and its number goes to a newcomer');
});

test('channel numbers survive a restart through their file; a broken or foreign file is no numbers', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-tvnum-'));
  try {
    const file = path.join(dir, 'tv-channels.json');
    assert.equal(loadNumbers(file, quiet).size, 0);
    const { numbers } = assignNumbers(new Map(), [id(5), id(6)], 1000);
    saveNumbers(file, numbers);
    assert.deepEqual(loadNumbers(file, quiet), numbers);
    assert.equal(fs.existsSync(`${file}.tmp`), false, 'written through a renamed temporary file');
    fs.writeFileSync(file, 'not json');
    assert.equal(loadNumbers(file, quiet).size, 0);
    // Duplicate numbers and bad ids are dropped, not trusted.
    fs.writeFileSync(file, JSON.stringify({ [id(1)]: [1, 5], [id(2)]: [1, 5], nope: [2, 5], [id(3)]: [-1, 5] }));
    assert.deepEqual([...loadNumbers(file, quiet).keys()], [id(1)]);
    fs.writeFileSync(file, ' '.repeat(300 * 1024));
    assert.equal(loadNumbers(file, quiet).size, 0, 'an oversized file is not read');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the cap: a lingering channel makes room; when every joined channel is watched, a clear refusal', () => {
  const a = { id: 'a', players: 1, idleSinceMs: 0 };
  const b = { id: 'b', players: 0, idleSinceMs: 50 };
  const c = { id: 'c', players: 0, idleSinceMs: 20 };
  assert.deepEqual(decideJoin([a], 'a', 2), { kind: 'held' });
  assert.deepEqual(decideJoin([a], 'x', 2), { kind: 'join', leave: undefined });
  assert.deepEqual(decideJoin([a, b, c], 'x', 3), { kind: 'join', leave: 'c' }, 'the one idle longest goes');
  const full = decideJoin([a, { ...b, players: 2 }], 'x', 2);
  assert.equal(full.kind, 'full');
  assert.equal(full.kind === 'full' && full.message, capMessage(2));
  assert.match(capMessage(2), /2 channels at once.*--max-channels/);
  assert.deepEqual(lingerExpired([a, b, c], 30_030, 30_000), ['c']);
});

test('a stream player starts at a keyframe with a second of media behind it, never more than 2 s behind', () => {
  const chunk = (t: number, key: boolean) => ({
    channelKey: new Uint8Array(32),
    seq: t,
    captureTimeMs: t,
    flags: key ? FLAG_KEYFRAME : 0,
    payload: new Uint8Array([t % 256]),
    signature: new Uint8Array(64),
  });
  const plain = new StreamOutput();
  const burst = new StreamOutput(undefined, { burstMs: 1000, maxBehindMs: 2000 });
  // Keyframes every second, a chunk every 250 ms, up to 3.25 s.
  for (let t = 0; t <= 3250; t += 250) {
    plain.play(chunk(t, t % 1000 === 0));
    burst.play(chunk(t, t % 1000 === 0));
  }
  assert.equal(plain.startBehindMs, 250, 'watch: the newest keyframe');
  assert.equal(burst.startBehindMs, 1250, 'the gateway: the keyframe before, a second or more old');
  const got: number[] = [];
  burst.addClient({ write: (d) => got.push(d[0] as number), pendingBytes: 0, end: () => {} });
  assert.deepEqual(
    got,
    [2000, 2250, 2500, 2750, 3000, 3250].map((t) => t % 256),
  );
  burst.play(chunk(3500, false));
  burst.play(chunk(3750, false));
  // The newest keyframe (3000) is now 750 ms old; 2000 is 1750 ms: still within 2 s.
  assert.equal(burst.startBehindMs, 1750);
  burst.play(chunk(4000, true));
  assert.equal(burst.startBehindMs, 1000);
});

test("a new player's start stays bounded whatever the capture times say", () => {
  const burst = new StreamOutput(undefined, { burstMs: 1000, maxBehindMs: 2000 });
  // Capture times that never advance: every keyframe looks 0 ms old, so none ages out.
  const big = new Uint8Array(512 * 1024);
  for (let seq = 0; seq < 200; seq++)
    burst.play({
      channelKey: new Uint8Array(32),
      seq,
      captureTimeMs: 5000,
      flags: seq % 4 === 0 ? FLAG_KEYFRAME : 0,
      payload: big,
      signature: new Uint8Array(64),
    });
  let bytes = 0;
  burst.addClient({ write: (d) => (bytes += d.length), pendingBytes: 0, end: () => {} });
  assert.ok(bytes <= MAX_BACKLOG_BYTES, `a new player was sent ${bytes} bytes at once`);
  assert.ok(bytes > 0, 'and still gets a start');
});

test("the status line shows a channel's name with terminal control characters escaped", () => {
  const line = tvStatusLine({
    role: 'tv',
    lineup: 1,
    maxChannels: 4,
    refusedAtCap: 0,
    channels: [{ id: id(1), number: 1, name: 'News\u001b[2J\u0007', players: 1, joining: false, startBehindMs: 0, viewer: undefined }],
  });
  assert.ok(![...line].some((c) => (c.codePointAt(0) as number) < 0x20), JSON.stringify(line));
  assert.match(line, /^#1 News\\u\{1b\}\[2J/);
});
