// `meshtv tv` with real processes: a tracker with three small channels; the gateway's playlist
// lists the three, ffmpeg decodes the second entry, the cap answers 503 with how to raise it,
// VLC (as an unprivileged user) opens the playlist and records the second entry, and the
// channel numbers survive a restart of the gateway.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { decode, meshtv, type Proc, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

const SMALL = ['--resolution', '320x180', '--video-bitrate', '300k', '--audio-bitrate', '32k', '--no-dht'];

interface Entry {
  id: string;
  number: string;
  url: string;
}

async function entries(playlistUrl: string): Promise<Entry[]> {
  const text = await (await fetch(playlistUrl)).text();
  const lines = text.trim().split('\n');
  assert.match(lines[0] as string, /^#EXTM3U x-tvg-url="http:\/\/127\.0\.0\.1:\d+\/epg\.xml"$/);
  const out: Entry[] = [];
  for (let i = 1; i < lines.length; i += 2) {
    const m = /^#EXTINF:-1 tvg-id="([0-9a-f]{64})\.meshtv" .*tvg-chno="(\d+)" group-title="[^"]*",/.exec(lines[i] as string);
    assert.ok(m, `not an #EXTINF line: ${lines[i]}`);
    out.push({ id: m[1] as string, number: m[2] as string, url: lines[i + 1] as string });
  }
  return out;
}

async function startGateway(trackerUrl: string, home: string): Promise<{ proc: Proc; playlistUrl: string }> {
  const proc = meshtv(['tv', '--tracker', trackerUrl, '--http-port', '0', '--max-channels', '2', '--no-dht'], { MESHTV_HOME: home });
  const playlistUrl = (await proc.waitFor(/^(http:\S+\/playlist\.m3u)$/m))[1] as string;
  return { proc, playlistUrl };
}

/** Reads a channel's stream until aborted: a player that stays. */
async function stayOn(url: string, signal: AbortSignal): Promise<void> {
  const res = await fetch(url, { signal });
  assert.equal(res.status, 200);
  const reader = res.body?.getReader();
  await reader?.read();
  void (async () => {
    while (!(await reader?.read().catch(() => ({ done: true })))?.done);
  })();
}

test('meshtv tv: playlist, decoding, the cap, VLC, numbers across a restart', { timeout: 120_000 }, async (t) => {
  const dir = tempDir('tv');
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  // Channel One describes itself: its category and programme reach the playlist and the guide.
  const schedule = path.join(dir, 'one.json');
  const hour = 3600_000;
  const from = Math.floor(Date.now() / hour) * hour;
  fs.writeFileSync(
    schedule,
    JSON.stringify([{ start: new Date(from).toISOString(), stop: new Date(from + 2 * hour).toISOString(), title: 'Morning <Show>' }]),
  );
  const described = ['--category', 'News', '--schedule', schedule];
  const sources = ['One', 'Two', 'Three'].map((name) =>
    meshtv([
      'broadcast',
      '--tracker',
      trackerUrl,
      '--name',
      `Chan ${name}`,
      '--key',
      path.join(dir, `${name}.key`),
      ...SMALL,
      ...(name === 'One' ? described : []),
    ]),
  );
  const home = path.join(dir, 'home');
  let gateway = await startGateway(trackerUrl, home);

  let list: Entry[] = [];
  await waitUntil(
    'the playlist lists the three channels',
    async () => {
      list = await entries(gateway.playlistUrl);
      return list.length === 3;
    },
    20_000,
  );
  const second = list[1] as Entry;

  await t.test('a channel played keeps its timeshift window (on by default), offered with program date-times', async () => {
    const url = second.url.replace(/\.ts$/, '/timeshift.m3u8');
    let text = '';
    await waitUntil(
      'the timeshift playlist lists a segment',
      async () => {
        const res = await fetch(url);
        text = await res.text();
        return res.status === 200 && /#EXT-X-PROGRAM-DATE-TIME:/.test(text);
      },
      15_000,
    );
    const segment = text.split('\n').find((l) => l.endsWith('.ts')) as string;
    const res = await fetch(new URL(segment, url));
    assert.equal(res.status, 200, segment);
    assert.ok((await res.arrayBuffer()).byteLength > 0);
  });

  await t.test("the playlist's groups and the guide come from the broadcasters' signed descriptions", async () => {
    // The broadcaster publishes its description a moment after its channel is listed, and the
    // gateway looks the line-up up again when its copy is 3 s old.
    let text = '';
    await waitUntil(
      "Chan One's category in the playlist",
      async () => {
        text = await (await fetch(gateway.playlistUrl)).text();
        return /group-title="News"/.test(text);
      },
      15_000,
    ).catch(() => undefined);
    assert.match(text, /tvg-name="Chan One" .*group-title="News",Chan One/);
    const guide = await (await fetch(gateway.playlistUrl.replace('/playlist.m3u', '/epg.xml'))).text();
    for (const e of list) assert.match(guide, new RegExp(`<channel id="${e.id}\\.meshtv">`));
    assert.match(guide, /<title>Morning &lt;Show&gt;<\/title>/);
  });

  const decoded = await decode(second.url, 3);
  assert.equal(decoded.exitCode, 0, decoded.errors);
  assert.ok(decoded.videoFrames >= 50, `${decoded.videoFrames} video frames in 3 s`);

  await t.test('past --max-channels, a 503 that says the cap and how to raise it', async () => {
    const players = new AbortController();
    try {
      await Promise.all([stayOn((list[0] as Entry).url, players.signal), stayOn(second.url, players.signal)]);
      const res = await fetch((list[2] as Entry).url);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /2 channels at once.*--max-channels/);
      await gateway.proc.waitFor(/refused channel #\d+ .*2 channels already playing/, 'stderr');
    } finally {
      players.abort();
    }
  });

  await t.test('VLC opens the playlist, plays its second entry, and what it records decodes', vlcSkip(), async () => {
    // Its own directory under /tmp: nobody cannot enter the test's private temporary directory.
    const recordDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-vlc-'));
    t.after(() => fs.rmSync(recordDir, { recursive: true, force: true }));
    fs.chmodSync(recordDir, 0o777);
    const file = path.join(recordDir, 'second.ts');
    const log = await recordSecondEntry(gateway.playlistUrl, file, 11_000);
    assert.match(log, new RegExp(`new input: ${second.url.replace(/[.]/g, '\\.')}`), 'VLC moved to the second entry');
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
    assert.ok(Number(probe.stdout.toString()) >= 8, `recorded ${probe.stdout.toString().trim()} s`);
    const d = await decode(file, 30);
    assert.equal(d.exitCode, 0, d.errors);
    const spanS = (d.videoPtsS.at(-1) ?? 0) - (d.videoPtsS[0] ?? 0);
    assert.ok(spanS >= 8, `decoded ${spanS.toFixed(1)} s of video`);
  });

  // Channel 1 ends while the gateway is down: the others keep their numbers (2 and 3), which
  // only the numbers file can tell a new gateway process.
  await gateway.proc.stop();
  const first = list[0] as Entry;
  const firstSource = sources.find((p) => p.stdout.includes(first.id)) as Proc;
  await firstSource.stop();
  await waitUntil('the tracker drops the ended channel', async () => {
    const live = (await (await fetch(`${trackerUrl}/api/channels`)).json()) as { id: string }[];
    return !live.some((c) => c.id === first.id);
  });
  gateway = await startGateway(trackerUrl, home);
  const again = await entries(gateway.playlistUrl);
  assert.deepEqual(
    again.map((e) => [e.id, e.number]),
    list.slice(1).map((e) => [e.id, e.number]),
    'channel numbers changed across a restart',
  );
});

function vlcSkip(): { skip?: string } {
  if (process.getuid?.() !== 0) return { skip: 'VLC must run as another user (nobody): needs root to switch' };
  if (!fs.existsSync('/usr/bin/cvlc')) return { skip: 'cvlc missing: apt-get install vlc-bin vlc-plugin-base' };
  return {};
}

/**
 * Runs cvlc as nobody on the playlist with its command interface: once the first entry plays,
 * `next` moves to the second, which is recorded (the file starts over with each entry) for
 * `recordMs`. Returns what VLC printed, with the input `status` named after the move.
 */
function recordSecondEntry(playlistUrl: string, file: string, recordMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sout = `#std{access=file,mux=ts,dst=${file}}`;
    const vlc = spawn('runuser', ['-u', 'nobody', '--', 'cvlc', '-I', 'rc', '--rc-fake-tty', playlistUrl, '--sout', sout], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let moved = false;
    let recording = false;
    const timer = setTimeout(() => vlc.kill('SIGKILL'), recordMs + 30_000);
    const onOutput = (d: Buffer) => {
      out += d.toString();
      // VLC announces no first input: a few seconds after its interface is up, the first entry plays.
      if (!moved && out.includes('Command Line Interface initialized')) {
        moved = true;
        setTimeout(() => vlc.stdin.write('next\n'), 3000);
        // `status` names the input now playing.
        setTimeout(() => vlc.stdin.write('status\n'), 4000);
      }
      if (!recording && out.includes('new input: ')) {
        recording = true;
        setTimeout(() => vlc.stdin.write('quit\n'), recordMs);
      }
    };
    vlc.stdout.on('data', onOutput);
    vlc.stderr.on('data', onOutput);
    vlc.on('error', reject);
    vlc.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}
