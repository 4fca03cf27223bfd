// Composition root of `meshtv tv`: a local TV gateway for IPTV apps. It keeps the trackers'
// line-up (tv-directory.ts), serves it as an M3U playlist with an XMLTV guide and logos
// (tv-server.ts), joins a channel's swarm on the first request for it and holds several at
// once (tv-channels.ts), and reports on all of them (tv-report.ts).

import path from 'node:path';
import { forTerminal, type Logger } from '../common/log.js';
import { Teardown } from '../common/teardown.js';
import type { StartBurst } from '../media/stream-output.js';
import type { PeerCoreConfig } from '../protocol/core-types.js';
import type { NetworkOptions } from './swarm-node.js';
import { GatewayRefusal, TvChannels } from './tv-channels.js';
import { TvDirectory } from './tv-directory.js';
import { TvGuides } from './tv-epg.js';
import { TvLogos } from './tv-logos.js';
import { renderPlaylist } from './tv-playlist.js';
import { type TvStats, tvMetrics, tvStats, tvStatusLine } from './tv-report.js';
import { startTvServer } from './tv-server.js';

export interface TvGatewayOptions {
  trackers: string[];
  /** Where the channel numbers are kept (MESHTV_HOME). */
  homeDir: string;
  host: string;
  port: number;
  announceAddress?: string;
  httpHost: string;
  httpPort: number;
  /** When httpPort is taken, try this many next ports, then any (for the default port). @default 0 */
  httpFallbackPorts?: number;
  /** @default 4 */
  maxChannels?: number;
  /** @default 30000 */
  lingerMs?: number;
  maxPeers?: number;
  /** Each joined channel keeps this much on disk for /channel/<id>/timeshift.m3u8; absent: none. */
  timeshift?: { windowMs: number; maxBytes?: number };
  core?: Partial<PeerCoreConfig>;
  network?: NetworkOptions;
  log: Logger;
}

export interface TvGateway {
  readonly baseUrl: string;
  stats(): TvStats;
  statusLine(): string;
  stop(): Promise<void>;
}

export const NUMBERS_FILE = 'tv-channels.json';
/** How often the line-up is looked up while nobody asks for the playlist. */
const REFRESH_MS = 15_000;
/**
 * Where a new player of /channel/<id>.ts starts: a keyframe at least a second old, so players
 * that probe a second of stream (ffmpeg, VLC) have it at once, but never more than 2 s behind
 * the gateway's live edge.
 */
export const GATEWAY_START_BURST: StartBurst = { burstMs: 1000, maxBehindMs: 2000 };

export async function startTvGateway(o: TvGatewayOptions): Promise<TvGateway> {
  const maxChannels = o.maxChannels ?? 4;
  const directory = new TvDirectory(o.trackers, path.join(o.homeDir, NUMBERS_FILE), o.log.child('lineup'));
  const logos = new TvLogos();
  const guides = new TvGuides();
  const channels = new TvChannels({
    maxChannels,
    lingerMs: o.lingerMs ?? 30_000,
    host: o.host,
    port: o.port,
    ...(o.announceAddress !== undefined ? { announceAddress: o.announceAddress } : {}),
    ...(o.maxPeers !== undefined ? { maxPeers: o.maxPeers } : {}),
    ...(o.timeshift !== undefined ? { timeshift: o.timeshift } : {}),
    ...(o.core !== undefined ? { core: o.core } : {}),
    ...(o.network !== undefined ? { network: o.network } : {}),
    startBurst: GATEWAY_START_BURST,
    log: o.log,
  });
  const teardown = new Teardown((err) => o.log.warn(`while stopping after a failed start: ${(err as Error).message}`));
  teardown.defer(() => channels.stop());
  const stats = () => tvStats(directory, channels, maxChannels);
  return teardown.start(async () => {
    await directory.refresh();
    const refresh = setInterval(() => {
      void directory.refresh().then(() => logos.keepOnly(new Set(directory.channels().map((c) => c.id))));
    }, REFRESH_MS);
    refresh.unref();
    teardown.defer(() => clearInterval(refresh));
    const server = await startTvServer({
      host: o.httpHost,
      port: o.httpPort,
      fallbackPorts: o.httpFallbackPorts ?? 0,
      log: o.log,
      routes: {
        playlist: async (base) => {
          await directory.fresh();
          return renderPlaylist(base, directory.channels());
        },
        epg: async (base) => {
          await directory.fresh();
          return guides.render(base, directory.channels(), Date.now());
        },
        logo: async (id) => {
          const c = directory.get(id);
          return c === undefined ? undefined : logos.logo(id, c.trackers);
        },
        channel: async (id) => {
          if (directory.get(id) === undefined) await directory.refresh();
          const c = directory.get(id);
          if (c === undefined) throw new GatewayRefusal(`channel ${id} is not live on ${o.trackers.join(', ')}; reload the playlist`, 404);
          return channels.join(c);
        },
        streamPlayer: (e) => channels.streamPlayer(e),
        hlsRequest: (e) => channels.hlsRequest(e),
        stats,
        metrics: tvMetrics(stats),
      },
    });
    teardown.defer(() => server.close());
    o.log.info(
      `${directory.channels().length} live channels: ${forTerminal(
        directory
          .channels()
          .map((c) => `#${c.number} ${c.name}`)
          .join(', '),
        true,
      )}`,
    );
    return {
      baseUrl: server.baseUrl,
      stats,
      statusLine: () => tvStatusLine(stats()),
      stop: () => teardown.undo(),
    };
  });
}
