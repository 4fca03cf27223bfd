// The signature functions the layers above are given, never import: the protocol verifies
// chunks, records and hellos through them, and each program picks its back-end (node:crypto in
// crypto/keys.ts, noble in crypto/verify-noble.ts for browsers, a fake one in the simulator).

export type SignFn = (message: Uint8Array) => Uint8Array;

/**
 * Returns true when `signature` is a valid signature of `message` by `publicKey`. Synchronous,
 * and keeps nothing of `message`: verifyChunk reuses its buffer for the next chunk.
 */
export type VerifyFn = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

/** A node's own key: who it is on every link. */
export interface NodeIdentity {
  /** Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** Ed25519 signature with the node key. */
  sign(message: Uint8Array): Uint8Array;
}
