// Peer transport over TCP. A link runs a Noise XX handshake (Hypercore's
// @hyperswarm/secret-stream: Noise_XX over Ed25519 keys, then libsodium's secretstream with
// XChaCha20-Poly1305) before any meshtv message, so both ends know each other's node key and
// every byte after it is encrypted and authenticated. Inside the encrypted stream, frames keep
// their length prefix (./framing.ts), and the frames sent within one turn of the event loop
// travel as one encrypted message (the 20 bytes each message costs would otherwise outweigh
// the 3-byte HAVEs that are most frames). Nothing a peer sends can throw here: a broken
// handshake, framing or message ends the connection with an error.

import net from 'node:net';
import NoiseSecretStream, { type SecretStreamKeyPair } from '@hyperswarm/secret-stream';
import { MAX_FRAME_BYTES, PROTOCOL_VERSION } from '../protocol/codec.js';
import { RemoteProtocolError } from '../protocol/errors.js';
import { encodeFrame, FrameReader } from './framing.js';
import type { Connection, ConnectionHandlers, LinkBinding, Listener, Transport } from './transport.js';

/** A handshake not done within this ends the connection. */
export const HANDSHAKE_TIMEOUT_MS = 5000;
/** Frames sent in one turn are sealed together up to this many bytes. */
const BATCH_BYTES = 64 * 1024;
/** Bytes an encrypted message adds: its 3-byte length and secretstream's 17-byte tag. */
export const SEAL_BYTES = 20;
/** Received bytes not yet decrypted beyond this: a message larger than any frame. */
const MAX_UNREAD_BYTES = MAX_FRAME_BYTES + BATCH_BYTES + 4096;

export interface TcpTransportInit {
  /** This node's key: the Noise static key of every link. */
  keyPair: SecretStreamKeyPair;
  /** Whether to spend a handshake on a connection from this address (banned or over its cap: no). */
  admit?: (address: string) => boolean;
  /** Told of a connection refused before its handshake (a peer of an older protocol). */
  onRefused?: (address: string, reason: string) => void;
}

class TcpConnection implements Connection {
  private handlers: ConnectionHandlers | undefined;
  private readonly early: Uint8Array[] = [];
  private readonly reader = new FrameReader(MAX_FRAME_BYTES);
  private closed = false;
  private closeError: Error | undefined;
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private flushQueued = false;
  private plainBytesIn = 0;
  readonly binding: LinkBinding;
  readonly path = 'direct';

  constructor(
    private readonly socket: net.Socket,
    private readonly stream: NoiseSecretStream,
  ) {
    this.binding = { kind: 'key', remoteKey: new Uint8Array(stream.remotePublicKey as Buffer) };
    stream.on('data', (data: Buffer) => {
      if (this.closed) return;
      this.plainBytesIn += data.length + SEAL_BYTES;
      let frames: Uint8Array[];
      try {
        frames = this.reader.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (const f of frames) {
        if (this.closed) return;
        if (this.handlers) this.handlers.onFrame(f);
        else this.early.push(f);
      }
    });
    // secretstream reads a whole message before it decrypts it; a peer announcing a huge one
    // must not make us hold megabytes (the socket's count includes what is still buffered).
    socket.on('data', () => {
      if (socket.bytesRead - this.plainBytesIn > MAX_UNREAD_BYTES)
        this.fail(new RemoteProtocolError(`encrypted message of more than ${MAX_UNREAD_BYTES} bytes`));
    });
    stream.on('error', (err) => {
      this.closeError ??= err;
    });
    stream.on('close', () => {
      this.closed = true;
      this.handlers?.onClose(this.closeError);
    });
  }

  get remoteAddress(): string {
    return normalizeAddress(this.socket.remoteAddress ?? '');
  }

  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }

  get bufferedBytes(): number {
    return this.batchBytes + (this.stream._writableState?.buffered ?? 0) + this.socket.writableLength;
  }

  setHandlers(handlers: ConnectionHandlers): void {
    this.handlers = handlers;
    for (const f of this.early.splice(0)) handlers.onFrame(f);
    if (this.closed) handlers.onClose(this.closeError);
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    const framed = encodeFrame(frame);
    if (this.batchBytes > 0 && this.batchBytes + framed.length > BATCH_BYTES) this.flush();
    this.batch.push(framed);
    this.batchBytes += framed.length;
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.stream.end();
    // A peer that does not read its last bytes is not waited for.
    setTimeout(() => this.stream.destroy(), 2000).unref();
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.closed || this.batchBytes === 0) return;
    const parts = this.batch;
    const out = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    this.stream.write(out);
  }

  private fail(err: Error): void {
    this.closeError ??= err;
    this.closed = true;
    this.stream.destroy();
  }
}

export class TcpTransport implements Transport {
  constructor(private readonly init: TcpTransportInit) {}

  listen(host: string, port: number, onConnection: (c: Connection) => void): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => this.accept(socket, onConnection));
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', () => {});
        const address = server.address() as net.AddressInfo;
        resolve({
          port: address.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
            }),
        });
      });
    });
  }

  dial(host: string, port: number, timeoutMs: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      const stream = new NoiseSecretStream(true, socket, { keyPair: this.init.keyPair });
      const timer = setTimeout(() => {
        stream.destroy();
        reject(new Error(`connection to ${host}:${port} timed out`));
      }, timeoutMs);
      const failed = (err?: Error) => {
        clearTimeout(timer);
        reject(
          err?.message.includes('ECONNREFUSED') || err?.message.includes('ETIMEDOUT')
            ? err
            : new Error(`handshake with ${host}:${port} failed (${err?.message ?? 'closed'}); an older meshtv?`),
        );
      };
      stream.on('error', failed);
      stream.once('close', () => failed());
      stream.once('connect', () => {
        clearTimeout(timer);
        resolve(new TcpConnection(socket, stream));
      });
    });
  }

  /**
   * An incoming socket: a peer of protocol 5 or older speaks first, in plain text, with its
   * hello; it is answered with a hello of the same layout carrying our version (which it
   * refuses by name) and closed. Anyone else must complete the handshake in time.
   */
  private accept(socket: net.Socket, onConnection: (c: Connection) => void): void {
    if (this.init.admit?.(normalizeAddress(socket.remoteAddress ?? '')) === false) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.on('error', () => {});
    const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      const old = oldHello(first);
      if (old !== undefined) {
        clearTimeout(timer);
        this.init.onRefused?.(
          normalizeAddress(socket.remoteAddress ?? ''),
          `speaks protocol ${old.version} in plain text, this node ${PROTOCOL_VERSION}: it must upgrade meshtv`,
        );
        socket.end(encodeFrame(versionRefusal(old.body)));
        setTimeout(() => socket.destroy(), 2000).unref();
        return;
      }
      // The stream listens for data once it has opened: the bytes already read go back, and
      // the socket resumes, only then (earlier, they would be lost).
      const resume = (event: string) => {
        if (event !== 'data') return;
        socket.off('newListener', resume);
        process.nextTick(() => {
          socket.unshift(first);
          socket.resume();
        });
      };
      socket.on('newListener', resume);
      const stream = new NoiseSecretStream(false, socket, { keyPair: this.init.keyPair });
      stream.on('error', () => {});
      stream.once('close', () => clearTimeout(timer));
      stream.once('connect', () => {
        clearTimeout(timer);
        onConnection(new TcpConnection(socket, stream));
      });
    });
  }
}

/** Bytes of a hello (its layout is the same in every protocol so far): type, version, channel key (32), peer id (16), role. */
const PLAIN_HELLO_BYTES = 51;

/** An older peer's plain-text hello at the start of a connection (its length prefix, then type 1, then a version below ours). */
function oldHello(first: Uint8Array): { version: number; body: Uint8Array } | undefined {
  if (first.length < 1 + PLAIN_HELLO_BYTES || first[0] !== PLAIN_HELLO_BYTES || first[1] !== 1) return undefined;
  const version = first[2] as number;
  if (version >= PROTOCOL_VERSION || version === 0) return undefined;
  return { version, body: first.subarray(1, 1 + PLAIN_HELLO_BYTES) };
}

/** The old peer's own hello sent back with our version in it: it refuses us with a clear reason. */
function versionRefusal(theirHello: Uint8Array): Uint8Array {
  const out = new Uint8Array(theirHello);
  out[1] = PROTOCOL_VERSION;
  return out;
}

/** Strips the IPv4-mapped IPv6 prefix so addresses compare and print the usual way. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
