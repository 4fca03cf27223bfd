// How a swarm node reaches peers beyond TCP, as the trackers say: STUN/TURN servers (the
// flags win; else the first tracker's that answers, refreshed hourly since TURN credentials
// may expire) and where to signal for WebRTC.

import type { Logger } from '../common/log.js';
import { describeIceServers, type IceServer } from '../transport/ice.js';
import { signalingUrlOf } from '../transport/webrtc-signaling.js';
import { fetchNetworkConfig } from './tracker-client.js';

const REFRESH_MS = 3_600_000;
/** No tracker answered yet: ask again this soon rather than in an hour. */
const RETRY_MS = 30_000;

export interface NetworkSettingsOptions {
  trackers: string[];
  /** From the flags; undefined: whatever the trackers hand out. */
  iceServers?: IceServer[];
  /** Signal through each HTTP tracker's designated WebTorrent trackers (or its own /announce). */
  webrtc?: boolean;
  /** WebTorrent-protocol trackers to signal through besides. */
  signalingUrls?: string[];
  log: Logger;
}

export class NetworkSettings {
  iceServers: IceServer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: NetworkSettingsOptions) {}

  /** Asks every tracker; returns the signalling URLs to use. */
  async load(): Promise<string[]> {
    const o = this.o;
    const wantsConfig = o.webrtc === true || o.iceServers === undefined;
    const configs = wantsConfig
      ? await Promise.all(
          o.trackers.map((t) =>
            fetchNetworkConfig(t).catch((err: Error) => {
              o.log.debug(`no network settings from ${t}: ${err.message}`);
              return undefined;
            }),
          ),
        )
      : [];
    const answered = configs.find((c) => c !== undefined);
    this.iceServers = o.iceServers ?? answered?.iceServers ?? [];
    o.log.debug(`ICE servers: ${describeIceServers(this.iceServers)}`);
    if (o.iceServers === undefined && answered === undefined && o.trackers.length > 0) this.scheduleRefresh(RETRY_MS);
    else if (o.iceServers === undefined) this.scheduleRefresh(REFRESH_MS);
    const urls = [...(o.signalingUrls ?? [])];
    if (o.webrtc === true)
      o.trackers.forEach((t, i) => {
        const designated = configs[i]?.signaling ?? [];
        urls.push(...(designated.length > 0 ? designated : [signalingUrlOf(t)]));
      });
    return [...new Set(urls)];
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private scheduleRefresh(ms: number): void {
    // A fetch still under way when the node stopped must not start the refresh again.
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      Promise.any(this.o.trackers.map((t) => fetchNetworkConfig(t))).then(
        (c) => {
          this.iceServers = c.iceServers;
          this.scheduleRefresh(REFRESH_MS);
        },
        () => this.scheduleRefresh(Math.min(ms * 2, REFRESH_MS)),
      );
    }, ms);
    this.timer.unref();
  }
}
