// Talking to trackers over HTTP: announces, channel records and guides, the channel list. Answers are
// untrusted input and checked before use.

import {
  type AnnounceAnswer,
  type AnnounceRequest,
  type ChannelSummary,
  parseAnnounceAnswer,
  parseChannelList,
} from '../api/tracker-api.js';
import { UserError } from '../common/errors.js';
import type { VerifyFn } from '../crypto/signatures.js';
import { canonicalRecord, checkSignedChannelRecord, type SignedChannelRecord } from '../protocol/channel-record.js';
import { type ChannelGuide, canonicalGuide, checkSignedGuide } from '../protocol/guide.js';
import { checkNetworkConfig, type NetworkConfig } from '../transport/ice.js';

const REQUEST_TIMEOUT_MS = 5000;
/**
 * Largest answer read from a tracker: a listing of 10,000 channels is about 4 MB; anything
 * larger is a hostile or broken tracker, and is not read into memory.
 */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** A response body as text, refused once it passes maxBytes (declared or as it arrives). */
async function readCapped(res: Response, maxBytes: number, what: string): Promise<string> {
  const body = await readAtMost(res, maxBytes);
  if (body === undefined) throw new UserError(`${what} is larger than ${maxBytes} bytes`);
  return Buffer.from(body).toString('utf8');
}

/**
 * A response body, or undefined once it passes maxBytes, declared or as it arrives: read no
 * further then, since a length header is no promise.
 */
export async function readAtMost(res: Response, maxBytes: number): Promise<Uint8Array | undefined> {
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
    await res.body?.cancel();
    return undefined;
  }
  const reader = res.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

/** How long a busy tracker (429, 503) is asked again before giving up. */
const BUSY_RETRY_MS = 30_000;

/** A tracker that answered with an HTTP error; 429 and 503 mean busy, worth asking again. */
export class TrackerRefused extends UserError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }

  get busy(): boolean {
    return this.status === 429 || this.status === 503;
  }
}

/**
 * Runs `attempt` until it succeeds, asking again with a growing pause (1, 2, 4... s) while the
 * tracker says it is busy, for up to 30 s: a broadcaster restarted under a crowd finds its
 * tracker rate-limiting the crowd's asks, which is no reason to give up. Other failures (an
 * unreachable tracker, a refusal) are thrown at once.
 */
export async function whileTrackerBusy<T>(
  attempt: () => Promise<T>,
  onBusy: (err: TrackerRefused) => void,
  { maxMs = BUSY_RETRY_MS, firstPauseMs = 1000 } = {},
): Promise<T> {
  const deadline = Date.now() + maxMs;
  for (let pauseMs = firstPauseMs; ; pauseMs *= 2) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof TrackerRefused) || !err.busy || Date.now() + pauseMs > deadline) throw err;
      onBusy(err);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}

async function call(trackerUrl: string, path: string, init?: { method: string; body: unknown }): Promise<unknown> {
  const url = new URL(path, trackerUrl);
  let res: Response;
  try {
    res = await fetch(url, {
      method: init?.method ?? 'GET',
      headers: init ? { 'content-type': 'application/json' } : undefined,
      body: init ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new UserError(`tracker ${trackerUrl} is unreachable (${cause}); check the --tracker URL and that the tracker is running`);
  }
  const text = await readCapped(res, MAX_ANSWER_BYTES, `tracker ${trackerUrl}'s answer to ${path}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UserError(`tracker ${trackerUrl} answered ${path} with something that is not JSON (HTTP ${res.status})`);
  }
  if (!res.ok) {
    const reason =
      typeof body === 'object' && body !== null && 'error' in body ? String((body as { error: unknown }).error) : `HTTP ${res.status}`;
    throw new TrackerRefused(`tracker ${trackerUrl} refused ${path}: ${reason}`, res.status);
  }
  return body;
}

export async function announce(trackerUrl: string, req: AnnounceRequest): Promise<AnnounceAnswer> {
  const answer = parseAnnounceAnswer(await call(trackerUrl, '/api/announce', { method: 'POST', body: req }));
  if (answer === undefined) throw new UserError(`tracker ${trackerUrl} sent a malformed announce answer`);
  return answer;
}

/** What a tracker's operator set for reaching peers: STUN/TURN servers and signalling trackers. */
export async function fetchNetworkConfig(trackerUrl: string): Promise<NetworkConfig> {
  return checkNetworkConfig(await call(trackerUrl, '/api/network'));
}

export async function publishChannelRecord(trackerUrl: string, signed: SignedChannelRecord): Promise<void> {
  await call(trackerUrl, '/api/channels', { method: 'POST', body: signed });
}

export async function listChannels(trackerUrl: string): Promise<ChannelSummary[]> {
  const list = parseChannelList(await call(trackerUrl, '/api/channels'));
  if (list === undefined) throw new UserError(`tracker ${trackerUrl} sent a malformed channel list`);
  return list;
}

/**
 * A channel's signed record as a tracker holds it, checked against the channel key: a tracker
 * cannot make up renditions or an origin. Undefined when the tracker has no signed record.
 */
export async function fetchChannelRecord(
  trackerUrl: string,
  channelId: string,
  verify: VerifyFn,
): Promise<SignedChannelRecord | undefined> {
  const body = (await call(trackerUrl, `/api/channels/${channelId}`)) as { signed?: unknown };
  if (body.signed === undefined || body.signed === null) return undefined;
  const problem = checkSignedChannelRecord(body.signed, verify);
  const signed = body.signed as SignedChannelRecord;
  if (problem !== undefined || signed.record.channelId !== channelId)
    throw new UserError(`tracker ${trackerUrl} sent a channel record that fails its check (${problem ?? 'another channel'})`);
  return { record: canonicalRecord(signed.record), signature: signed.signature };
}

/**
 * A channel's programme guide as a tracker holds it, checked against the channel key: a tracker
 * cannot make up programmes. Undefined when the tracker has none for it.
 */
export async function fetchChannelGuide(trackerUrl: string, channelId: string, verify: VerifyFn): Promise<ChannelGuide | undefined> {
  let body: unknown;
  try {
    body = await call(trackerUrl, `/api/channels/${channelId}/guide`);
  } catch (err) {
    if (err instanceof TrackerRefused && err.status === 404) return undefined;
    throw err;
  }
  const problem = checkSignedGuide(body, verify);
  const guide = (body as { guide?: ChannelGuide }).guide;
  if (problem !== undefined || guide?.channelId !== channelId)
    throw new UserError(`tracker ${trackerUrl} sent a guide that fails its check (${problem ?? 'another channel'})`);
  return canonicalGuide(guide);
}
