// The parts of bittorrent-dht@11 (BEP 5 Mainline DHT, ships no types) that src/native/dht-discovery.ts
// and its test use. Written against client.js of 11.0.12; keep it to what we call.

declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events';
  import type { AddressInfo } from 'node:net';

  export interface DhtContact {
    host: string;
    port: number;
  }

  export interface DhtOptions {
    /** Nodes to join through; `false` = none (a first node); omitted = the public routers. Strings are "host:port". */
    bootstrap?: false | Array<string | DhtContact>;
    /**
     * If set, our own announces are also stored in our own peer table under this host. Not the bind
     * address (that goes to listen()).
     */
    host?: string | false;
    /** Peers announced to us expire after 0.66 to 1.33 x this many ms. @default 0 (never; only a 10 000 cap) */
    maxAge?: number;
  }

  export interface DhtEvents {
    ready: [];
    listening: [];
    close: [];
    /** Only EACCES / EADDRINUSE from the UDP socket; everything else arrives as 'warning'. */
    error: [err: Error];
    warning: [err: Error];
    /** A peer for some info hash, from a lookup's replies or our own table. */
    peer: [peer: DhtContact, infoHash: Buffer, from: { address?: string; host?: string; port: number } | null];
  }

  export default class DHT extends EventEmitter<DhtEvents> {
    constructor(opts?: DhtOptions);
    /** True once the bootstrap find_node walk has finished (whether or not anyone answered). */
    readonly ready: boolean;
    readonly listening: boolean;
    readonly destroyed: boolean;
    readonly nodeId: Buffer;
    /** The routing table (a k-bucket). */
    readonly nodes: { count(): number };
    listen(port: number, host: string, onListening?: () => void): void;
    address(): AddressInfo;
    /** announce_peer to the closest nodes; `hits` = nodes that accepted. Port 0 would mean "my UDP port" (implied_port). */
    announce(infoHash: Uint8Array, port: number, cb?: (err: Error | null, hits?: number) => void): void;
    /** Iterative get_peers; found peers arrive as 'peer' events. Returns an abort function. */
    lookup(infoHash: Uint8Array, cb?: (err: Error | null, nodesVisited?: number) => void): () => void;
    destroy(cb?: () => void): void;
  }
}
