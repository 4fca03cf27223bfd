// Cheap deterministic stand-in for Ed25519 in the simulator: the simulator measures scheduling,
// not cryptography, and real signatures would cost more CPU than the whole swarm logic. The
// "signature" is a 32-bit FNV-1a hash of the signed header, keyed by the channel key, so the
// core still runs its verification path and a tampered header is still refused.

import type { SignFn, VerifyFn } from '../crypto/signatures.js';
import { SIGNATURE_BYTES } from '../protocol/chunk.js';

/** Signed header bytes (chunk.ts HEADER_BYTES): version, channel key, seq, capture time, flags, length. */
const HEADER_BYTES = 50;

function fnv1a(bytes: Uint8Array, end: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h >>> 0;
}

export function fakeSigner(): SignFn {
  return (message) => {
    const sig = new Uint8Array(SIGNATURE_BYTES);
    new DataView(sig.buffer).setUint32(0, fnv1a(message, Math.min(HEADER_BYTES, message.length)));
    return sig;
  };
}

export const fakeVerify: VerifyFn = (_publicKey, message, signature) => {
  if (signature.length !== SIGNATURE_BYTES) return false;
  const expected = fnv1a(message, Math.min(HEADER_BYTES, message.length));
  return new DataView(signature.buffer, signature.byteOffset, 4).getUint32(0) === expected;
};
