// Hostile peers against a real swarm (real processes, real sockets). Every attack is aimed at
// an honest viewer while it plays; afterwards its /stream.ts must be byte-identical to what the
// broadcaster signed, its continuity untouched, and every attacker dropped and refused.

import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import path from 'node:path';
import { after, test } from 'node:test';
import { hexToBytes } from '../../src/common/hex.js';
import { createLogger } from '../../src/common/log.js';
import { SwarmNode } from '../../src/native/swarm-node.js';
import { announce } from '../../src/native/tracker-client.js';
import type { ViewerStats } from '../../src/native/viewer.js';
import { type Chunk, FLAG_KEYFRAME } from '../../src/protocol/chunk.js';
import { MsgType, makeBufferMap } from '../../src/protocol/codec.js';
import { Attacker, foreignChunk, isChunk, isHave } from '../helpers/attacker.js';
import { getJson, meshtv, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

/** Reads a live HTTP stream into memory until stopped. */
function record(url: string): { stop: () => Promise<Uint8Array> } {
  const controller = new AbortController();
  const parts: Uint8Array[] = [];
  const done = fetch(url, { signal: controller.signal })
    .then(async (res) => {
      for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) parts.push(part);
    })
    .catch(() => {});
  return {
    stop: async () => {
      controller.abort();
      await done;
      return new Uint8Array(Buffer.concat(parts));
    },
  };
}

/**
 * Checks that `bytes` is a run of consecutive chunk payloads signed by the broadcaster (as
 * collected by an honest reference node), allowing only a partial chunk at the very end and
 * a prefix of chunks from before the reference joined.
 */
function assertMadeOfSignedChunks(bytes: Uint8Array, reference: Map<number, Chunk>): { chunks: number; bytes: number } {
  const seqs = [...reference.keys()].sort((a, b) => a - b);
  const buf = Buffer.from(bytes);
  for (const first of seqs) {
    const payload = Buffer.from((reference.get(first) as Chunk).payload);
    const at = buf.indexOf(payload.subarray(0, 2048));
    if (at < 0) continue;
    let o = at;
    let seq = first;
    let chunks = 0;
    while (o < buf.length) {
      const c = reference.get(seq);
      assert.ok(c, `stream continues past the reference's chunks at seq ${seq}`);
      const expected = Buffer.from(c.payload);
      const got = buf.subarray(o, o + expected.length);
      assert.ok(expected.subarray(0, got.length).equals(got), `stream bytes differ from the signed chunk ${seq}`);
      o += got.length;
      seq++;
      chunks++;
    }
    assert.ok(at < 2_000_000, 'too much unverifiable data before the first chunk known to the reference');
    return { chunks, bytes: buf.length - at };
  }
  assert.fail('no chunk of the broadcaster found in the stream');
}

test('attackers cannot change what honest viewers play, and are dropped', { timeout: 120_000 }, async (t) => {
  const dir = tempDir('attacks');
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const source = meshtv(['broadcast', '--tracker', trackerUrl, '--name', 'under attack', '--key', path.join(dir, 'k.key')]);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
  const channelKey = hexToBytes(channelId);

  // The honest reference: an in-process viewer that keeps every verified chunk it receives.
  const reference = new Map<number, Chunk>();
  const refNode = new SwarmNode({
    role: 'viewer',
    channelKey,
    host: '127.0.0.1',
    port: 0,
    trackers: [trackerUrl],
    log: createLogger({ level: 'error', format: 'text' }),
  });
  refNode.onEvent((e) => {
    if (e.type === 'chunk') reference.set(e.chunk.seq, e.chunk);
  });
  await refNode.start();
  await refNode.announceNow();
  t.after(() => refNode.stop());

  const victims = [meshtv(['watch', uri, '--http-port', '0']), meshtv(['watch', uri, '--http-port', '0'])];
  const urls = await Promise.all(victims.map(async (v) => (await v.waitFor(/^(http:\S+)\/stream\.ts$/m))[1] as string));
  await waitUntil('the victims play', async () =>
    (await Promise.all(urls.map((u) => getJson<ViewerStats>(`${u}/stats.json`)))).every((s) => s.started),
  );
  await waitUntil('the reference holds chunks', () => reference.size > 4);
  const recording = record(`${urls[0]}/stream.ts`);

  // Find the victims' peer ports the way any peer would: ask the tracker.
  const answer = await announce(trackerUrl, { channelId, peerId: randomBytes(16).toString('hex'), port: 9, role: 'viewer' });
  const victimPeers = answer.peers.filter((p) => p.role === 'viewer' && p.port !== refNode.port);
  assert.ok(victimPeers.length >= 2, 'victims not announced');
  const target = victimPeers[0] as { address: string; port: number };

  async function join(): Promise<Attacker> {
    const a = await Attacker.connect(target.address, target.port);
    a.hello(channelKey);
    return a;
  }
  const newestSeq = async (a: Attacker) => (await a.next(isHave)).seq;

  const attacks: Record<string, () => Promise<Attacker>> = {
    'forged signature': async () => {
      const a = await join();
      const seq = (await newestSeq(a)) + 1;
      a.send({
        type: MsgType.ChunkData,
        chunk: { channelKey, seq, captureTimeMs: Date.now(), flags: FLAG_KEYFRAME, payload: randomBytes(5000), signature: randomBytes(64) },
      });
      return a;
    },
    'corrupted payload': async () => {
      const a = await join();
      const have = await a.next(isHave);
      a.send({ type: MsgType.Request, seq: have.seq });
      const real = (await a.next(isChunk)).chunk;
      const payload = new Uint8Array(real.payload);
      payload[100] = (payload[100] as number) ^ 0xff;
      // Presented, with the real signature, as a chunk 5 s ahead, which the victim cannot hold
      // yet (the next one it may well hold already: a duplicate is not checked, so not punished).
      a.send({ type: MsgType.ChunkData, chunk: { ...real, seq: real.seq + 50, payload } });
      return a;
    },
    "another channel's chunks": async () => {
      const a = await join();
      const other = generateKeyPairSync('ed25519');
      const otherKey = new Uint8Array(other.publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
      a.send({
        type: MsgType.ChunkData,
        chunk: foreignChunk((await newestSeq(a)) + 1, (m) => new Uint8Array(sign(null, m, other.privateKey)), otherKey),
      });
      return a;
    },
    'hello for another channel': async () => {
      const a = await Attacker.connect(target.address, target.port);
      a.hello(randomBytes(32));
      return a;
    },
    'replays of old chunks': async () => {
      const a = await join();
      const have = await a.next(isHave);
      a.send({ type: MsgType.Request, seq: have.seq });
      const real = (await a.next(isChunk)).chunk;
      for (let i = 0; i < 20; i++) a.send({ type: MsgType.ChunkData, chunk: real });
      return a;
    },
    'oversized frame': async () => {
      const a = await join();
      a.sendRaw(new Uint8Array([0xff, 0xff, 0xff, 0x00, 1, 2, 3]));
      return a;
    },
    'garbage frames': async () => {
      const a = await join();
      const garbage = randomBytes(1000);
      garbage.writeUInt32BE(996, 0);
      garbage[4] = 0xee;
      a.sendRaw(garbage);
      return a;
    },
    'request flood': async () => {
      const a = await join();
      const seq = await newestSeq(a);
      for (let i = 0; i < 5000; i++) a.send({ type: MsgType.Request, seq: seq - (i % 8) });
      return a;
    },
    'buffer map of chunks it does not have': async () => {
      const a = await join();
      const seq = await newestSeq(a);
      a.send(makeBufferMap(seq - 100, 140, () => true, seq + 39));
      // Refuses every request for what it advertised.
      const refuse = setInterval(() => {
        for (const m of a.received.splice(0)) if (m.type === MsgType.Request) a.send({ type: MsgType.Reject, seq: m.seq });
      }, 20);
      a.closed.then(() => clearInterval(refuse));
      return a;
    },
  };

  const launched = await Promise.all(Object.entries(attacks).map(async ([name, run]) => [name, await run()] as const));
  for (const [name, a] of launched) {
    assert.ok(await a.droppedWithin(15_000), `attacker "${name}" was not dropped`);
  }
  // A dropped attacker coming back under the same identity is refused.
  const back = await Attacker.connect(target.address, target.port, { nodeKey: (launched[0] as readonly [string, Attacker])[1].nodeKey });
  back.hello(channelKey);
  assert.ok(await back.droppedWithin(5000), 'a banned attacker was let back in');

  await new Promise((r) => setTimeout(r, 6000));
  const bytes = await recording.stop();
  const matched = assertMadeOfSignedChunks(bytes, reference);
  const stats = await getJson<ViewerStats>(`${urls[0]}/stats.json`);
  assert.equal(stats.chunksSkipped, 0, 'the victim skipped chunks');
  assert.equal(stats.chunksLate, 0, 'the victim played chunks late');
  assert.equal(stats.continuity, 1);
  t.diagnostic(
    `victim stream: ${matched.chunks} chunks, ${matched.bytes} bytes identical to the broadcaster's; ${launched.length} attackers dropped`,
  );
});
