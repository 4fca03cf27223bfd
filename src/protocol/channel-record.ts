// Signed channel announcements for the directory: only the holder of a channel's key can
// list, rename or refresh it. The signed bytes are a fixed-order JSON array behind a domain
// tag, so a signature over a record can never be replayed as a chunk signature or vice versa.

import type { SignFn, VerifyFn } from './chunk.js';
import { bytesToHex, hexToBytes } from './hex.js';

export interface ChannelRecord {
  /** Hex of the channel's 32-byte Ed25519 public key. */
  channelId: string;
  name: string;
  bitrateBps: number;
  /** When the broadcaster signed the record; a tracker keeps only the newest per channel. */
  issuedAtMs: number;
  /** The broadcaster's HTTP origin (last-resort chunk source for browsers), if it runs one. */
  originUrl?: string;
}

export interface SignedChannelRecord {
  record: ChannelRecord;
  /** Hex Ed25519 signature. */
  signature: string;
}

export const MAX_CHANNEL_NAME_LENGTH = 80;

function recordBytes(r: ChannelRecord): Uint8Array {
  const fields: unknown[] = [r.channelId, r.name, r.bitrateBps, r.issuedAtMs];
  if (r.originUrl !== undefined) fields.push(r.originUrl);
  return new TextEncoder().encode(`meshtv-channel-v1\n${JSON.stringify(fields)}`);
}

export function signChannelRecord(record: ChannelRecord, sign: SignFn): SignedChannelRecord {
  return { record, signature: bytesToHex(sign(recordBytes(record))) };
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
  if (typeof r.bitrateBps !== 'number' || !Number.isFinite(r.bitrateBps) || r.bitrateBps < 0)
    return 'bitrateBps must be a non-negative number';
  if (typeof r.issuedAtMs !== 'number' || !Number.isFinite(r.issuedAtMs)) return 'issuedAtMs must be a number';
  if (r.originUrl !== undefined && (typeof r.originUrl !== 'string' || !/^https?:\/\/[^\s"'<>]{1,200}$/.test(r.originUrl))) {
    return 'originUrl must be an http(s) URL';
  }
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature)) return 'signature must be 128 hex digits';
  const ok = verify(hexToBytes(r.channelId), recordBytes(r as unknown as ChannelRecord), hexToBytes(signature));
  return ok ? undefined : 'signature does not match the channel key';
}
