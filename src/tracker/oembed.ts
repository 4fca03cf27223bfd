// oEmbed (https://oembed.com, §2) for the tracker's channels: `GET /oembed?url=<watch or embed
// URL>&format=json` answers a `video` whose html is an <iframe> of /embed/<id>, so that blogs and
// chats can turn a pasted channel link into a player. Pure: the route (routes.ts) supplies the
// request's host and the channel's name. Only this tracker's own watch and embed addresses are
// accepted, so the endpoint can never be made to describe someone else's page.

import { HttpError } from './http.js';

/** The iframe's size when the consumer sets no bound: 16:9, the player's own shape. */
export const OEMBED_DEFAULT_WIDTH = 640;
export const OEMBED_DEFAULT_HEIGHT = 360;
/** Narrower than this a player has no room for its controls. */
const MIN_WIDTH = 200;

const CHANNEL_PAGE = /^\/(watch|embed)\/([0-9a-f]{64})\/?$/;
/** A Host header: a DNS name or IPv4 address, or a bracketed IPv6 address, and an optional port. */
const HOST = /^(?:[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?|\[[0-9a-f:.]{2,45}\])(?::[0-9]{1,5})?$/i;

export interface OembedTarget {
  /** The origin the consumer used (its scheme and this tracker's host). */
  origin: string;
  channelId: string;
  /** The embedding site asked the player not to upload (`?share=0` on an embed URL). */
  noShare: boolean;
}

/** The request's Host header when it is a well-formed host, lower-cased; undefined otherwise. */
export function ownHost(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined || !HOST.test(hostHeader)) return undefined;
  try {
    return new URL(`http://${hostHeader}`).host;
  } catch {
    return undefined;
  }
}

/**
 * Parses the `url` parameter: an absolute http(s) URL on `host` (this tracker, as the request
 * named it) whose path is /watch/<id> or /embed/<id>, with no credentials, no fragment, and no
 * query but an embed's `share=0|1`. Throws a 400 that says what is wrong.
 */
export function parseOembedUrl(raw: string | null, host: string | undefined): OembedTarget {
  if (raw === null || raw === '') throw new HttpError(400, 'url parameter required: a watch or embed page of this tracker');
  if (host === undefined) throw new HttpError(400, 'the request has no valid Host header to compare the url with');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HttpError(400, 'url is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HttpError(400, 'url must be http or https');
  if (url.username !== '' || url.password !== '') throw new HttpError(400, 'url must not carry a user name or password');
  if (url.host !== host) throw new HttpError(404, `url is not on this tracker (${host})`);
  const page = CHANNEL_PAGE.exec(url.pathname);
  if (page === null) throw new HttpError(404, 'url is not a channel page: /watch/<id> or /embed/<id>, the id in 64 lower-case hex digits');
  if (url.hash !== '') throw new HttpError(400, 'url must not have a fragment');
  const keys = [...url.searchParams.keys()];
  const share = url.searchParams.get('share');
  const shareOnly = keys.length === 1 && keys[0] === 'share' && (share === '0' || share === '1') && page[1] === 'embed';
  if (keys.length > 0 && !shareOnly) throw new HttpError(400, 'url may carry no query but share=0 or share=1 on an embed page');
  return { origin: url.origin, channelId: page[2] as string, noShare: share === '0' };
}

/** The iframe's size within the consumer's maxwidth/maxheight (§2.2), keeping 16:9. */
export function oembedSize(maxwidth: string | null, maxheight: string | null): { width: number; height: number } {
  const bound = (value: string | null, name: string): number => {
    if (value === null) return Number.POSITIVE_INFINITY;
    if (!/^[0-9]{1,5}$/.test(value)) throw new HttpError(400, `${name} must be a whole number of pixels`);
    return Number(value);
  };
  const maxW = bound(maxwidth, 'maxwidth');
  const maxH = bound(maxheight, 'maxheight');
  const width = Math.floor(Math.min(OEMBED_DEFAULT_WIDTH, maxW, (maxH * 16) / 9));
  if (width < MIN_WIDTH) throw new HttpError(404, `no player fits in less than ${MIN_WIDTH} pixels wide (16:9)`);
  return { width, height: Math.round((width * 9) / 16) };
}

/** Escapes text for an HTML attribute value in double quotes. */
function attribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The oEmbed answer (§2.3.4, type video) for a channel named `name`. */
export function oembedAnswer(target: OembedTarget, name: string, size: { width: number; height: number }): Record<string, unknown> {
  const src = `${target.origin}/embed/${target.channelId}${target.noShare ? '?share=0' : ''}`;
  const html =
    `<iframe src="${attribute(src)}" width="${size.width}" height="${size.height}" title="${attribute(name)}" ` +
    'style="border:0" allow="autoplay; fullscreen" allowfullscreen></iframe>';
  return {
    version: '1.0',
    type: 'video',
    title: name,
    provider_name: 'meshtv',
    provider_url: `${target.origin}/`,
    html,
    width: size.width,
    height: size.height,
  };
}

/** `GET /oembed`: the answer for `params`, or an HttpError (501 for any format but json, §2.3.5). */
export function answerOembed(
  params: URLSearchParams,
  hostHeader: string | undefined,
  channelName: (id: string) => string | undefined,
): Record<string, unknown> {
  const format = params.get('format');
  if (format !== null && format !== 'json') throw new HttpError(501, `format ${format} is not offered; only json`);
  const target = parseOembedUrl(params.get('url'), ownHost(hostHeader));
  const name = channelName(target.channelId);
  if (name === undefined) throw new HttpError(404, 'no such channel on this tracker');
  return oembedAnswer(target, name, oembedSize(params.get('maxwidth'), params.get('maxheight')));
}
