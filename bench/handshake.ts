// What the Noise handshake adds to a TCP link's setup, on loopback: time from dial to a link
// that can carry frames, with the handshake (TcpTransport) and without (a bare TCP connect),
// median and p95 over many dials. Noise XX costs the dialler one round trip more than TCP's
// own (its first frame rides with the handshake's third message); on loopback the round trip is
// microseconds, so what this shows is the handshake's CPU time. Prints figures, asserts nothing.
//   node --import tsx bench/handshake.ts [DIALS]

import net from 'node:net';
import { newNodeKey } from '../src/crypto/keys.js';
import { TcpTransport } from '../src/transport/tcp.js';

const dials = Number(process.argv[2] ?? 200);
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] as number;

const server = new TcpTransport({ keyPair: newNodeKey().keyPair });
const listener = await server.listen('127.0.0.1', 0, (c) => c.close());
const client = new TcpTransport({ keyPair: newNodeKey().keyPair });
const noise: number[] = [];
for (let i = 0; i < dials; i++) {
  const t0 = performance.now();
  const c = await client.dial('127.0.0.1', listener.port, 5000);
  noise.push(performance.now() - t0);
  c.close();
}
await listener.close();

const plainServer = net.createServer((s) => s.destroy());
await new Promise<void>((r) => plainServer.listen(0, '127.0.0.1', r));
const port = (plainServer.address() as net.AddressInfo).port;
const plain: number[] = [];
for (let i = 0; i < dials; i++) {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      plain.push(performance.now() - t0);
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
}
plainServer.close();
const f = (xs: number[]) => `median ${quantile(xs, 0.5).toFixed(2)} ms, p95 ${quantile(xs, 0.95).toFixed(2)} ms`;
console.log(`${dials} dials on loopback: TCP connect ${f(plain)}; TCP + Noise XX handshake ${f(noise)}`);
