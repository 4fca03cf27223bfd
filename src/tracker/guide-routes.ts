// The programme guide's routes: a channel's signed guide and logo (POST by the broadcaster, GET
// for anyone, the guide still signed so that others can check it) and GET /epg.xml, XMLTV for
// every live channel. Bodies are size-capped and verified before anything is kept.

import type http from 'node:http';
import { renderXmltv } from '../api/xmltv.js';
import { hexToBytes } from '../common/hex.js';
import { nodeVerify } from '../crypto/keys.js';
import { canonicalGuide, checkSignedGuide, MAX_GUIDE_BYTES, type SignedChannelGuide } from '../protocol/guide.js';
import { logoType, MAX_LOGO_BYTES, verifyLogo } from '../protocol/logo.js';
import type { Directory } from './directory.js';
import { HttpError, RawBody, readBody } from './http.js';

/** How far a signed time may be from the tracker's clock (a far-future one would win for ever). */
const SIGNED_SKEW_MS = 10 * 60_000;
/** /epg.xml is built at most this often per host name: it costs every live channel's guide. */
const EPG_CACHE_MS = 5000;

/** Each tracker's last /epg.xml. */
const epgCaches = new WeakMap<Directory, { builtAtMs: number; origin: string; body: Uint8Array }>();

/** Answers a guide route, or undefined when the request is not one. */
export function guideRoute(
  directory: Directory,
  req: http.IncomingMessage,
  url: URL,
  now: number,
  webrtcPeers: (channelId: string) => number,
): Promise<unknown> | undefined {
  if (url.pathname === '/epg.xml' && req.method === 'GET') return Promise.resolve(epg(directory, req, now, webrtcPeers));
  const m = /^\/api\/channels\/([0-9a-f]{64})\/(guide|logo)$/.exec(url.pathname);
  if (m === null) return undefined;
  const id = m[1] as string;
  if (m[2] === 'guide' && req.method === 'POST') return putGuide(directory, req, id, now);
  if (m[2] === 'logo' && req.method === 'POST') return putLogo(directory, req, id, now);
  if (req.method !== 'GET') return undefined;
  if (m[2] === 'guide') {
    const signed = directory.guides.signedGuide(id);
    if (signed === undefined) return Promise.reject(new HttpError(404, 'no guide for this channel'));
    return Promise.resolve(signed);
  }
  const logo = directory.guides.logo(id);
  if (logo === undefined) return Promise.reject(new HttpError(404, 'no logo for this channel'));
  return Promise.resolve(new RawBody(logo.type, logo.image));
}

function checkSignedTime(issuedAtMs: number, now: number, what: string): void {
  if (Math.abs(issuedAtMs - now) > SIGNED_SKEW_MS)
    throw new HttpError(
      400,
      `the ${what}'s signed time is ${Math.round((issuedAtMs - now) / 1000)} s from the tracker's clock`,
      `stale-${what}`,
    );
}

/** POST /api/channels/ID/guide: {guide, signature} signed by the channel key, kept if newer. */
async function putGuide(directory: Directory, req: http.IncomingMessage, id: string, now: number): Promise<unknown> {
  const body = await readBody(req, MAX_GUIDE_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
  const problem = checkSignedGuide(parsed, nodeVerify);
  if (problem !== undefined) throw new HttpError(400, `guide refused: ${problem}`, 'bad-guide');
  const signed = parsed as SignedChannelGuide;
  if (signed.guide.channelId !== id) throw new HttpError(400, 'guide refused: it is signed for another channel', 'bad-guide');
  checkSignedTime(signed.guide.issuedAtMs, now, 'guide');
  if (directory.record(id) === undefined) throw new HttpError(409, 'unknown channel: publish its record first', 'unknown-channel');
  if (!directory.guides.putGuide({ guide: canonicalGuide(signed.guide), signature: signed.signature }, body.length))
    throw new HttpError(409, 'an older guide cannot replace a newer one', 'stale-guide');
  return { ok: true };
}

/** POST /api/channels/ID/logo: a PNG or JPEG signed by the channel key (headers as for thumbnails). */
async function putLogo(directory: Directory, req: http.IncomingMessage, id: string, now: number): Promise<unknown> {
  const issuedAtMs = Number(req.headers['x-meshtv-issued-at']);
  const signature = String(req.headers['x-meshtv-signature'] ?? '');
  if (!Number.isFinite(issuedAtMs) || !/^[0-9a-f]{128}$/.test(signature))
    throw new HttpError(400, 'x-meshtv-issued-at and x-meshtv-signature headers required');
  checkSignedTime(issuedAtMs, now, 'logo');
  const image = await readBody(req, MAX_LOGO_BYTES);
  const type = logoType(image);
  if (type === undefined) throw new HttpError(400, 'the logo must be a PNG or JPEG image', 'bad-logo');
  if (!verifyLogo(hexToBytes(id), issuedAtMs, image, hexToBytes(signature), nodeVerify))
    throw new HttpError(400, 'logo signature does not match the channel key', 'bad-logo');
  if (directory.record(id) === undefined) throw new HttpError(409, 'unknown channel: publish its record first', 'unknown-channel');
  if (!directory.guides.putLogo(id, issuedAtMs, image, type))
    throw new HttpError(409, 'an older logo cannot replace a newer one', 'stale-logo');
  return { ok: true };
}

/** XMLTV for every live channel; logo URLs on the host the request named. */
function epg(directory: Directory, req: http.IncomingMessage, now: number, webrtcPeers: (channelId: string) => number): RawBody {
  const origin = requestOrigin(req);
  const epgCache = epgCaches.get(directory);
  if (epgCache !== undefined && epgCache.origin === (origin ?? '') && now >= epgCache.builtAtMs && now - epgCache.builtAtMs < EPG_CACHE_MS)
    return new RawBody('application/xml; charset=utf-8', epgCache.body);
  const channels = directory.liveChannels(now, webrtcPeers).map((c) => {
    const guide = directory.guides.guide(c.id);
    return {
      id: c.id,
      name: c.name,
      ...(c.hasLogo && origin !== undefined ? { iconUrl: `${origin}/api/channels/${c.id}/logo` } : {}),
      ...(guide !== undefined ? { guide } : {}),
    };
  });
  const body = new TextEncoder().encode(renderXmltv(channels, now));
  epgCaches.set(directory, { builtAtMs: now, origin: origin ?? '', body });
  return new RawBody('application/xml; charset=utf-8', body);
}

/** http(s)://HOST[:PORT] from the request's Host header, when it is a plain host name or address. */
function requestOrigin(req: http.IncomingMessage): string | undefined {
  const host = req.headers.host ?? '';
  if (!/^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/.test(host)) return undefined;
  const scheme = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  return `${scheme}://${host}`;
}
