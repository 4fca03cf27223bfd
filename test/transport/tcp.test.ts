// TcpTransport: a Noise XX handshake before any frame, so each end knows the other's node key
// (the link's binding), frames round-trip inside the encrypted stream, and a peer that announces
// an encrypted message larger than any frame is cut off before it makes us hold megabytes.

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import NoiseSecretStream from '@hyperswarm/secret-stream';
import { newNodeKey } from '../../src/crypto/keys.js';
import { TcpTransport } from '../../src/transport/tcp.js';
import type { Connection } from '../../src/transport/transport.js';

test('both ends learn the other node key, and frames round-trip', async () => {
  const a = newNodeKey();
  const b = newNodeKey();
  let accepted: Connection | undefined;
  const got: Uint8Array[] = [];
  const listener = await new TcpTransport({ keyPair: a.keyPair }).listen('127.0.0.1', 0, (c) => {
    accepted = c;
    c.setHandlers({ onFrame: (f) => got.push(f), onClose: () => {} });
  });
  const dialled = await new TcpTransport({ keyPair: b.keyPair }).dial('127.0.0.1', listener.port, 5000);
  dialled.setHandlers({ onFrame: () => {}, onClose: () => {} });
  for (const n of [3, 200, 70_000]) dialled.send(new Uint8Array(n).fill(n & 0xff));
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(dialled.binding, { kind: 'key', remoteKey: a.publicKey });
  assert.deepEqual(accepted?.binding, { kind: 'key', remoteKey: b.publicKey });
  assert.deepEqual(
    got.map((f) => f.length),
    [3, 200, 70_000],
  );
  dialled.close();
  await listener.close();
});

test('an encrypted message announced larger than any frame closes the link', async () => {
  let closedWith: Error | undefined;
  let closed = false;
  const listener = await new TcpTransport({ keyPair: newNodeKey().keyPair }).listen('127.0.0.1', 0, (c) =>
    c.setHandlers({
      onFrame: () => {},
      onClose: (err) => {
        closed = true;
        closedWith = err;
      },
    }),
  );
  const socket = net.connect({ host: '127.0.0.1', port: listener.port });
  const stream = new NoiseSecretStream(true, socket, { keyPair: newNodeKey().keyPair });
  stream.on('error', () => {});
  await new Promise<void>((r) => stream.once('connect', () => r()));
  // After the handshake: a 16 MB length, then 3 MB of it, straight onto the socket.
  socket.write(Uint8Array.of(0xff, 0xff, 0xff));
  for (let i = 0; i < 48 && !closed; i++) {
    socket.write(new Uint8Array(64 * 1024));
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 200));
  socket.destroy();
  await listener.close();
  assert.equal(closed, true, 'the link stayed open while the peer sent megabytes of one message');
  assert.match(closedWith?.message ?? '', /encrypted message of more than/);
});
