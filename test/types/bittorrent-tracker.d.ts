// The few parts of the bittorrent-tracker server the interoperability test uses.
declare module 'bittorrent-tracker' {
  export class Server {
    constructor(opts: { udp?: boolean; http?: boolean; ws?: boolean; stats?: boolean });
    http: unknown;
    listen(port: number, hostname: string, onListening: () => void): void;
    close(cb: () => void): void;
  }
}
