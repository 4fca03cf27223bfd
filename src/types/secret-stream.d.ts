// The parts of @hyperswarm/secret-stream@6 (Noise XX over Ed25519, then libsodium's
// secretstream; ships no types) that src/transport/tcp.ts uses.

declare module '@hyperswarm/secret-stream' {
  import type { Duplex } from 'node:stream';

  export interface SecretStreamKeyPair {
    /** Ed25519 public key, 32 bytes. */
    publicKey: Buffer;
    /** libsodium's Ed25519 secret key: the 32-byte seed, then the public key. */
    secretKey: Buffer;
  }

  export default class NoiseSecretStream {
    constructor(isInitiator: boolean, rawStream: Duplex, opts?: { keyPair?: SecretStreamKeyPair });
    static keyPair(seed?: Buffer): SecretStreamKeyPair;
    /** The remote's static key, once the handshake is done. */
    readonly remotePublicKey: Buffer | null;
    readonly _writableState?: { buffered?: number };
    write(data: Uint8Array): boolean;
    end(): void;
    destroy(err?: Error): void;
    on(event: 'connect', cb: () => void): this;
    on(event: 'data', cb: (data: Buffer) => void): this;
    on(event: 'error', cb: (err: Error) => void): this;
    on(event: 'close', cb: () => void): this;
    once(event: 'connect' | 'close', cb: () => void): this;
  }
}
