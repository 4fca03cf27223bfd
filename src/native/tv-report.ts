// The TV gateway's numbers: /stats.json with every held channel's viewer stats, /metrics with
// one series per channel (label `channel`, its id), and the terminal's status line.

import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { forTerminal } from '../common/log.js';
import { formatBps } from '../common/rate-meter.js';
import type { HeldEntry, TvChannels } from './tv-channels.js';
import type { TvDirectory } from './tv-directory.js';
import type { ViewerStats } from './viewer-report.js';

export interface TvChannelStats {
  id: string;
  number: number;
  name: string;
  /** Players reading it now; 0 while it lingers. */
  players: number;
  /** Joining: the swarm is not joined yet. */
  joining: boolean;
  /** How far behind the newest chunk a player starting now begins (the start burst). */
  startBehindMs: number;
  viewer: ViewerStats | undefined;
}

export interface TvStats {
  role: 'tv';
  /** Live channels in the playlist. */
  lineup: number;
  maxChannels: number;
  refusedAtCap: number;
  channels: TvChannelStats[];
}

export function tvStats(directory: TvDirectory, channels: TvChannels, maxChannels: number): TvStats {
  return {
    role: 'tv',
    lineup: directory.channels().length,
    maxChannels,
    refusedAtCap: channels.refusedAtCap,
    channels: channels.entries().map((e) => channelStats(channels, e)),
  };
}

function channelStats(channels: TvChannels, e: HeldEntry): TvChannelStats {
  const started = e.session !== undefined && e.session.report !== undefined;
  return {
    id: e.channel.id,
    number: e.channel.number,
    name: e.channel.name,
    players: channels.players(e),
    joining: !started,
    startBehindMs: e.session?.output.stream.startBehindMs ?? 0,
    viewer: started ? e.session?.report.stats() : undefined,
  };
}

/** Per-channel series: name, help, and the value read from a channel's viewer stats. */
const CHANNEL_SERIES: [string, string, (s: TvChannelStats) => number | undefined][] = [
  ['players', 'Players reading the channel from the gateway', (s) => s.players],
  ['peers', 'Neighbours in the channel swarm', (s) => s.viewer?.peers],
  ['download_bps', 'Download rate of the channel', (s) => s.viewer?.downloadBps],
  ['upload_bps', 'Upload rate to other viewers of the channel', (s) => s.viewer?.uploadBps],
  ['media_bytes_in', 'Stream bytes received since the channel was joined', (s) => s.viewer?.mediaBytesIn],
  ['media_bytes_out', 'Stream bytes relayed to other viewers since the channel was joined', (s) => s.viewer?.mediaBytesOut],
  ['chunks_played', 'Chunks handed to players', (s) => s.viewer?.chunksPlayed],
  ['chunks_skipped', 'Chunks given up at their deadline', (s) => s.viewer?.chunksSkipped],
  ['lag_ms', 'Capture to hand-over to players, last chunk', (s) => s.viewer?.lagMs],
];

export function tvMetrics(read: () => TvStats): () => Promise<string> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'meshtv_tv_' });
  const totals: [string, string, (s: TvStats) => number][] = [
    ['channels_joined', 'Channels the gateway holds joined', (s) => s.channels.length],
    ['channels_max', 'Most channels joined at once (--max-channels)', (s) => s.maxChannels],
    ['lineup_channels', 'Live channels in the playlist', (s) => s.lineup],
    ['refused_at_cap', 'Channel requests refused because the cap was reached', (s) => s.refusedAtCap],
  ];
  // Read once per scrape, by every gauge's collect().
  let snapshot: TvStats | undefined;
  for (const [name, help, value] of totals)
    new Gauge({
      name: `meshtv_tv_${name}`,
      help,
      registers: [registry],
      collect() {
        if (snapshot !== undefined) this.set(value(snapshot));
      },
    });
  for (const [name, help, value] of CHANNEL_SERIES) {
    new Gauge({
      name: `meshtv_tv_channel_${name}`,
      help,
      labelNames: ['channel'],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of snapshot?.channels ?? []) {
          const v = value(c);
          if (v !== undefined && Number.isFinite(v)) this.set({ channel: c.id }, v);
        }
      },
    });
  }
  return async () => {
    snapshot = read();
    return registry.metrics();
  };
}

/** One line: each held channel with its number, players and lag, then the totals. */
export function tvStatusLine(s: TvStats): string {
  if (s.channels.length === 0) return `${s.lineup} channels in the playlist | nothing playing`;
  let down = 0;
  let up = 0;
  const parts = s.channels.map((c) => {
    down += c.viewer?.downloadBps ?? 0;
    up += c.viewer?.uploadBps ?? 0;
    const what = c.joining ? 'joining' : c.viewer?.ended ? 'ended' : c.players > 0 ? `${c.players} watching` : 'lingering';
    const lag = c.viewer?.lagMs !== undefined ? `, lag ${(c.viewer.lagMs / 1000).toFixed(1)} s` : '';
    // A name is the broadcaster's (through a tracker): escaped before it reaches a terminal.
    return `#${c.number} ${forTerminal(c.name.slice(0, 20), true)} (${what}${lag})`;
  });
  return [...parts, `down ${formatBps(down)}`, `up ${formatBps(up)}`].join(' | ');
}
