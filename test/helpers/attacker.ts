// A hostile peer for tests: speaks just enough of the wire protocol to join a swarm over a
// real TCP connection (with the Noise handshake, under a node key of its own, as any peer
// can), and can send anything inside it: forged chunks, floods, raw garbage, a hello that
// claims someone else's id. `plain` skips the handshake, as a peer of protocol 5 did.

import { randomBytes } from 'node:crypto';
import net from 'node:net';
import NoiseSecretStream from '@hyperswarm/secret-stream';
import { type NodeKey, newNodeKey } from '../../src/crypto/keys.js';
import { type Chunk, signChunk } from '../../src/protocol/chunk.js';
import { decodeMessage, encodeMessage, MAX_FRAME_BYTES, MsgType, PROTOCOL_VERSION, type WireMessage } from '../../src/protocol/codec.js';
import { peerIdOf } from '../../src/runtime/link-auth.js';
import { encodeFrame, FrameReader } from '../../src/transport/framing.js';

export interface AttackerOptions {
  /** Its node key; default: a new one. */
  nodeKey?: NodeKey;
  /** The peer id its hello claims; default: its key's. */
  claimPeerId?: Uint8Array;
  /** Local address to connect from (127.0.0.x plays another host). */
  localAddress?: string;
  /** No handshake, plain frames: a peer of protocol 5. */
  plain?: boolean;
  /** The protocol version its hello says. */
  version?: number;
  /** Whether its hello says it relays (a broadcaster pushes only to relays). @default true */
  relays?: boolean;
}

/** Where the attacker's bytes go: the encrypted stream, or the bare socket. */
interface Pipe {
  write(bytes: Uint8Array): void;
  destroy(): void;
  readonly destroyed: boolean;
}

export class Attacker {
  readonly received: WireMessage[] = [];
  readonly closed: Promise<void>;
  readonly peerId: Uint8Array;
  private isClosed = false;
  private readonly reader = new FrameReader(MAX_FRAME_BYTES);
  private waiters: (() => void)[] = [];
  /** The channel this attacker said hello on: chunks it is sent are that channel's. */
  private channelKey: Uint8Array = new Uint8Array(32);
  /** The base of the short sequence numbers the node sends us (the attacker sends its own in full). */
  private readonly rxSeq = { seq: 0 };

  private constructor(
    private readonly socket: Pipe,
    readable: { on(event: 'data', cb: (d: Buffer) => void): unknown; on(event: 'close', cb: () => void): unknown },
    private readonly options: AttackerOptions,
    readonly nodeKey: NodeKey,
  ) {
    this.peerId = options.claimPeerId ?? peerIdOf(nodeKey.publicKey);
    this.closed = new Promise((resolve) => readable.on('close', () => resolve()));
    this.closed.then(() => {
      this.isClosed = true;
    });
    readable.on('data', (d: Buffer) => {
      try {
        for (const f of this.reader.push(new Uint8Array(d))) this.received.push(decodeMessage(f, this.channelKey, this.rxSeq));
      } catch {
        // An attacker does not care about what it is sent.
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static connect(host: string, port: number, options: AttackerOptions = {}): Promise<Attacker> {
    const nodeKey = options.nodeKey ?? newNodeKey();
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
      socket.on('error', () => {});
      socket.once('error', reject);
      if (options.plain === true) {
        socket.once('connect', () => resolve(new Attacker(socket, socket, options, nodeKey)));
        return;
      }
      const stream = new NoiseSecretStream(true, socket, { keyPair: nodeKey.keyPair });
      stream.on('error', () => {});
      stream.once('close', () => reject(new Error('attacker: refused before the handshake')));
      stream.once('connect', () => resolve(new Attacker(stream as unknown as Pipe, stream, options, nodeKey)));
    });
  }

  get wasDropped(): boolean {
    return this.isClosed;
  }

  send(msg: WireMessage): void {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(encodeMessage(msg)));
  }

  sendRaw(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  hello(channelKey: Uint8Array): void {
    this.channelKey = channelKey;
    this.send({
      type: MsgType.Hello,
      version: this.options.version ?? PROTOCOL_VERSION,
      channelKey,
      peerId: this.peerId,
      role: 'viewer',
      relays: this.options.relays !== false,
    });
  }

  /** Waits for a message matching `pick` (returns it) or fails after `timeoutMs`. */
  async next<T extends WireMessage>(pick: (m: WireMessage) => m is T, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let from = 0;
    for (;;) {
      for (; from < this.received.length; from++) {
        const m = this.received[from] as WireMessage;
        if (pick(m)) {
          this.received.splice(from, 1);
          return m;
        }
      }
      if (Date.now() > deadline || this.isClosed) throw new Error('attacker: expected message did not come');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** Resolves true if the remote side closes the connection within `timeoutMs`. */
  async droppedWithin(timeoutMs: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]);
  }

  close(): void {
    this.socket.destroy();
  }
}

export const isHave = (m: WireMessage): m is Extract<WireMessage, { type: MsgType.Have }> => m.type === MsgType.Have;
export const isChunk = (m: WireMessage): m is Extract<WireMessage, { type: MsgType.ChunkData }> => m.type === MsgType.ChunkData;

/** A chunk signed by some other key: valid for that key, foreign to the channel. */
export function foreignChunk(seq: number, sign: (m: Uint8Array) => Uint8Array, key: Uint8Array): Chunk {
  return signChunk({ channelKey: key, seq, captureTimeMs: Date.now(), flags: 1, payload: randomBytes(4000) }, sign);
}
