// Zapping benchmark for `meshtv tv` (issue 23): a tracker, three small live channels and a cold
// gateway; ten switches among the three (the first visit of each joins its swarm, the later
// ones come back within the linger time). Each switch times the request of the channel URL to
// the player's first picture: the first video frame ffmpeg decodes with -analyzeduration
// 1000000, and the first picture headless VLC shows with its default settings (each player on
// its own cold gateway). It also reads how far behind the gateway's live edge each start began.
// Prints p50/p95 for cold joins and for returns.
// Run: npx tsx bench/tv-zap.ts [--switches 10] [--player ffmpeg|vlc|both]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ffmpegFirstFrameMs, liveChannels, meshtv, p50p95, stopAll, vlcFirstPictureMs } from './zap-clients.js';

const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const switches = Number(flag('--switches') ?? 10);
const player = flag('--player') ?? 'both';

const PLAYERS = {
  ffmpeg: {
    what: 'first frame decoded by ffmpeg -analyzeduration 1000000',
    firstPictureMs: (url: string) => ffmpegFirstFrameMs(url, ['-analyzeduration', '1000000']),
  },
  vlc: { what: 'first picture shown by VLC (default settings)', firstPictureMs: vlcFirstPictureMs },
};

async function zap(trackerUrl: string, dir: string, name: keyof typeof PLAYERS): Promise<void> {
  const { what, firstPictureMs } = PLAYERS[name];
  const gateway = meshtv(['tv', '--tracker', trackerUrl, '--http-port', '0', '--no-dht', '--linger', '60s'], { MESHTV_HOME: dir });
  const playlist = await gateway.line(/^(http:\S+\/playlist\.m3u)$/m);
  const urls = (await (await fetch(playlist)).text()).split('\n').filter((l) => l.startsWith('http'));
  if (urls.length !== 3) throw new Error(`the playlist lists ${urls.length} channels, not 3`);
  const cold: number[] = [];
  const back: number[] = [];
  const behind: number[] = [];
  process.stdout.write(`${name}: request of the channel URL to the ${what}, on a cold gateway\n`);
  for (let s = 0; s < switches; s++) {
    const url = urls[s % 3] as string;
    const ms = await firstPictureMs(url);
    (s < 3 ? cold : back).push(ms);
    const stats = (await (await fetch(playlist.replace('playlist.m3u', 'stats.json'))).json()) as {
      channels: { id: string; startBehindMs: number }[];
    };
    const id = /channel\/([0-9a-f]{64})/.exec(url)?.[1];
    behind.push(stats.channels.find((c) => c.id === id)?.startBehindMs ?? Number.NaN);
    process.stdout.write(`  switch ${s + 1}: ${s < 3 ? 'cold join' : 'back within linger'} ${ms.toFixed(0)} ms\n`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  process.stdout.write(`${name} cold join: ${p50p95(cold)}\n`);
  process.stdout.write(`${name} back within the linger time: ${p50p95(back)}\n`);
  process.stdout.write(`${name} all switches: ${p50p95([...cold, ...back])}\n`);
  process.stdout.write(`${name} start behind the gateway's live edge: ${p50p95(behind)}\n`);
  await gateway.stop();
}

async function main(): Promise<void> {
  if (player !== 'both' && !(player in PLAYERS)) throw new Error(`--player must be ffmpeg, vlc or both, got "${player}"`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-zap-'));
  try {
    const trackerUrl = await liveChannels(dir, 3);
    for (const name of player === 'both' ? (['ffmpeg', 'vlc'] as const) : [player as keyof typeof PLAYERS])
      await zap(trackerUrl, dir, name);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main()
  .catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  })
  .finally(stopAll);
