// The few parts of the bittorrent-tracker server the interoperability test uses.
declare module 'bittorrent-tracker' {
  export class Server {
    constructor(opts: { udp?: boolean; http?: boolean; ws?: boolean; stats?: boolean });
    http: unknown;
    /** Swarms by hex info hash; `peers` is an LRU cache of the swarm's peers. */
    torrents: Record<string, { peers: { length: number } } | undefined>;
    listen(port: number, hostname: string, onListening: () => void): void;
    close(cb: () => void): void;
  }
}
