// The tracker client against a tracker that answers too much: a body past the cap is refused,
// whether its length is declared or it simply keeps coming, and is never read whole.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { announce, listChannels } from '../../src/native/tracker-client.js';

test('an answer larger than 8 MiB is refused, declared or not', async () => {
  let written = 0;
  const server = http.createServer((req, res) => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    if (req.url === '/api/channels') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 50 * 1024 * 1024 });
      res.end();
      return;
    }
    // No length: a stream of spaces that would never end.
    res.writeHead(200, { 'content-type': 'application/json' });
    const pump = () => {
      while (written < 64 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
    };
    res.on('drain', pump);
    res.on('close', () => res.off('drain', pump));
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await assert.rejects(listChannels(url), /larger than 8388608 bytes/);
    await assert.rejects(announce(url, { channelId: 'a'.repeat(64), peerId: 'b'.repeat(32), port: 1, role: 'viewer' }), /larger than/);
    assert.ok(written < 32 * 1024 * 1024, `${written} bytes were sent before the client stopped reading`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
