// Peer transport over TCP with length-prefixed frames (./framing.ts). Frames that break the
// framing end the connection with a RemoteProtocolError; nothing a peer sends can throw here.

import net from 'node:net';
import { MAX_FRAME_BYTES } from '../protocol/codec.js';
import { encodeFrame, FrameReader } from './framing.js';
import type { Connection, ConnectionHandlers, Listener, Transport } from './transport.js';

class TcpConnection implements Connection {
  private handlers: ConnectionHandlers | undefined;
  private readonly early: Uint8Array[] = [];
  private readonly reader = new FrameReader(MAX_FRAME_BYTES);
  private closed = false;
  private closeError: Error | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      if (this.closed) return;
      let frames: Uint8Array[];
      try {
        frames = this.reader.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } catch (err) {
        this.closeError = err as Error;
        this.close();
        return;
      }
      for (const f of frames) {
        if (this.closed) return;
        if (this.handlers) this.handlers.onFrame(f);
        else this.early.push(f);
      }
    });
    socket.on('error', (err) => {
      this.closeError ??= err;
    });
    socket.on('close', () => {
      this.closed = true;
      this.handlers?.onClose(this.closeError);
    });
  }

  get remoteAddress(): string {
    return normalizeAddress(this.socket.remoteAddress ?? '');
  }
  readonly path = 'direct';

  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  setHandlers(handlers: ConnectionHandlers): void {
    this.handlers = handlers;
    for (const f of this.early.splice(0)) handlers.onFrame(f);
    if (this.closed) handlers.onClose(this.closeError);
  }

  send(frame: Uint8Array): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(encodeFrame(frame));
  }

  close(): void {
    if (this.socket.destroyed) return;
    this.closed = true;
    this.socket.destroy();
  }
}

export class TcpTransport implements Transport {
  listen(host: string, port: number, onConnection: (c: Connection) => void): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => onConnection(new TcpConnection(socket)));
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
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connection to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', reject);
        resolve(new TcpConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }
}

/** Strips the IPv4-mapped IPv6 prefix so addresses compare and print the usual way. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
