// The contract every peer transport meets (TCP now; WebRTC and in-memory later), in the
// manner of js-libp2p's transport interface: frames in, frames out, one close callback.

import type { LinkPath } from './ice.js';

export interface ConnectionHandlers {
  onFrame(frame: Uint8Array): void;
  /** Called once when the connection ends; `error` says why when it was not a clean close. */
  onClose(error?: Error): void;
}

/** What a transport knows of the far end of a link (src/runtime/link-auth.ts checks the hello against it). */
export type LinkBinding =
  /** Its handshake proved the remote's node key (Noise XX on TCP). */
  | { kind: 'key'; remoteKey: Uint8Array }
  /** The link runs inside DTLS with these certificate fingerprints (ours and theirs, as the SDPs say them). */
  | { kind: 'fingerprints'; local: string; remote: string };

export interface Connection {
  readonly remoteAddress: string;
  /** What authenticates the far end; undefined when the transport could not tell (the link is refused). */
  readonly binding: LinkBinding | undefined;
  readonly remotePort: number;
  /** How the link crosses the network, once known (TCP: direct; WebRTC: from ICE). */
  readonly path?: LinkPath;
  /** Sends one frame (a message body; framing is the transport's business). */
  send(frame: Uint8Array): void;
  /** Bytes accepted by send() but not yet handed to the network. */
  readonly bufferedBytes: number;
  close(): void;
  setHandlers(handlers: ConnectionHandlers): void;
}

export interface Listener {
  readonly port: number;
  close(): Promise<void>;
}

export interface Transport {
  listen(host: string, port: number, onConnection: (c: Connection) => void): Promise<Listener>;
  dial(host: string, port: number, timeoutMs: number): Promise<Connection>;
}
