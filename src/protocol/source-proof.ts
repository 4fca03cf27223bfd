// A broadcaster proves to a tracker that it is its channel's source: its announce carries a
// signature by the channel key over the channel, its peer id and the time. A tracker lists as a
// source only what such a proof vouches for, so nobody else can keep a channel listed as live
// or put a fake source first in every answer.

import { bytesToHex, hexToBytes } from '../common/hex.js';
import type { SignFn, VerifyFn } from '../crypto/signatures.js';

/** What a source announce carries. */
export interface SourceProof {
  /** When it was signed (ms since the epoch, the broadcaster's clock). */
  atMs: number;
  /** Ed25519 signature by the channel key over sourceProofBytes, hex. */
  signature: string;
}

/**
 * How far a proof's time may be from the tracker's clock, either way: a replayed proof is good
 * only this long, and clocks of broadcasters and trackers may differ by a minute or so.
 */
export const SOURCE_PROOF_MAX_SKEW_MS = 2 * 60_000;

export function sourceProofBytes(channelId: string, peerId: string, atMs: number): Uint8Array {
  return new TextEncoder().encode(`meshtv-source-v1\n${JSON.stringify([channelId, peerId, atMs])}`);
}

export function signSourceProof(channelId: string, peerId: string, atMs: number, sign: SignFn): SourceProof {
  return { atMs, signature: bytesToHex(sign(sourceProofBytes(channelId, peerId, atMs))) };
}

/** Why a proof does not make `peerId` a source of `channelId` now; undefined when it does. */
export function checkSourceProof(proof: unknown, channelId: string, peerId: string, nowMs: number, verify: VerifyFn): string | undefined {
  if (typeof proof !== 'object' || proof === null) return 'a source announce must carry a proof signed by the channel key';
  const p = proof as Record<string, unknown>;
  if (typeof p.atMs !== 'number' || !Number.isSafeInteger(p.atMs)) return 'sourceProof.atMs must be a time in ms';
  if (typeof p.signature !== 'string' || !/^[0-9a-f]{128}$/.test(p.signature)) return 'sourceProof.signature must be 128 hex digits';
  if (Math.abs(p.atMs - nowMs) > SOURCE_PROOF_MAX_SKEW_MS)
    return `sourceProof is ${Math.round(Math.abs(p.atMs - nowMs) / 1000)} s from the tracker's clock (at most ${SOURCE_PROOF_MAX_SKEW_MS / 1000} s)`;
  if (!verify(hexToBytes(channelId), sourceProofBytes(channelId, peerId, p.atMs), hexToBytes(p.signature)))
    return 'sourceProof is not signed by the channel key';
  return undefined;
}
