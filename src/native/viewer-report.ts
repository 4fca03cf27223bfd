// A native viewer's numbers: /stats.json, /metrics and the status line, from its lanes (the
// playback numbers are the ones a browser viewer shows too, see runtime/viewer-stats.ts).

import { createMetrics, type MetricSpec } from '../common/metrics.js';
import { formatBps, formatBytes } from '../common/rate-meter.js';
import { playbackStats, ViewerRates } from '../runtime/viewer-stats.js';
import type { SignalingStats } from '../transport/webrtc-signaling.js';
import type { DhtDiscoveryStats } from './dht-discovery.js';
import type { SwarmNode } from './swarm-node.js';
import type { TimeshiftStats } from './timeshift-store.js';
import type { ViewerLanes } from './viewer-lanes.js';
import type { PlayerOutput } from './viewer-output.js';

/** Silence after which the viewer says it is waiting for the broadcaster. */
export const SILENCE_NOTICE_MS = 5000;

export interface ViewerStats {
  role: 'viewer';
  channelId: string;
  peers: number;
  started: boolean;
  startupMs: number | undefined;
  lagMs: number | undefined;
  bufferMs: number;
  downloadBps: number;
  uploadBps: number;
  mediaBytesIn: number;
  mediaBytesInFromSource: number;
  mediaBytesOut: number;
  /** The viewer's choices: relay or not, and the cap (bit/s) when there is one. */
  uploadEnabled: boolean;
  uploadLimitBps: number | undefined;
  /** Share of received media bytes that came from other viewers (not the source). */
  shareFromPeers: number;
  controlBytes: number;
  duplicateBytes: number;
  chunksPlayed: number;
  chunksLate: number;
  chunksSkipped: number;
  /** Media time played on time / media time due since playback started. */
  continuity: number;
  /** The rendition playing (absent: the channel has no ladder). */
  rendition: string | undefined;
  /** The channel's ladder, lowest first (empty: none). */
  renditions: { name: string; bitrateBps: number; height: number | undefined }[];
  /** 'auto' or the rendition asked for. */
  quality: string;
  /** The rendition being switched to. */
  switchingTo: string | undefined;
  /** Rendition switches so far. */
  switches: { up: number; down: number };
  /** Renditions whose swarms it is in: what it plays, and the lowest, which it relays when playing a higher one. */
  joined: string[];
  /** Time since the newest chunk arrived, once playing: long silence means the broadcaster is gone. */
  silentForMs: number | undefined;
  playerClients: number;
  /** HLS segments held (listed in /live.m3u8 or retained). */
  hlsSegments: number;
  /** The channel ended: the last chunk was played. */
  ended: boolean;
  /** What /timeshift.m3u8 holds, and its bound (absent: timeshift off). */
  timeshift: TimeshiftStats | undefined;
  neighbours: ReturnType<SwarmNode['linkStats']>;
  /** WebRTC connection attempts: sent, answered, connected by path, failed (absent: TCP only). */
  webrtc: SignalingStats | undefined;
  /** The DHT's routing table and what it found (absent: DHT off). */
  dht: DhtDiscoveryStats | undefined;
}

export class ViewerReport {
  private readonly rates = new ViewerRates();

  constructor(
    private readonly channelId: string,
    private readonly quality: string,
    private readonly lanes: ViewerLanes,
    private readonly output: PlayerOutput,
    /** The cap the user set (its lanes share it by rate); undefined: none. */
    private readonly uploadLimitBps: number | undefined,
    private readonly timeshift?: { stats(): TimeshiftStats },
  ) {}

  stats(): ViewerStats {
    const { lanes, output } = this;
    const now = Date.now();
    const t = lanes.totals();
    const current = lanes.lane.core.getStats();
    const node = lanes.lane.node;
    const multi = lanes.ladder.length > 1;
    const p = playbackStats(lanes, this.rates, now);
    return {
      role: 'viewer',
      channelId: this.channelId,
      peers: p.peers,
      started: current.started,
      startupMs: output.startupMs,
      lagMs: p.lagMs,
      bufferMs: p.bufferMs,
      downloadBps: p.downloadBps,
      uploadBps: p.uploadBps,
      mediaBytesIn: p.mediaBytesIn,
      mediaBytesInFromSource: t.mediaBytesInFromSource,
      mediaBytesOut: p.mediaBytesOut,
      uploadEnabled: node.core.uploadPolicy.enabled,
      uploadLimitBps: this.uploadLimitBps,
      shareFromPeers: p.shareFromPeers,
      controlBytes: lanes.counts().controlBytes,
      duplicateBytes: t.duplicateBytes,
      chunksPlayed: p.chunksPlayed,
      chunksLate: t.chunksLate,
      chunksSkipped: p.chunksSkipped,
      continuity: p.continuity,
      rendition: p.rendition,
      renditions: multi ? lanes.ladder.map((l) => ({ name: l.name, bitrateBps: l.bitrateBps, height: l.height })) : [],
      quality: this.quality,
      switchingTo: p.switchingTo,
      switches: p.switches,
      joined: multi ? lanes.joined : [],
      silentForMs: current.started && current.lastChunkAtMs !== undefined ? now - current.lastChunkAtMs : undefined,
      playerClients: output.stream.clientCount,
      hlsSegments: output.hls.held().length,
      ended: output.isEnded,
      timeshift: this.timeshift?.stats(),
      neighbours: node.linkStats(),
      webrtc: node.signalingStats(),
      dht: node.dhtStats(),
    };
  }

  /** The status line's note on the upload: off, or the cap it runs under. */
  uploadNote(): string {
    if (!this.lanes.lane.core.uploadPolicy.enabled) return ' (upload off)';
    return this.uploadLimitBps !== undefined ? ` of ${formatBps(this.uploadLimitBps)} cap` : '';
  }

  metrics(): ReturnType<typeof createMetrics> {
    const totals = () => this.lanes.totals();
    const current = () => this.lanes.lane.core;
    return createMetrics('meshtv_viewer', [
      { name: 'peers', help: 'Neighbours', read: () => current().getStats().neighbours },
      { name: 'media_bytes_in', help: 'Stream bytes received (new, verified) since start', read: () => totals().mediaBytesIn },
      {
        name: 'media_bytes_in_from_source',
        help: 'Stream bytes received from the broadcaster',
        read: () => totals().mediaBytesInFromSource,
      },
      { name: 'media_bytes_out', help: 'Stream bytes relayed to other viewers since start', read: () => totals().mediaBytesOut },
      { name: 'duplicate_bytes', help: 'Stream bytes received twice', read: () => totals().duplicateBytes },
      { name: 'control_bytes', help: 'Non-media bytes on peer links', read: () => this.lanes.counts().controlBytes },
      { name: 'chunks_played', help: 'Chunks handed to the player', read: () => totals().chunksPlayed },
      { name: 'chunks_skipped', help: 'Chunks given up at their deadline', read: () => totals().chunksSkipped },
      { name: 'lag_ms', help: 'Capture to hand-over to the player, last chunk', read: () => current().getStats().lastLagMs },
      { name: 'upload_limit_bps', help: 'Upload cap set by the viewer (absent: none)', read: () => this.uploadLimitBps },
      { name: 'upload_enabled', help: '1 when the viewer relays', read: () => (current().uploadPolicy.enabled ? 1 : 0) },
      ...timeshiftMetrics(this.timeshift),
    ]);
  }
}

/** The timeshift window's gauges, absent when timeshift is off. */
function timeshiftMetrics(timeshift: { stats(): TimeshiftStats } | undefined): MetricSpec[] {
  if (timeshift === undefined) return [];
  return [
    { name: 'timeshift_window_seconds', help: 'Timeshift window asked for', read: () => timeshift.stats().windowMs / 1000 },
    { name: 'timeshift_held_seconds', help: 'Media time /timeshift.m3u8 spans now', read: () => timeshift.stats().heldMs / 1000 },
    { name: 'timeshift_held_bytes', help: 'Timeshift bytes on disk now', read: () => timeshift.stats().heldBytes },
    { name: 'timeshift_max_bytes', help: 'Bound on the timeshift bytes on disk', read: () => timeshift.stats().maxBytes },
  ];
}

/** The one-line summary a terminal shows, refreshed in place. */
export function statusLine(s: ViewerStats, uploadNote: string): string {
  const lag = s.lagMs === undefined ? '-' : `${(s.lagMs / 1000).toFixed(1)} s`;
  return [
    `peers ${s.peers}`,
    ...(s.rendition !== undefined
      ? [`${s.rendition}${s.quality === 'auto' ? ' (auto)' : ''}${s.switchingTo !== undefined ? ` -> ${s.switchingTo}` : ''}`]
      : []),
    `down ${formatBps(s.downloadBps)}`,
    `up ${formatBps(s.uploadBps)}${uploadNote} (${formatBytes(s.mediaBytesOut)} total)`,
    `buffer ${(s.bufferMs / 1000).toFixed(1)} s`,
    `lag ${lag}`,
    `from peers ${(s.shareFromPeers * 100).toFixed(0)}%`,
    s.ended
      ? 'channel ended'
      : s.silentForMs !== undefined && s.silentForMs >= SILENCE_NOTICE_MS
        ? `no new data for ${Math.round(s.silentForMs / 1000)} s: waiting for the broadcaster`
        : s.started
          ? `continuity ${(s.continuity * 100).toFixed(1)}%`
          : 'joining',
  ].join(' | ');
}
