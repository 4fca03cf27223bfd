// The viewer's local HTTP server for players: /stream.ts (continuous MPEG-TS) and /stats.json.
// Bound to 127.0.0.1 by default: it serves this machine's players, not the Internet.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StreamOutput } from '../media/stream-output.js';
import { UserError } from './errors.js';

export interface HttpOutput {
  readonly port: number;
  readonly baseUrl: string;
  close(): Promise<void>;
}

export async function startHttpOutput(options: {
  host: string;
  port: number;
  stream?: StreamOutput;
  stats: () => unknown;
}): Promise<HttpOutput> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/stats.json') {
      const body = JSON.stringify(options.stats());
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
      res.end(body);
      return;
    }
    if (path === '/stream.ts' && options.stream !== undefined) {
      const stream = options.stream;
      res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'no-store' });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      res.socket?.setNoDelay(true);
      const sink = {
        write: (data: Uint8Array) => {
          res.write(data);
        },
        get pendingBytes() {
          return res.writableLength;
        },
        end: () => res.end(),
      };
      stream.addClient(sink);
      res.on('close', () => stream.removeClient(sink));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; try /stream.ts or /stats.json\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE')
        reject(new UserError(`port ${options.port} on ${options.host} is in use; choose another with --http-port`));
      else reject(new UserError(`cannot serve HTTP on ${options.host}:${options.port}: ${err.message}`));
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    baseUrl: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
