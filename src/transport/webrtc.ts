// Peer transport over a WebRTC data channel, written against the W3C API so the same code runs
// in browsers (native RTCPeerConnection) and in node (node-datachannel's polyfill, injected by
// the node runtime). Data channels carry messages, not a byte stream, so a frame travels as
// one or more fragments of at most 16 KiB — the size every stack delivers whole — each with a
// one-byte header saying whether more follow. The send queue is kept shallow: a deep
// bufferedAmount cuts throughput several times.

import { concatBytes } from '../common/bytes.js';
import { MAX_FRAME_BYTES } from '../protocol/codec.js';
import { RemoteProtocolError } from '../protocol/errors.js';
import type { LinkPath } from './ice.js';
import type { Connection, ConnectionHandlers, LinkBinding } from './transport.js';

export const FRAGMENT_BYTES = 16 * 1024;
const LOW_WATER_BYTES = 64 * 1024;
const HIGH_WATER_BYTES = 256 * 1024;
const MORE = 1;
const LAST = 0;

/** The parts of RTCDataChannel this transport uses (browser and polyfill both have them). */
export interface DataChannelLike {
  binaryType: string;
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  send(data: ArrayBufferView | ArrayBuffer): void;
  close(): void;
  addEventListener(type: string, listener: (ev: { data?: unknown }) => void): void;
}

export class WebRtcConnection implements Connection {
  private handlers: ConnectionHandlers | undefined;
  private readonly early: Uint8Array[] = [];
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  private closed = false;
  private closeError: Error | undefined;
  /** Set by the signalling once ICE reports the selected candidate pair. */
  path: LinkPath | undefined;
  /** Set by the signalling when the channel opens: both ends' DTLS fingerprints. */
  binding: LinkBinding | undefined;

  constructor(
    private readonly channel: DataChannelLike,
    private readonly onClosed: () => void,
    readonly remoteAddress = 'webrtc',
    readonly remotePort = 0,
  ) {
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    channel.addEventListener('message', (ev) => this.onMessage(ev.data));
    channel.addEventListener('bufferedamountlow', () => this.flush());
    channel.addEventListener('close', () => this.finish());
    channel.addEventListener('error', () => this.finish());
  }

  get bufferedBytes(): number {
    return this.queuedBytes + (this.closed ? 0 : this.channel.bufferedAmount);
  }

  setHandlers(handlers: ConnectionHandlers): void {
    this.handlers = handlers;
    for (const f of this.early.splice(0)) handlers.onFrame(f);
    if (this.closed) handlers.onClose(this.closeError);
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    for (let o = 0; o < frame.length; o += FRAGMENT_BYTES) {
      const end = Math.min(frame.length, o + FRAGMENT_BYTES);
      const piece = new Uint8Array(1 + end - o);
      piece[0] = end < frame.length ? MORE : LAST;
      piece.set(frame.subarray(o, end), 1);
      this.queue.push(piece);
      this.queuedBytes += piece.length;
    }
    this.flush();
  }

  close(): void {
    if (this.closed) return;
    try {
      this.channel.close();
    } catch {
      // already closing
    }
    this.finish();
  }

  private flush(): void {
    while (!this.closed && this.queue.length > 0 && this.channel.readyState === 'open' && this.channel.bufferedAmount < HIGH_WATER_BYTES) {
      const piece = this.queue.shift() as Uint8Array;
      this.queuedBytes -= piece.length;
      try {
        this.channel.send(piece);
      } catch (err) {
        this.closeError = err as Error;
        this.close();
      }
    }
  }

  private onMessage(data: unknown): void {
    if (this.closed) return;
    const bytes =
      data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : ArrayBuffer.isView(data)
          ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
          : undefined;
    if (bytes === undefined || bytes.length < 1 || (bytes[0] !== MORE && bytes[0] !== LAST)) {
      return this.fail(new RemoteProtocolError('malformed data channel message'));
    }
    this.partBytes += bytes.length - 1;
    if (this.partBytes > MAX_FRAME_BYTES) return this.fail(new RemoteProtocolError(`frame exceeds the ${MAX_FRAME_BYTES}-byte limit`));
    this.parts.push(bytes.slice(1));
    if (bytes[0] === MORE) return;
    const frame = this.parts.length === 1 ? (this.parts[0] as Uint8Array) : concatBytes(this.parts);
    this.parts = [];
    this.partBytes = 0;
    if (frame.length === 0) return this.fail(new RemoteProtocolError('empty frame'));
    if (this.handlers) this.handlers.onFrame(frame);
    else this.early.push(frame);
  }

  private fail(err: Error): void {
    this.closeError = err;
    this.close();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.onClosed();
    this.handlers?.onClose(this.closeError);
  }
}
