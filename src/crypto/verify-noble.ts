// Ed25519 verification in plain JavaScript (@noble/curves), for runtimes without a native
// Ed25519: browsers lacking WebCrypto Ed25519. About 20x slower than node's crypto, which the
// node runtime uses instead (src/crypto/keys.ts); both accept and refuse exactly the same inputs.

import { ed25519 } from '@noble/curves/ed25519.js';
import type { VerifyFn } from './signatures.js';

export const nobleVerify: VerifyFn = (publicKey, message, signature) => {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
};
