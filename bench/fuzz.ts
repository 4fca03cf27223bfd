// Fuzzing: random and mutated frames at the wire codec, the framing and the peer core, and
// random requests at the tracker. Anything but a RemoteProtocolError from the codec, any
// exception from the core, or any 5xx from the tracker is a crash. Heap is sampled to show
// that memory stays flat. `npm run fuzz` runs the full count; npm test runs a small one.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreateKey, nodeVerify } from '../src/crypto/keys.js';
import { type Chunk, FLAG_KEYFRAME, signChunk } from '../src/protocol/chunk.js';
import {
  decodeMessage,
  encodeMessage,
  MAX_FRAME_BYTES,
  MsgType,
  makeBufferMap,
  PROTOCOL_VERSION,
  type WireMessage,
} from '../src/protocol/codec.js';
import { RemoteProtocolError } from '../src/protocol/errors.js';
import { PeerCore } from '../src/protocol/peer-core.js';
import { type RandomFn, seededRandom } from '../src/protocol/random.js';
import { startTracker } from '../src/tracker/server.js';
import { encodeFrame, FrameReader } from '../src/transport/framing.js';

export interface FuzzOptions {
  seed: number;
  codecInputs: number;
  coreInputs: number;
  trackerRequests: number;
}

export interface FuzzReport {
  seed: number;
  codecInputs: number;
  framingInputs: number;
  coreInputs: number;
  trackerRequests: number;
  totalInputs: number;
  crashes: string[];
  heapStartMB: number;
  heapEndMB: number;
  wallMs: number;
}

const randomBytes = (random: RandomFn, n: number) => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
};
const int = (random: RandomFn, n: number) => Math.floor(random() * n);

/** Mutates bytes the way fuzzers do: flips, overwrites, truncations, extensions, splices. */
function mutate(random: RandomFn, input: Uint8Array): Uint8Array {
  let b = new Uint8Array(input);
  const rounds = 1 + int(random, 4);
  for (let r = 0; r < rounds; r++) {
    switch (int(random, 6)) {
      case 0:
        if (b.length > 0) {
          const at = int(random, b.length);
          b[at] = (b[at] as number) ^ (1 << int(random, 8));
        }
        break;
      case 1:
        if (b.length > 0) b[int(random, b.length)] = [0, 0xff, 0x7f, 0x80, 1][int(random, 5)] as number;
        break;
      case 2:
        b = b.slice(0, int(random, b.length + 1));
        break;
      case 3: {
        const extra = randomBytes(random, int(random, 64));
        const out = new Uint8Array(b.length + extra.length);
        out.set(b);
        out.set(extra, b.length);
        b = out;
        break;
      }
      case 4:
        if (b.length >= 5)
          new DataView(b.buffer).setUint32(
            1 + int(random, Math.max(1, b.length - 4)) - 1,
            [0, 0xffffffff, 0x7fffffff, int(random, 5000)][int(random, 4)] as number,
          );
        break;
      default:
        if (b.length > 0) b[0] = int(random, 10);
    }
  }
  return b;
}

function sampleMessages(chunks: Chunk[], channelKey: Uint8Array): WireMessage[] {
  const c = chunks[0] as Chunk;
  return [
    { type: MsgType.Hello, version: PROTOCOL_VERSION, channelKey, peerId: new Uint8Array(16).fill(3), role: 'viewer' },
    makeBufferMap(c.seq - 10, 30, (s) => s % 3 !== 0, c.seq),
    { type: MsgType.Have, seq: c.seq + 1, flags: FLAG_KEYFRAME },
    { type: MsgType.Have, seq: c.seq + 2, flags: 0 },
    { type: MsgType.Request, seq: c.seq },
    { type: MsgType.Request, seq: c.seq + 1, urgent: true },
    { type: MsgType.Reject, seq: c.seq },
    { type: MsgType.Busy, seq: c.seq, retryMs: 40 },
    { type: MsgType.Cancel, seq: c.seq },
    ...chunks.slice(0, 4).map((chunk) => ({ type: MsgType.ChunkData, chunk }) as const),
  ];
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const random = seededRandom(o.seed);
  const crashes: string[] = [];
  const crash = (where: string, err: unknown) => {
    if (crashes.length < 20) crashes.push(`${where}: ${((err as Error)?.stack ?? String(err)).split('\n').slice(0, 3).join(' | ')}`);
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-fuzz-'));
  const { key } = loadOrCreateKey(path.join(dir, 'k.key'));
  const chunks: Chunk[] = [];
  for (let i = 0; i < 40; i++) {
    chunks.push(
      signChunk(
        {
          channelKey: key.publicKey,
          seq: 1000 + i,
          captureTimeMs: 1e12 + i * 250,
          flags: i % 4 === 0 ? FLAG_KEYFRAME : 0,
          payload: randomBytes(random, 200 + int(random, 800)),
        },
        key.sign,
      ),
    );
  }
  // Each message in full, and as a step from sequence number 0 (what a link that just opened decodes).
  const messages = sampleMessages(chunks, key.publicKey);
  const samples = [...messages.map((m) => encodeMessage(m)), ...messages.map((m) => encodeMessage(m, { seq: 0 }))];
  globalThis.gc?.();
  const heapStartMB = process.memoryUsage().heapUsed / 2 ** 20;

  // 1. The codec: random and mutated frames.
  for (let i = 0; i < o.codecInputs; i++) {
    const input =
      random() < 0.2 ? randomBytes(random, int(random, 300)) : mutate(random, samples[int(random, samples.length)] as Uint8Array);
    try {
      decodeMessage(input, key.publicKey);
    } catch (err) {
      if (!(err instanceof RemoteProtocolError)) crash('codec', err);
    }
  }

  // 2. Framing: streams of valid and broken frames cut at random points.
  let framingInputs = 0;
  for (let i = 0; i < o.codecInputs / 20; i++) {
    const reader = new FrameReader(MAX_FRAME_BYTES);
    const parts: Uint8Array[] = [];
    for (let k = 0; k < 4; k++)
      parts.push(
        random() < 0.7
          ? encodeFrame(samples[int(random, samples.length)] as Uint8Array)
          : mutate(random, encodeFrame(samples[int(random, samples.length)] as Uint8Array)),
      );
    const stream = Buffer.concat(parts);
    try {
      for (let at = 0; at < stream.length; ) {
        const n = 1 + int(random, 700);
        reader.push(new Uint8Array(stream.subarray(at, at + n)));
        at += n;
      }
    } catch (err) {
      if (!(err instanceof RemoteProtocolError)) crash('framing', err);
    }
    framingInputs++;
  }

  // 3. The core: a viewer with a few neighbours that send whatever decodes.
  const core = new PeerCore(
    { role: 'viewer' },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(o.seed + 1) },
  );
  let now = 1e12;
  let nextPeer = 0;
  const peers: string[] = [];
  const connect = () => {
    const id = `p${nextPeer++}`;
    core.handleConnected(now, id);
    peers.push(id);
    core.handleMessage(now, id, decodeMessage(samples[0] as Uint8Array, key.publicKey));
  };
  for (let i = 0; i < 6; i++) connect();
  let coreInputs = 0;
  for (let i = 0; i < o.coreInputs; i++) {
    now += int(random, 30);
    const frame =
      random() < 0.3
        ? (samples[int(random, samples.length)] as Uint8Array)
        : mutate(random, samples[int(random, samples.length)] as Uint8Array);
    let msg: WireMessage;
    try {
      msg = decodeMessage(frame, key.publicKey);
    } catch {
      continue;
    }
    try {
      core.handleMessage(now, peers[int(random, peers.length)] as string, msg);
      if (random() < 0.1) core.handleTimeout(now + 100);
      while (core.pollTransmit() !== undefined) {}
      for (let e = core.pollEvent(); e !== undefined; e = core.pollEvent()) {
        if (e.type === 'misbehaved') {
          core.handleDisconnected(now, e.peer);
          peers.splice(peers.indexOf(e.peer), 1);
          connect();
        }
      }
    } catch (err) {
      crash('core', err);
    }
    coreInputs++;
  }

  // 4. The tracker: random requests over real HTTP.
  let trackerRequests = 0;
  if (o.trackerRequests > 0) {
    const tracker = await startTracker({
      host: '127.0.0.1',
      port: 0,
      rateLimit: { ratePerS: 1e9, burst: 1e9 },
      onInternalError: (err, req) => crash(`tracker ${req.method} ${req.url}`, err),
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const paths = ['/api/announce', '/api/channels', '/api/channels/x', '/', '/api/announce?x=1', '/%zz', '//'];
    const validAnnounce = JSON.stringify({ channelId: key.channelId, peerId: 'ab'.repeat(16), port: 4000, role: 'viewer' });
    const send = (body: Buffer, path: string, method: string, fresh: boolean) =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(
          // A retry goes on a connection of its own (agent: false).
          {
            host: '127.0.0.1',
            port: tracker.port,
            path,
            method,
            agent: fresh ? false : agent,
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            if ((res.statusCode ?? 500) >= 500) crash('tracker', new Error(`HTTP ${res.statusCode} for a fuzzed request`));
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const one = async () => {
      const body =
        random() < 0.5
          ? Buffer.from(mutate(random, new TextEncoder().encode(validAnnounce)))
          : Buffer.from(randomBytes(random, int(random, 200)));
      const path = paths[int(random, paths.length)] as string;
      const method = random() < 0.7 ? 'POST' : 'GET';
      try {
        await send(body, path, method, false);
      } catch {
        // A kept-alive connection can be closed by the server just as the client reuses it
        // (HTTP clients retry such requests). The tracker runs in this process, so a crash of
        // its own would end the run: only a failure on a fresh connection is reported.
        await send(body, path, method, true).catch((err: unknown) => crash('tracker', err));
      }
    };
    for (let i = 0; i < o.trackerRequests; i += 16) {
      await Promise.all(Array.from({ length: Math.min(16, o.trackerRequests - i) }, one));
      trackerRequests += Math.min(16, o.trackerRequests - i);
    }
    agent.destroy();
    await tracker.stop();
  }
  globalThis.gc?.();
  const heapEndMB = process.memoryUsage().heapUsed / 2 ** 20;
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    seed: o.seed,
    codecInputs: o.codecInputs,
    framingInputs,
    coreInputs,
    trackerRequests,
    totalInputs: o.codecInputs + framingInputs + coreInputs + trackerRequests,
    crashes,
    heapStartMB: Math.round(heapStartMB * 10) / 10,
    heapEndMB: Math.round(heapEndMB * 10) / 10,
    wallMs: Date.now() - started,
  };
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const report = await runFuzz({
    seed: arg('seed', 1),
    codecInputs: arg('codec', 1_000_000),
    coreInputs: arg('core', 200_000),
    trackerRequests: arg('tracker', 20_000),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exit(report.crashes.length === 0 ? 0 : 1);
}
