// Channel logos for the TV gateway: each channel's latest thumbnail from its trackers, served
// only once its signature checks against the channel key (a tracker cannot swap pictures), and
// kept a little while so an app loading the whole playlist's logos does not ask every tracker
// each time.

import { hexToBytes } from '../common/hex.js';
import { nodeVerify } from '../crypto/keys.js';
import { MAX_THUMBNAIL_BYTES, verifyThumbnail } from '../protocol/thumbnail.js';
import { readAtMost } from './tracker-client.js';

interface Logo {
  issuedAtMs: number;
  jpeg: Uint8Array;
  fetchedAtMs: number;
}

/** How long a logo is served from memory before the trackers are asked again. */
const LOGO_TTL_MS = 30_000;
const REQUEST_TIMEOUT_MS = 3000;

export class TvLogos {
  private readonly cache = new Map<string, Logo>();

  /** The newest verified thumbnail any of `trackers` holds; undefined when none does. */
  async logo(id: string, trackers: readonly string[]): Promise<Uint8Array | undefined> {
    const held = this.cache.get(id);
    if (held !== undefined && Date.now() - held.fetchedAtMs < LOGO_TTL_MS) return held.jpeg;
    const found = await Promise.all(trackers.map((t) => fetchVerified(t, id)));
    const newest = found.reduce<Logo | undefined>(
      (a, b) => (b !== undefined && (a === undefined || b.issuedAtMs > a.issuedAtMs) ? b : a),
      held,
    );
    if (newest !== undefined) this.cache.set(id, { ...newest, fetchedAtMs: Date.now() });
    return newest?.jpeg;
  }

  /** Forgets the logos of channels no longer in the line-up, so the cache stays bounded by it. */
  keepOnly(ids: ReadonlySet<string>): void {
    for (const id of this.cache.keys()) if (!ids.has(id)) this.cache.delete(id);
  }
}

/** One tracker's thumbnail of the channel, if it carries a valid signature by the channel key. */
async function fetchVerified(tracker: string, id: string): Promise<Logo | undefined> {
  try {
    const res = await fetch(new URL(`/api/channels/${id}/thumbnail.jpg`, tracker), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    const issuedAtMs = Number(res.headers.get('x-meshtv-issued-at'));
    const signature = res.headers.get('x-meshtv-signature') ?? '';
    const jpeg = await readAtMost(res, MAX_THUMBNAIL_BYTES);
    if (!Number.isSafeInteger(issuedAtMs) || !/^[0-9a-f]{128}$/.test(signature) || jpeg === undefined) return undefined;
    if (!verifyThumbnail(hexToBytes(id), issuedAtMs, jpeg, hexToBytes(signature), nodeVerify)) return undefined;
    return { issuedAtMs, jpeg, fetchedAtMs: 0 };
  } catch {
    return undefined;
  }
}
