/// <reference lib="dom" />
// Whether the watch page's channel is live, unknown to the tracker, or over, and what the page
// says when it cannot play at all (no such channel, an ended broadcast, a browser without Media
// Source Extensions): a card in place of the player with a way back to the channel list, never
// a black player with "Looking for peers…" forever.

import { formatChannelUri } from '../../api/channel-uri.js';
import { CHANNEL_ENDED_ERROR, CHANNEL_UNKNOWN_ERROR } from '../../api/tracker-api.js';
import { byId, setText } from './dom.js';

export type ChannelState = 'live' | 'unknown' | 'ended';

/** The state GET /api/channels/ID tells (its status and JSON body); undefined when it tells nothing (an error, a tracker too old to say). */
export function channelStateOf(status: number, body: unknown): ChannelState | undefined {
  if (status === 200) return 'live';
  if (status !== 404) return undefined;
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (error === CHANNEL_ENDED_ERROR) return 'ended';
  if (error === CHANNEL_UNKNOWN_ERROR) return 'unknown';
  return undefined;
}

export async function fetchChannelState(channelId: string): Promise<ChannelState | undefined> {
  const res = await fetch(`/api/channels/${channelId}`, { cache: 'no-store' });
  return channelStateOf(res.status, await res.json().catch(() => undefined));
}

export interface Blocker {
  title: string;
  detail: string;
  /** A command to copy (shown as code after the detail). */
  command?: string;
}

/**
 * What to show instead of the player while the directory says the channel is not live and nothing
 * plays. The viewer keeps running meanwhile, so a broadcaster that comes back plays at once.
 */
export function channelBlocker(state: ChannelState | undefined, playing: boolean): Blocker | undefined {
  if (playing) return undefined;
  if (state === 'unknown')
    return {
      title: 'No such channel',
      detail: 'No broadcaster has announced this channel id to this tracker. Check the link, or pick a channel from the list.',
    };
  if (state === 'ended')
    return {
      title: 'This broadcast has ended',
      detail: 'The channel is not live any more. If its broadcaster comes back, it plays here again.',
    };
  return undefined;
}

/** For a browser with no Media Source at all: the way to watch this channel outside the page. */
export function noMediaSourceBlocker(channelId: string, trackerUrl: string): Blocker {
  return {
    title: 'This browser cannot play live video in a page',
    detail:
      'It has no Media Source Extensions. Open the stream in VLC, mpv or ffplay with the meshtv app instead ' +
      '(it joins the swarm and starts the player):',
    command: `meshtv watch '${formatChannelUri(channelId, [trackerUrl])}'`,
  };
}

/** Shows `b` in the #channel-gone card in place of the player, or the player again for undefined. */
export function showBlocker(b: Blocker | undefined): void {
  const card = byId('channel-gone');
  const shown = b !== undefined;
  card.hidden = !shown;
  byId('player').hidden = shown;
  if (b === undefined) return;
  setText(byId('gone-title'), b.title);
  setText(byId('gone-detail'), b.detail);
  const command = byId('gone-command');
  command.hidden = b.command === undefined;
  setText(command, b.command ?? '');
}
