// Native peers meet over WebRTC (node-datachannel) through WebTorrent-protocol signalling,
// against our own tracker and against the stock `bittorrent-tracker` server: the same scenario
// for both, so the swarm can be carried by either. A chunk stream from a source reaches a
// viewer that knows no TCP address at all.

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { Server } from 'bittorrent-tracker';
import { cleanup } from 'node-datachannel';
import { createLogger } from '../../src/common/log.js';
import { loadOrCreateKey } from '../../src/crypto/keys.js';
import { SwarmNode } from '../../src/native/swarm-node.js';
import { FLAG_KEYFRAME, signChunk } from '../../src/protocol/chunk.js';
import { startTracker } from '../../src/tracker/server.js';
import { signalingUrlOf } from '../../src/transport/webrtc-signaling.js';
import { tempDir, waitUntil } from '../helpers/processes.js';

const log = createLogger({ level: 'error', format: 'text' });

async function streamOverWebRtc(signalingUrl: string): Promise<{ played: number; skipped: number; kinds: string[]; joinMs: number }> {
  const { key } = loadOrCreateKey(`${tempDir('rtc')}/k.key`);
  const node = (role: 'source' | 'viewer') =>
    new SwarmNode({ role, channelKey: key.publicKey, host: '127.0.0.1', port: 0, trackers: [], signalingUrls: [signalingUrl], log });
  const source = node('source');
  const viewer = node('viewer');
  let played = 0;
  let skipped = 0;
  let firstPlayAt = 0;
  viewer.onEvent((e) => {
    if (e.type === 'play') {
      played++;
      firstPlayAt ||= Date.now();
    } else if (e.type === 'skip') skipped++;
  });
  await source.start();
  let seq = 5000;
  const publish = setInterval(() => {
    source.publish(
      signChunk(
        {
          channelKey: key.publicKey,
          seq,
          captureTimeMs: Date.now(),
          flags: seq % 4 === 0 ? FLAG_KEYFRAME : 0,
          payload: new Uint8Array(40_000).fill(seq & 0xff),
        },
        key.sign,
      ),
    );
    seq++;
  }, 250);
  const joinedAt = Date.now();
  await viewer.start();
  try {
    await waitUntil('the viewer plays 12 chunks over WebRTC', () => played >= 12, 20_000);
  } finally {
    clearInterval(publish);
  }
  const kinds = viewer.linkStats().map((l) => l.kind);
  await viewer.stop();
  await source.stop();
  return { played, skipped, kinds, joinMs: firstPlayAt - joinedAt };
}

describe('WebRTC between native peers', () => {
  // node-datachannel's native threads keep a process alive until told to stop.
  after(() => cleanup());

  test('through our tracker', { timeout: 40_000 }, async (t) => {
    const tracker = await startTracker({ host: '127.0.0.1', port: 0 });
    after(() => tracker.stop());
    const r = await streamOverWebRtc(signalingUrlOf(tracker.url));
    assert.deepEqual(r.kinds, ['webrtc']);
    assert.equal(r.skipped, 0);
    t.diagnostic(`joined and playing in ${r.joinMs} ms`);
  });

  test('through a stock bittorrent-tracker server', { timeout: 40_000 }, async (t) => {
    const server = new Server({ udp: false, http: false, ws: true, stats: false });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = (server.http as { address(): AddressInfo }).address();
    const r = await streamOverWebRtc(`ws://127.0.0.1:${port}`);
    assert.deepEqual(r.kinds, ['webrtc']);
    assert.equal(r.skipped, 0);
    t.diagnostic(`joined and playing in ${r.joinMs} ms`);
  });
});
