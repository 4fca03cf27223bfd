// The gateway's /epg.xml: the programme guide of the playlist's channels, in the XMLTV the
// trackers serve (src/api/xmltv.ts: channel ids as the playlist's tvg-id), from each channel's
// guide as its broadcaster signed it. A gateway does not take a tracker's word for what is on:
// every guide is checked against the channel key before it is shown.

import { renderXmltv } from '../api/xmltv.js';
import { nodeVerify } from '../crypto/keys.js';
import type { ChannelGuide } from '../protocol/guide.js';
import { fetchChannelGuide } from './tracker-client.js';
import type { LineupChannel } from './tv-directory.js';

/** A guide is fetched again after this long (broadcasters republish theirs every minute). */
const GUIDE_TTL_MS = 60_000;

/** Where a channel's guide comes from: its trackers, first that answers. */
export type GuideSource = (channel: LineupChannel) => Promise<ChannelGuide | undefined>;

/** The first verified guide any of the channel's trackers holds. */
export const trackerGuides: GuideSource = async (channel) => {
  for (const tracker of channel.trackers) {
    try {
      const guide = await fetchChannelGuide(tracker, channel.id, nodeVerify);
      if (guide !== undefined) return guide;
    } catch {
      // a tracker that is down or sends a guide failing its check: the next one
    }
  }
  return undefined;
};

/** The line-up's guides, each fetched at most once a GUIDE_TTL_MS, for channels still in it. */
export class TvGuides {
  private readonly held = new Map<string, { guide: ChannelGuide | undefined; atMs: number }>();

  constructor(private readonly source: GuideSource = trackerGuides) {}

  async render(base: string, channels: readonly LineupChannel[], nowMs: number): Promise<string> {
    const live = new Set(channels.map((c) => c.id));
    for (const id of this.held.keys()) if (!live.has(id)) this.held.delete(id);
    const guides = await Promise.all(channels.map((c) => this.guideOf(c, nowMs)));
    return renderXmltv(
      channels.map((c, i) => ({ id: c.id, name: c.name, iconUrl: `${base}/logo/${c.id}.jpg`, guide: guides[i] })),
      nowMs,
    );
  }

  private async guideOf(channel: LineupChannel, nowMs: number): Promise<ChannelGuide | undefined> {
    const held = this.held.get(channel.id);
    if (held !== undefined && nowMs - held.atMs < GUIDE_TTL_MS) return held.guide;
    const guide = await this.source(channel);
    this.held.set(channel.id, { guide, atMs: nowMs });
    return guide;
  }
}
