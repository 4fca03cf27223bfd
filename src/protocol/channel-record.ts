// Signed channel announcements for the directory: only the holder of a channel's key can
// list, rename or refresh it. The signed bytes are a fixed-order JSON array behind a domain
// tag, so a signature over a record can never be replayed as a chunk signature or vice versa.

import { bytesToHex, hexToBytes } from '../common/hex.js';
import { HIDDEN_CHARACTERS } from '../common/text.js';
import type { SignFn, VerifyFn } from '../crypto/signatures.js';
import { isPublicIp } from './ip-ranges.js';

export interface ChannelRecord {
  /** Hex of the channel's 32-byte Ed25519 public key. */
  channelId: string;
  name: string;
  bitrateBps: number;
  /** When the broadcaster signed the record; a tracker keeps only the newest per channel. */
  issuedAtMs: number;
  /** The broadcaster's HTTP origin (last-resort chunk source for browsers), if it runs one. */
  originUrl?: string;
  /**
   * The quality ladder, lowest rate first, when the channel has one. Each rendition is its own
   * chunk stream and swarm under its own key; the first is the channel's base stream, under the
   * channel key itself, so viewers that know nothing of renditions play it.
   */
  renditions?: RenditionEntry[];
}

export interface RenditionEntry {
  name: string;
  /** Hex of the rendition's public key: its chunks are signed with it, its swarm is named by it. */
  channelId: string;
  height: number;
  /** Video and audio. */
  bitrateBps: number;
  /**
   * Hex signature by the rendition's own key over the channel id and the rendition's name
   * (renditionProofBytes): a channel can only list streams whose keys it holds, so it cannot
   * pass another channel's swarm off as one of its renditions.
   */
  proof: string;
}

/** Highest rendition rate a record may announce (1 Gbit/s). */
export const MAX_RENDITION_BPS = 1e9;

/** What a rendition's key signs to prove it belongs to the channel. */
export function renditionProofBytes(channelId: string, name: string): Uint8Array {
  return new TextEncoder().encode(`meshtv-rendition-v1\n${JSON.stringify([channelId, name])}`);
}

export const MAX_RENDITION_ENTRIES = 6;

export interface SignedChannelRecord {
  record: ChannelRecord;
  /** Hex Ed25519 signature. */
  signature: string;
}

export const MAX_CHANNEL_NAME_LENGTH = 80;

/** Why a channel name is refused beyond its length (undefined: fine). */
export function channelNameProblem(name: string): string | undefined {
  return hiddenCharacterProblem('name', name);
}

/** Why `text` (a name, a title: what people read) is refused for holding control or invisible characters. */
export function hiddenCharacterProblem(what: string, text: string): string | undefined {
  const m = HIDDEN_CHARACTERS.exec(text);
  if (m === null) return undefined;
  const code = (m[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
  return `${what} must not hold control or invisible characters (U+${code} at position ${m.index + 1})`;
}

function recordBytes(r: ChannelRecord): Uint8Array {
  const fields: unknown[] = [r.channelId, r.name, r.bitrateBps, r.issuedAtMs];
  if (r.renditions !== undefined) {
    fields.push(
      r.originUrl ?? null,
      r.renditions.map((e) => [e.name, e.channelId, e.height, e.bitrateBps]),
    );
  } else if (r.originUrl !== undefined) fields.push(r.originUrl);
  return new TextEncoder().encode(`meshtv-channel-v1\n${JSON.stringify(fields)}`);
}

export function signChannelRecord(record: ChannelRecord, sign: SignFn): SignedChannelRecord {
  return { record, signature: bytesToHex(sign(recordBytes(record))) };
}

/** The record with exactly the signed fields: what a checked record is stored and passed on as. */
export function canonicalRecord(r: ChannelRecord): ChannelRecord {
  return {
    channelId: r.channelId,
    name: r.name,
    bitrateBps: r.bitrateBps,
    issuedAtMs: r.issuedAtMs,
    ...(r.originUrl !== undefined ? { originUrl: r.originUrl } : {}),
    ...(r.renditions !== undefined
      ? {
          renditions: r.renditions.map((e) => ({
            name: e.name,
            channelId: e.channelId,
            height: e.height,
            bitrateBps: e.bitrateBps,
            proof: e.proof,
          })),
        }
      : {}),
  };
}

/** Checks shape and signature of an untrusted record; returns the reason it is refused, or undefined. */
export function checkSignedChannelRecord(input: unknown, verify: VerifyFn): string | undefined {
  if (typeof input !== 'object' || input === null) return 'body must be an object';
  const { record, signature } = input as Record<string, unknown>;
  if (typeof record !== 'object' || record === null) return 'record missing';
  const r = record as Record<string, unknown>;
  if (typeof r.channelId !== 'string' || !/^[0-9a-f]{64}$/.test(r.channelId)) return 'channelId must be 64 lowercase hex digits';
  if (typeof r.name !== 'string' || r.name.trim().length === 0 || r.name.length > MAX_CHANNEL_NAME_LENGTH) {
    return `name must be 1-${MAX_CHANNEL_NAME_LENGTH} characters`;
  }
  const hidden = channelNameProblem(r.name);
  if (hidden !== undefined) {
    return hidden;
  }
  if (typeof r.bitrateBps !== 'number' || !Number.isFinite(r.bitrateBps) || r.bitrateBps < 0)
    return 'bitrateBps must be a non-negative number';
  if (typeof r.issuedAtMs !== 'number' || !Number.isFinite(r.issuedAtMs)) return 'issuedAtMs must be a number';
  if (r.originUrl !== undefined && (typeof r.originUrl !== 'string' || !/^https?:\/\/[^\s"'<>]{1,200}$/.test(r.originUrl))) {
    return 'originUrl must be an http(s) URL';
  }
  if (r.renditions !== undefined) {
    const problem = checkRenditions(r.renditions, r.channelId, verify);
    if (problem !== undefined) return problem;
  }
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature)) return 'signature must be 128 hex digits';
  const ok = verify(hexToBytes(r.channelId), recordBytes(r as unknown as ChannelRecord), hexToBytes(signature));
  return ok ? undefined : 'signature does not match the channel key';
}

function checkRenditions(input: unknown, channelId: string, verify: VerifyFn): string | undefined {
  if (!Array.isArray(input) || input.length < 2 || input.length > MAX_RENDITION_ENTRIES)
    return `renditions must be a list of 2-${MAX_RENDITION_ENTRIES} entries`;
  const names = new Set<string>();
  const ids = new Set<string>();
  let lastRate = -1;
  for (const e of input as unknown[]) {
    if (typeof e !== 'object' || e === null) return 'each rendition must be an object';
    const { name, channelId: id, height, bitrateBps, proof } = e as Record<string, unknown>;
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,16}$/.test(name)) return 'rendition name must be 1-16 letters, digits, - or _';
    if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) return 'rendition channelId must be 64 lowercase hex digits';
    if (!Number.isInteger(height) || (height as number) < 16 || (height as number) > 8192) return 'rendition height must be 16-8192';
    if (typeof bitrateBps !== 'number' || !Number.isFinite(bitrateBps) || bitrateBps < 0 || bitrateBps > MAX_RENDITION_BPS)
      return `rendition bitrateBps must be 0-${MAX_RENDITION_BPS}`;
    if (bitrateBps <= lastRate) return 'renditions must be listed lowest rate first, each rate above the one before';
    lastRate = bitrateBps;
    if (typeof proof !== 'string' || !/^[0-9a-f]{128}$/.test(proof)) return 'rendition proof must be 128 hex digits';
    if (!verify(hexToBytes(id), renditionProofBytes(channelId, name), hexToBytes(proof)))
      return `rendition ${name}: its key did not sign for this channel`;
    names.add(name);
    ids.add(id);
  }
  if (names.size !== input.length || ids.size !== input.length) return 'renditions must have distinct names and keys';
  if ((input[0] as RenditionEntry).channelId !== channelId) return 'the first rendition must be the channel key itself';
  return undefined;
}

/**
 * The origin a page may fetch late chunks from, from a checked record's originUrl: http(s),
 * without credentials, query or fragment, and not on a loopback, private or link-local address
 * unless the page itself was served from one (a lab, a LAN, a test). Undefined when unusable:
 * a record may be signed by anyone who made a key, and the page would fetch from its origin
 * for every late chunk.
 */
export function usableOrigin(originUrl: string | undefined, pageUrl: string): string | undefined {
  if (originUrl === undefined) return undefined;
  let u: URL;
  let page: URL;
  try {
    u = new URL(originUrl);
    page = new URL(pageUrl);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  if (u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '') return undefined;
  if (!reachableFromAnywhere(u.hostname) && reachableFromAnywhere(page.hostname)) return undefined;
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** A host name, or a public IP address: not loopback, private, link-local and the like. */
function reachableFromAnywhere(hostname: string): boolean {
  // "localhost." is localhost: a name's trailing dot changes nothing.
  const h = hostname.toLowerCase().replace(/\.+$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return false;
  const literal = h.startsWith('[') || /^[\d.]+$/.test(h);
  return !literal || isPublicIp(h);
}
