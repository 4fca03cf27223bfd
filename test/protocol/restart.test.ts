// A broadcaster restarted with the same key numbers its chunks from its clock, far past where
// it stopped. Viewers notice the silence and the far keyframe, and start over there.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import { type Chunk, FLAG_KEYFRAME, FLAG_STREAM_START, signChunk } from '../../src/protocol/chunk.js';
import { MsgType, PROTOCOL_VERSION } from '../../src/protocol/codec.js';
import type { CoreEvent } from '../../src/protocol/core-types.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { testChunk } from '../helpers/cores.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('restart')}/k.key`);
const chunk = (seq: number, captureTimeMs: number): Chunk => testChunk(key, seq, captureTimeMs, 300, 4);
const hello = { type: MsgType.Hello, version: PROTOCOL_VERSION, channelKey: key.publicKey, role: 'source' } as const;

function drain(core: PeerCore): { events: CoreEvent[]; requests: { to: string; seq: number }[] } {
  const events: CoreEvent[] = [];
  const requests: { to: string; seq: number }[] = [];
  for (let e = core.pollEvent(); e !== undefined; e = core.pollEvent()) events.push(e);
  for (let t = core.pollTransmit(); t !== undefined; t = core.pollTransmit())
    if (t.msg.type === MsgType.Request) requests.push({ to: t.to, seq: t.msg.seq });
  return { events, requests };
}

test('viewers resume within 3 s of a broadcaster restarting with the same key', () => {
  const viewer = new PeerCore(
    { role: 'viewer' },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(2) },
  );
  let now = 0;
  viewer.handleConnected(now, 'old');
  viewer.handleMessage(now, 'old', { ...hello, peerId: new Uint8Array(16).fill(1) });
  for (let seq = 1000; seq < 1020; seq++) {
    now = (seq - 1000) * 250;
    viewer.handleMessage(now, 'old', { type: MsgType.ChunkData, chunk: chunk(seq, now) });
  }
  assert.equal(drain(viewer).events.filter((e) => e.type === 'play').length, 20);
  // The broadcaster dies; it comes back 2 s later numbering from 9000.
  viewer.handleDisconnected(now, 'old');
  const restartAt = now + 2000;
  viewer.handleConnected(restartAt, 'new');
  viewer.handleMessage(restartAt, 'new', { ...hello, peerId: new Uint8Array(16).fill(2) });
  let resumedAt: number | undefined;
  let restarted = false;
  const sent = new Set<number>();
  for (let i = 0; i < 40 && resumedAt === undefined; i++) {
    const seq = 9000 + i;
    now = restartAt + i * 250;
    viewer.handleMessage(now, 'new', { type: MsgType.Have, seq, flags: seq % 4 === 0 ? FLAG_KEYFRAME : 0 });
    viewer.handleTimeout(now);
    const out = drain(viewer);
    if (out.events.some((e) => e.type === 'restarted')) restarted = true;
    // The new source answers what it is asked for.
    for (const r of out.requests) {
      if (r.seq > seq || sent.has(r.seq)) continue;
      sent.add(r.seq);
      viewer.handleMessage(now + 5, 'new', { type: MsgType.ChunkData, chunk: chunk(r.seq, restartAt + (r.seq - 9000) * 250) });
      if (drain(viewer).events.some((e) => e.type === 'play')) resumedAt ??= now + 5;
    }
  }
  assert.ok(restarted, 'the restart was not noticed');
  assert.ok(resumedAt !== undefined, 'playback did not resume');
  assert.ok(resumedAt - restartAt <= 3000, `resumed ${resumedAt - restartAt} ms after the broadcaster came back`);
});

test('a far-ahead claim while chunks keep coming changes nothing', () => {
  const viewer = new PeerCore(
    { role: 'viewer' },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(2) },
  );
  viewer.handleConnected(0, 'src');
  viewer.handleMessage(0, 'src', { ...hello, peerId: new Uint8Array(16).fill(1) });
  viewer.handleConnected(0, 'liar');
  viewer.handleMessage(0, 'liar', {
    type: MsgType.Hello,
    version: PROTOCOL_VERSION,
    channelKey: key.publicKey,
    peerId: new Uint8Array(16).fill(3),
    role: 'viewer',
  });
  viewer.handleMessage(0, 'liar', { type: MsgType.Have, seq: 50_000, flags: FLAG_KEYFRAME });
  for (let seq = 1000; seq < 1040; seq++) {
    const now = (seq - 1000) * 250;
    viewer.handleMessage(now, 'src', { type: MsgType.ChunkData, chunk: chunk(seq, now) });
    viewer.handleTimeout(now);
  }
  const events = drain(viewer).events;
  assert.equal(events.filter((e) => e.type === 'restarted').length, 0);
  assert.equal(events.filter((e) => e.type === 'play').length, 40);
});

test('a restarted source that pushes its first new chunk straight to a viewer restarts it too', () => {
  const viewer = new PeerCore(
    { role: 'viewer' },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(4) },
  );
  viewer.handleConnected(0, 'old');
  viewer.handleMessage(0, 'old', { ...hello, peerId: new Uint8Array(16).fill(1) });
  for (let seq = 1000; seq < 1012; seq++)
    viewer.handleMessage((seq - 1000) * 250, 'old', { type: MsgType.ChunkData, chunk: chunk(seq, (seq - 1000) * 250) });
  drain(viewer);
  viewer.handleDisconnected(3000, 'old');
  viewer.handleConnected(3500, 'new');
  viewer.handleMessage(3500, 'new', { ...hello, peerId: new Uint8Array(16).fill(2) });
  // Pushed before any tick could notice the silence.
  viewer.handleMessage(3600, 'new', { type: MsgType.ChunkData, chunk: chunk(90_000, 3600) });
  const out = drain(viewer);
  assert.ok(out.events.some((e) => e.type === 'restarted'));
  assert.deepEqual(
    out.events.flatMap((e) => (e.type === 'play' ? [e.chunk.seq] : [])),
    [90_000],
  );
});

test('the same chunk asked twice by one neighbour is sent once', () => {
  const source = new PeerCore(
    { role: 'source' },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(4) },
  );
  source.handleConnected(0, 'v');
  source.handleMessage(0, 'v', {
    type: MsgType.Hello,
    version: PROTOCOL_VERSION,
    channelKey: key.publicKey,
    peerId: new Uint8Array(16).fill(5),
    role: 'viewer',
    relays: false,
  });
  source.publish(0, chunk(1000, 0));
  drain(source);
  const replies: number[] = [];
  for (let i = 0; i < 5; i++) {
    source.handleMessage(10 + i, 'v', { type: MsgType.Request, seq: 1000 });
    for (let t = source.pollTransmit(); t !== undefined; t = source.pollTransmit()) replies.push(t.msg.type);
  }
  assert.equal(replies.filter((type) => type === MsgType.ChunkData).length, 1);
  assert.equal(replies.filter((type) => type === MsgType.Busy).length, 4);
});

test('a broadcaster back within a second, numbering only a few chunks on: its flagged first chunk restarts viewers at once', () => {
  const viewer = new PeerCore(
    { role: 'viewer' },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(6) },
  );
  viewer.handleConnected(0, 'old');
  viewer.handleMessage(0, 'old', { ...hello, peerId: new Uint8Array(16).fill(1) });
  for (let seq = 1000; seq < 1040; seq++) {
    const now = (seq - 1000) * 250;
    viewer.handleMessage(now, 'old', { type: MsgType.ChunkData, chunk: chunk(seq, now) });
    viewer.handleTimeout(now);
  }
  drain(viewer);
  viewer.handleDisconnected(9750, 'old');
  // Back 300 ms later; its clock-based numbering is only 16 ahead, well inside the window.
  const backAt = 10_050;
  viewer.handleConnected(backAt, 'new');
  viewer.handleMessage(backAt, 'new', { ...hello, peerId: new Uint8Array(16).fill(2) });
  const first = signChunk(
    { channelKey: key.publicKey, seq: 1056, captureTimeMs: backAt, flags: FLAG_KEYFRAME | FLAG_STREAM_START, payload: new Uint8Array(300) },
    key.sign,
  );
  viewer.handleMessage(backAt + 10, 'new', { type: MsgType.ChunkData, chunk: first });
  const out = drain(viewer);
  assert.ok(
    out.events.some((e) => e.type === 'restarted'),
    'the new run was not noticed',
  );
  const played = out.events.flatMap((e) => (e.type === 'play' ? [e.chunk.seq] : []));
  assert.deepEqual(played, [1056], 'playback should go on at the new run’s first chunk');
  assert.equal(out.events.filter((e) => e.type === 'skip').length, 0, 'numbers of no run are not missed media');
});
