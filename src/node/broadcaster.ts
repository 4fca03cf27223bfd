// Composition root of `meshtv broadcast`: the channel key, ffmpeg encoding a live input, the
// chunker, signing, the source's swarm node and the channel record in the directory.

import { type ChildProcess, spawn } from 'node:child_process';
import { DEFAULT_TEST_PATTERN, ffmpegPath, type TestPatternOptions, testPatternArgs } from '../media/ffmpeg.js';
import { TsChunker } from '../media/ts-chunker.js';
import { signChannelRecord } from '../protocol/channel-record.js';
import { signChunk } from '../protocol/chunk.js';
import type { PeerCoreConfig } from '../protocol/peer-core.js';
import { formatChannelUri } from './channel-uri.js';
import { UserError } from './errors.js';
import { type HttpOutput, startHttpOutput } from './http-output.js';
import { loadOrCreateKey } from './keys.js';
import type { Logger } from './log.js';
import { RateMeter } from './rate-meter.js';
import { SwarmNode } from './swarm-node.js';
import { publishChannelRecord } from './tracker-client.js';

export interface BroadcastOptions {
  trackers: string[];
  name: string;
  keyFile: string;
  host: string;
  port: number;
  announceAddress?: string;
  /** Port for the broadcaster's /stats.json (127.0.0.1); undefined: no HTTP server. */
  httpPort?: number;
  maxPeers?: number;
  pattern?: TestPatternOptions;
  core?: Partial<PeerCoreConfig>;
  log: Logger;
}

export interface Broadcast {
  readonly channelId: string;
  readonly uri: string;
  readonly keyCreated: boolean;
  readonly httpUrl: string | undefined;
  stats(): BroadcastStats;
  stop(): Promise<void>;
}

export interface BroadcastStats {
  role: 'source';
  channelId: string;
  name: string;
  peers: number;
  chunksProduced: number;
  bytesProduced: number;
  mediaBytesSent: number;
  controlBytes: number;
  /** Source load so far: media bytes sent / bytes produced. */
  sourceLoad: number;
  produceBps: number;
  uploadBps: number;
}

const RECORD_REFRESH_MS = 10_000;
/** First chunk number: 200 ms ticks since 2024, so a restarted broadcaster never reuses numbers. */
const SEQ_EPOCH_MS = Date.UTC(2024, 0, 1);

export async function startBroadcast(o: BroadcastOptions): Promise<Broadcast> {
  const { key, created } = loadOrCreateKey(o.keyFile);
  const ffmpeg = ffmpegPath();
  const pattern = o.pattern ?? DEFAULT_TEST_PATTERN;
  const node = new SwarmNode({
    role: 'source',
    channelKey: key.publicKey,
    host: o.host,
    port: o.port,
    ...(o.announceAddress ? { announceAddress: o.announceAddress } : {}),
    trackers: o.trackers,
    dialTarget: 0,
    core: { ...o.core, ...(o.maxPeers !== undefined ? { maxNeighbours: o.maxPeers } : {}) },
    log: o.log.child('swarm'),
  });
  try {
    await node.start();
  } catch (err) {
    throw new UserError(`cannot listen for peers on ${o.host}:${o.port}: ${(err as Error).message}; choose another --peer-port`);
  }
  const bitrateBps = (pattern.videoBitrateKbps + pattern.audioBitrateKbps) * 1000;
  const publishRecord = () =>
    Promise.any(
      o.trackers.map((t) =>
        publishChannelRecord(
          t,
          signChannelRecord({ channelId: key.channelId, name: o.name, bitrateBps, issuedAtMs: Date.now() }, key.sign),
        ),
      ),
    ).catch((e: AggregateError) => {
      throw e.errors[0];
    });
  try {
    await publishRecord();
    await node.announceNow();
  } catch (err) {
    await node.stop();
    throw err;
  }
  const recordTimer = setInterval(() => {
    publishRecord().catch((err: Error) => o.log.warn(err.message));
  }, RECORD_REFRESH_MS);

  let seq = Math.floor((Date.now() - SEQ_EPOCH_MS) / 200);
  let chunksProduced = 0;
  let bytesProduced = 0;
  const produceMeter = new RateMeter();
  const uploadMeter = new RateMeter();
  let stopping = false;
  let child: ChildProcess | undefined;
  let restartDelayMs = 1000;

  const runEncoder = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const chunker = new TsChunker({ targetChunkMs: 250 });
      const startedAt = Date.now();
      let stderrTail = '';
      const proc = spawn(ffmpeg, testPatternArgs(pattern), { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      proc.stdout?.on('data', (data: Buffer) => {
        const now = Date.now();
        for (const piece of chunker.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), now)) {
          const chunk = signChunk(
            { channelKey: key.publicKey, seq: seq++, captureTimeMs: piece.captureTimeMs, flags: piece.flags, payload: piece.payload },
            key.sign,
          );
          chunksProduced++;
          bytesProduced += chunk.payload.length;
          node.publish(chunk);
        }
        restartDelayMs = 1000;
      });
      proc.stderr?.on('data', (d: Buffer) => {
        stderrTail = (stderrTail + d.toString()).slice(-2000);
      });
      proc.on('error', (err) => reject(new UserError(`cannot run ffmpeg (${ffmpeg}): ${err.message}`)));
      proc.on('close', (code, signal) => {
        if (stopping) return resolve();
        const lastLine = stderrTail.trim().split('\n').pop() ?? '';
        const why = `ffmpeg exited (${signal ?? `code ${code}`})${lastLine ? `: ${lastLine}` : ''}`;
        if (chunksProduced === 0 && Date.now() - startedAt < 5000) reject(new UserError(`${why}; check the ffmpeg installation`));
        else reject(new Error(why));
      });
    });

  // The first run must produce video; later failures of a live source are retried with back-off.
  const firstRun = runEncoder();
  const firstChunk = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (chunksProduced > 0 || stopping) {
        clearInterval(check);
        resolve();
      }
    }, 50);
  });
  const supervise = (run: Promise<void>) => {
    run.catch((err: Error) => {
      if (stopping) return;
      o.log.warn(`${err.message}; restarting in ${restartDelayMs / 1000} s`);
      setTimeout(() => {
        if (!stopping) supervise(runEncoder());
      }, restartDelayMs);
      restartDelayMs = Math.min(30_000, restartDelayMs * 2);
    });
  };
  try {
    await Promise.race([firstChunk, firstRun.then(() => firstChunk)]);
  } catch (err) {
    clearInterval(recordTimer);
    await node.stop();
    throw err;
  }
  supervise(firstRun);

  const stats = (): BroadcastStats => {
    const core = node.core.getStats();
    const now = Date.now();
    return {
      role: 'source',
      channelId: key.channelId,
      name: o.name,
      peers: core.neighbours,
      chunksProduced,
      bytesProduced,
      mediaBytesSent: core.mediaBytesOut,
      controlBytes: node.controlBytes,
      sourceLoad: bytesProduced === 0 ? 0 : core.mediaBytesOut / bytesProduced,
      produceBps: produceMeter.sample(now, bytesProduced),
      uploadBps: uploadMeter.sample(now, core.mediaBytesOut),
    };
  };
  let http: HttpOutput | undefined;
  if (o.httpPort !== undefined) http = await startHttpOutput({ host: '127.0.0.1', port: o.httpPort, stats });

  return {
    channelId: key.channelId,
    uri: formatChannelUri(key.channelId, o.trackers),
    keyCreated: created,
    httpUrl: http?.baseUrl,
    stats,
    stop: async () => {
      stopping = true;
      clearInterval(recordTimer);
      child?.kill('SIGTERM');
      await http?.close();
      await node.stop();
    },
  };
}
