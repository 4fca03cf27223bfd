// The tracker's API: channel directory (GET /api/channels, GET /api/channels/ID), signed channel
// records (POST /api/channels), thumbnails, guides, logos and /epg.xml (guide-routes.ts), the
// network config (GET /api/network), peer discovery (POST /api/announce, announce-route.ts) and
// oEmbed (GET /oembed, oembed.ts). Every answer is JSON unless a RawBody.

import type http from 'node:http';
import { CHANNEL_ENDED_ERROR, CHANNEL_UNKNOWN_ERROR } from '../api/tracker-api.js';
import { hexToBytes } from '../common/hex.js';
import { nodeVerify } from '../crypto/keys.js';
import { hostGroup } from '../protocol/admission.js';
import { canonicalRecord, checkSignedChannelRecord, type SignedChannelRecord } from '../protocol/channel-record.js';
import { MAX_THUMBNAIL_BYTES, verifyThumbnail } from '../protocol/thumbnail.js';
import type { NetworkConfig } from '../transport/ice.js';
import type { AddressProver } from './address-proof.js';
import { answerAnnounce } from './announce-route.js';
import type { Directory } from './directory.js';
import { guideRoute } from './guide-routes.js';
import { HttpError, RawBody, readBody, readJson, requestUrl } from './http.js';
import { iceServersFor, type TrackerIceConfig } from './ice-config.js';
import { answerOembed } from './oembed.js';
import type { RateLimiter } from './rate-limit.js';
import { refused } from './refusals.js';

/** How far a thumbnail's signed time may be from the tracker's clock (a far-future one would win for ever). */
const THUMBNAIL_SKEW_MS = 10 * 60_000;

export interface RequestContext {
  directory: Directory;
  limiter: RateLimiter;
  webrtcPeers: (channelId: string) => number;
  options: { ice?: TrackerIceConfig; signalingUrls?: string[]; privateNetwork?: boolean };
  prover: AddressProver;
}

/** Answers one API request from `client` (the address it comes from, see clientAddress). */
export async function handle(ctx: RequestContext, req: http.IncomingMessage, client: string): Promise<unknown> {
  const { directory, options } = ctx;
  const url = requestUrl(req);
  const now = Date.now();
  // Limits are per IPv4 address and per IPv6 /64.
  const group = hostGroup(client);
  if ((url.pathname.startsWith('/api/') || url.pathname === '/epg.xml') && !ctx.limiter.take(group, now))
    throw new HttpError(429, 'too many requests from this address; slow down', 'rate-limit');
  if (url.pathname === '/api/channels' && req.method === 'GET') return directory.liveChannels(now, ctx.webrtcPeers);
  if (url.pathname === '/api/network' && req.method === 'GET')
    return { iceServers: await iceServersFor(options.ice, now), signaling: options.signalingUrls ?? [] } satisfies NetworkConfig;
  const thumb = /^\/api\/channels\/([0-9a-f]{64})\/thumbnail\.jpg$/.exec(url.pathname);
  if (thumb !== null && req.method === 'POST') return putThumbnail(directory, req, thumb[1] as string, now);
  if (thumb !== null && req.method === 'GET') {
    const image = directory.signedThumbnail(thumb[1] as string);
    if (image === undefined) throw new HttpError(404, 'no thumbnail for this channel yet');
    // The signature travels along, so a TV gateway can check the picture against the channel key.
    const signed: Record<string, string> =
      image.signature !== undefined ? { 'x-meshtv-issued-at': String(image.issuedAtMs), 'x-meshtv-signature': image.signature } : {};
    return new RawBody('image/jpeg', image.jpeg, signed);
  }
  const one = /^\/api\/channels\/([0-9a-f]{64})$/.exec(url.pathname);
  if (one !== null && req.method === 'GET') {
    const live = directory.liveChannels(now, ctx.webrtcPeers).find((c) => c.id === one[1]);
    if (live === undefined)
      throw new HttpError(404, directory.record(one[1] as string) === undefined ? CHANNEL_UNKNOWN_ERROR : CHANNEL_ENDED_ERROR);
    // The signed record lets a peer check the origin and the renditions' keys for itself.
    return { ...live, originUrl: directory.record(live.id)?.originUrl, signed: directory.signedRecord(live.id) };
  }
  if (url.pathname === '/api/channels' && req.method === 'POST') return putRecord(directory, req, group, now);
  if (url.pathname === '/api/announce' && req.method === 'POST') return answerAnnounce(ctx, req, client, group, now);
  const guide = guideRoute(directory, req, url, now, ctx.webrtcPeers);
  if (guide !== undefined) return guide;
  if (url.pathname === '/oembed' && req.method === 'GET')
    return answerOembed(url.searchParams, req.headers.host, (id) => directory.record(id)?.name);
  if (url.pathname.startsWith('/api/')) throw new HttpError(404, `no such endpoint: ${req.method} ${url.pathname}`);
  throw new HttpError(404, 'not found');
}

/** POST /api/channels/ID/thumbnail.jpg: a JPEG signed by the channel's key, kept if newer. */
async function putThumbnail(directory: Directory, req: http.IncomingMessage, id: string, now: number): Promise<unknown> {
  const issuedAtMs = Number(req.headers['x-meshtv-issued-at']);
  const signature = String(req.headers['x-meshtv-signature'] ?? '');
  if (!Number.isFinite(issuedAtMs) || !/^[0-9a-f]{128}$/.test(signature))
    throw new HttpError(400, 'x-meshtv-issued-at and x-meshtv-signature headers required');
  if (Math.abs(issuedAtMs - now) > THUMBNAIL_SKEW_MS)
    throw new HttpError(
      400,
      `x-meshtv-issued-at is ${Math.round((issuedAtMs - now) / 1000)} s from the tracker's clock`,
      'stale-thumbnail',
    );
  const jpeg = await readBody(req, MAX_THUMBNAIL_BYTES);
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new HttpError(400, 'body is not a JPEG image');
  if (!verifyThumbnail(hexToBytes(id), issuedAtMs, jpeg, hexToBytes(signature), nodeVerify))
    throw new HttpError(400, 'thumbnail signature does not match the channel key');
  const refusal = directory.putThumbnail(id, issuedAtMs, jpeg, signature);
  if (refusal !== undefined) throw refused(refusal);
  return { ok: true };
}

/** POST /api/channels: a signed channel record, from the address group `group`. */
async function putRecord(directory: Directory, req: http.IncomingMessage, group: string, now: number): Promise<unknown> {
  const body = await readJson(req);
  const problem = checkSignedChannelRecord(body, nodeVerify);
  if (problem !== undefined) throw new HttpError(400, `channel record refused: ${problem}`);
  const signed = body as SignedChannelRecord;
  const refusal = directory.putRecord(canonicalRecord(signed.record), now, signed.signature, group);
  if (refusal !== undefined) throw refused(refusal);
  return { ok: true };
}
