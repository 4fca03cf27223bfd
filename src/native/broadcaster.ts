// Composition root of `meshtv broadcast`: the channel key, ffmpeg encoding a live input, the
// chunker, signing, the source's swarm node and the channel record in the directory.

import { formatChannelUri } from '../api/channel-uri.js';
import { UserError } from '../common/errors.js';
import { bytesToHex } from '../common/hex.js';
import type { Logger } from '../common/log.js';
import { createMetrics } from '../common/metrics.js';
import { RateMeter } from '../common/rate-meter.js';
import { Teardown } from '../common/teardown.js';
import { type ChannelKey, deriveRenditionKey, loadOrCreateKey, loadOrCreateNodeKey } from '../crypto/keys.js';
import { ffmpegPath } from '../media/ffmpeg.js';
import { checkInput, Ingest } from '../media/ingest.js';
import { DEFAULT_ENCODING, describeInput, type EncodingOptions, ffmpegArgs, type InputSource, nominalBitrateKbps } from '../media/input.js';
import { renditionProofBytes, signChannelRecord } from '../protocol/channel-record.js';
import { encodeChunk, FLAG_KEYFRAME, FLAG_STREAM_START, signChunk } from '../protocol/chunk.js';
import { isLoopbackHost } from '../protocol/ip-ranges.js';
import type { PeerCoreConfig } from '../protocol/peer-core.js';
import { type HttpOutput, startHttpOutput } from './http-output.js';
import { firstSeq, loadFloors, SAVE_INTERVAL_MS, saveFloors } from './run-numbering.js';
import { type NetworkOptions, SwarmNode } from './swarm-node.js';
import { startThumbnails } from './thumbnails.js';
import { publishChannelRecord, whileTrackerBusy } from './tracker-client.js';

export interface BroadcastOptions {
  trackers: string[];
  name: string;
  keyFile: string;
  host: string;
  port: number;
  announceAddress?: string;
  /** Port for the broadcaster's /stats.json (127.0.0.1); undefined: no HTTP server. */
  httpPort?: number;
  /** Address the stats/origin HTTP server binds. @default '127.0.0.1' */
  httpHost?: string;
  maxPeers?: number;
  /** What to broadcast. @default the test pattern */
  input?: InputSource;
  encoding?: Partial<EncodingOptions>;
  /** How long the swarm stays up after a finite input ended. @default 5000 */
  endGraceMs?: number;
  core?: Partial<PeerCoreConfig>;
  /**
   * What the broadcaster uploads to the swarm, in bit/s, shared by the renditions by their
   * rates; 'unlimited' answers every request. @default SOURCE_UPLOAD_COPIES times the stream
   */
  uploadLimit?: number | 'unlimited';
  network?: NetworkOptions;
  log: Logger;
}

/**
 * The broadcaster's default upload: this many copies of the stream. Unbounded, viewers ask a
 * broadcaster that answers at once for everything (16 copies to 100 viewers in meshtv bench);
 * bounded, they relay to each other, and one that the swarm cannot feed in time falls back to
 * the HTTP origin. 1.8 copies met every bench target (docs/architecture.md).
 */
export const SOURCE_UPLOAD_COPIES = 1.8;

/**
 * That default is a budget on a line usually faster, so upload left unused may be spent at
 * the line's speed later (PeerCoreConfig.uploadBurstMs). Paced strictly, a chunk asked for
 * right after a push waited its turn at 1.8 copies, and a browser on a fast link measured
 * too little to move up a rendition. An explicit --upload-limit is taken as the line: no burst.
 */
const SOURCE_UPLOAD_BURST_MS = 1000;

export interface Broadcast {
  readonly channelId: string;
  readonly uri: string;
  readonly keyCreated: boolean;
  readonly httpUrl: string | undefined;
  /** Resolves when a finite input has ended and viewers had their time to fetch the last chunk. */
  readonly ended: Promise<void>;
  stats(): BroadcastStats;
  stop(): Promise<void>;
}

export interface BroadcastStats {
  role: 'source';
  channelId: string;
  name: string;
  input: string;
  /** Times the input was started again after breaking or ending (live sources). */
  inputRestarts: number;
  /** The input ended: the last chunk went out with FLAG_END_OF_STREAM. */
  ended: boolean;
  peers: number;
  chunksProduced: number;
  /** Number of the newest chunk (what the origin can serve, with the window behind it). */
  newestSeq: number | undefined;
  bytesProduced: number;
  mediaBytesSent: number;
  /** Payload bytes served by the HTTP origin (browsers' last resort); part of S. */
  originBytesSent: number;
  controlBytes: number;
  /** Source load so far: media bytes sent / bytes produced. */
  sourceLoad: number;
  produceBps: number;
  uploadBps: number;
  /** The cap on uploads to the swarm, all renditions together; null while unbounded. */
  uploadLimitBps: number | null;
  /** Per rendition, when the channel has a ladder (the totals above cover them all). */
  renditions?: { name: string; channelId: string; peers: number; bytesProduced: number; mediaBytesSent: number; sourceLoad: number }[];
}

const RECORD_REFRESH_MS = 10_000;

/**
 * The origin URL a broadcaster publishes for browsers: at the address given, else the one its
 * server is bound to, else (bound to every interface) the one the trackers see it at. A
 * loopback origin is published to local trackers only: a browser elsewhere would fetch from its
 * own machine.
 */
export function originFor(o: {
  bound: string;
  port: number;
  announceAddress: string | undefined;
  seenAddress: string | undefined;
  trackers: readonly string[];
}): { url: string } | { refusal: string } {
  const wildcard = o.bound === '0.0.0.0' || o.bound === '::';
  const host = o.announceAddress ?? (wildcard ? o.seenAddress : o.bound);
  const remoteTracker = o.trackers.some((t) => !isLoopbackHost(new URL(t).hostname));
  if (host === undefined || (isLoopbackHost(host) && remoteTracker))
    return {
      refusal:
        `the HTTP origin on ${o.bound}:${o.port} is not published: browsers on other machines could not reach ${host ?? o.bound}; ` +
        'serve it with --http-host 0.0.0.0 (and, behind NAT, --announce-address PUBLIC-ADDRESS)',
    };
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${o.port}` };
}
const END_GRACE_MS = 5000;
/** Viewers a broadcaster with fewer neighbours dials from a tracker answer. */
const SOURCE_DIAL_TARGET = 8;

/** One rendition's stream: its key, numbering, swarm node and counts. */
interface Lane {
  readonly name: string;
  readonly key: ChannelKey;
  readonly node: SwarmNode;
  readonly height: number | undefined;
  readonly nominalBps: number;
  seq: number;
  chunksProduced: number;
  bytesProduced: number;
  firstChunkAtMs: number | undefined;
  started: boolean;
}

export async function startBroadcast(o: BroadcastOptions): Promise<Broadcast> {
  const { key, created, exposed } = loadOrCreateKey(o.keyFile);
  if (exposed !== undefined) o.log.warn(exposed);
  // The broadcaster's own peer id (not the channel's): kept beside the channel key.
  const nodeKey = loadOrCreateNodeKey(o.keyFile);
  const ffmpeg = ffmpegPath();
  const source: InputSource = o.input ?? { kind: 'testsrc' };
  const encoding = { ...DEFAULT_ENCODING, ...o.encoding };
  // Bad flags and missing files are reported before anything is announced.
  ffmpegArgs(source, encoding);
  checkInput(source, ffmpeg);
  const audioBps = (encoding.audioBitrateKbps ?? (source.kind === 'testsrc' ? 96 : 128)) * 1000;
  const ladder = encoding.renditions;
  const laneBps = (ladder ?? [undefined]).map((r) =>
    r !== undefined ? r.videoBitrateKbps * 1000 + audioBps : (nominalBitrateKbps(source, encoding) ?? 0) * 1000,
  );
  const ladderBps = laneBps.reduce((x, y) => x + y, 0);
  const floorsFile = `${o.keyFile}.seq`;
  const savedFloors = loadFloors(floorsFile, o.log);
  const defaultCap = o.uploadLimit === undefined && o.core?.uploadLimitBps === undefined;
  // The newest record publication per tracker, settled either way: each lane's announce to a
  // tracker waits for it, since a tracker refuses a swarm whose record it does not hold yet.
  const published = new Map<string, Promise<unknown>>();
  const teardown = new Teardown((err) => o.log.warn(`while stopping after a failed start: ${(err as Error).message}`));
  return teardown.start(async () => {
    const lanes: Lane[] = (ladder ?? [undefined]).map((r, i) => {
      const laneKey = r === undefined || i === 0 ? key : deriveRenditionKey(key, r.name);
      const nominalBps = laneBps[i] as number;
      // An upload cap is shared by the renditions by their rates: a busy high rendition cannot
      // starve the low one (meshtv sim showed the low swarm's viewers missing media otherwise).
      // The default cap follows each rendition's measured rate (set below, once it is known).
      const limit = typeof o.uploadLimit === 'number' ? o.uploadLimit : undefined;
      const uploadLimitBps = limit === undefined || ladderBps === 0 ? limit : Math.max(1, Math.round((limit * nominalBps) / ladderBps));
      const node = new SwarmNode({
        role: 'source',
        channelKey: laneKey.publicKey,
        sign: laneKey.sign,
        nodeKey,
        host: o.host,
        // Renditions past the base listen on the next ports (any free one when the base's is).
        port: o.port === 0 ? 0 : o.port + i,
        ...(o.announceAddress ? { announceAddress: o.announceAddress } : {}),
        trackers: o.trackers,
        beforeAnnounce: (t) => published.get(t),
        // Browsers and native peers meet the source over WebRTC through the trackers' signalling.
        webrtc: true,
        // A broadcaster restarted under a waiting audience dials some of it while its encoder
        // starts: they get the new run's first chunks as they are cut, instead of finding the
        // broadcaster at their next tracker ask. Viewers dial it otherwise.
        dialTarget: SOURCE_DIAL_TARGET,
        core: {
          ...(defaultCap ? { uploadBurstMs: SOURCE_UPLOAD_BURST_MS } : {}),
          ...o.core,
          ...(uploadLimitBps !== undefined ? { uploadLimitBps } : {}),
          ...(o.maxPeers !== undefined ? { maxNeighbours: o.maxPeers } : {}),
        },
        ...o.network,
        log: o.log.child(r === undefined ? 'swarm' : `swarm ${r.name}`),
      });
      return {
        name: r?.name ?? 'main',
        key: laneKey,
        node,
        height: r?.height,
        nominalBps,
        // A restarted broadcaster numbers past its last run (see run-numbering.ts).
        seq: firstSeq(Date.now(), savedFloors.get(laneKey.channelId)),
        chunksProduced: 0,
        bytesProduced: 0,
        firstChunkAtMs: undefined,
        started: false,
      };
    });
    const base = lanes[0] as Lane;
    const node = base.node;
    teardown.defer(() => Promise.all(lanes.map((l) => l.node.stop())));
    try {
      for (const lane of lanes) await lane.node.start();
    } catch (err) {
      throw new UserError(`cannot listen for peers on ${o.host}:${o.port}: ${(err as Error).message}; choose another --peer-port`);
    }
    let inputEnded = false;
    let originUrl: string | undefined;
    let originBytesSent = 0;
    let latestKeyframe: Uint8Array | undefined;
    // The announced bitrate: measured once there is enough to measure (always under --copy).
    const bitrateBps = (lane: Lane) =>
      lane.firstChunkAtMs !== undefined && Date.now() - lane.firstChunkAtMs >= 5000
        ? Math.round((lane.bytesProduced * 8 * 1000) / (Date.now() - lane.firstChunkAtMs))
        : lane.nominalBps;
    // Measured rates, kept rising up the ladder as a record must list them (a busy scene can push
    // a low rendition's measured rate past its nominal one).
    const ladderRates = () => {
      const rates: number[] = [];
      for (const l of lanes) rates.push(Math.max(bitrateBps(l), (rates[rates.length - 1] ?? -1) + 1));
      return rates;
    };
    const publishRecord = () => {
      const signed = signChannelRecord(
        {
          channelId: key.channelId,
          name: o.name,
          bitrateBps: bitrateBps(base),
          issuedAtMs: Date.now(),
          ...(originUrl ? { originUrl } : {}),
          ...(ladder !== undefined
            ? {
                renditions: lanes.map((l, i) => ({
                  name: l.name,
                  channelId: l.key.channelId,
                  height: l.height ?? 0,
                  bitrateBps: ladderRates()[i] as number,
                  proof: bytesToHex(l.key.sign(renditionProofBytes(key.channelId, l.name))),
                })),
              }
            : {}),
        },
        key.sign,
      );
      return Promise.any(
        o.trackers.map((t) => {
          const done = publishChannelRecord(t, signed);
          published.set(
            t,
            done.catch(() => undefined),
          );
          return done;
        }),
      ).catch((e: AggregateError) => {
        throw e.errors[0];
      });
    };
    await whileTrackerBusy(
      async () => {
        await publishRecord();
        await Promise.all(lanes.map((l) => l.node.announceNow()));
      },
      (err) => o.log.warn(`${err.message}; asking again`),
    );
    const recordTimer = setInterval(() => {
      publishRecord().catch((err: Error) => o.log.warn(err.message));
    }, RECORD_REFRESH_MS);
    teardown.defer(() => clearInterval(recordTimer));

    const produceMeter = new RateMeter();
    const uploadMeter = new RateMeter();
    const ingest = new Ingest({
      ffmpeg,
      source,
      encoding,
      log: o.log.child('input'),
      onPiece: (piece, output) => {
        const lane = lanes[output];
        if (lane === undefined) return;
        // The run's first keyframe chunk says the numbering starts here (see FLAG_STREAM_START).
        const first = !lane.started && (piece.flags & FLAG_KEYFRAME) !== 0;
        if (first) lane.started = true;
        const chunk = signChunk(
          {
            channelKey: lane.key.publicKey,
            seq: lane.seq++,
            captureTimeMs: piece.captureTimeMs,
            flags: piece.flags | (first ? FLAG_STREAM_START : 0),
            payload: piece.payload,
          },
          lane.key.sign,
        );
        lane.firstChunkAtMs ??= Date.now();
        lane.chunksProduced++;
        lane.bytesProduced += chunk.payload.length;
        // Thumbnails come from the best picture.
        if ((chunk.flags & FLAG_KEYFRAME) !== 0 && output === lanes.length - 1) latestKeyframe = chunk.payload;
        lane.node.publish(chunk);
      },
    });
    let floorWarned = false;
    const saveFloor = () => {
      try {
        saveFloors(floorsFile, lanes, Date.now(), savedFloors);
      } catch (err) {
        if (!floorWarned) o.log.warn(`cannot save chunk numbering to ${floorsFile}: ${(err as Error).message}; a restart may take longer`);
        floorWarned = true;
      }
    };
    // The default upload cap: SOURCE_UPLOAD_COPIES times each rendition's rate, nominal until
    // measured (a --copy input has no nominal rate: it is uncapped for its first seconds).
    const capUploads = () => {
      if (!defaultCap) return;
      for (const l of lanes) {
        const bps = bitrateBps(l);
        if (bps > 0) l.node.core.setUploadPolicy(true, Math.round(SOURCE_UPLOAD_COPIES * bps));
      }
    };
    const onTick = () => {
      saveFloor();
      capUploads();
    };
    onTick();
    const floorTimer = setInterval(onTick, SAVE_INTERVAL_MS);
    teardown.defer(() => clearInterval(floorTimer));
    teardown.defer(() => ingest.stop());
    await ingest.start();
    // The end of a finite input is the end of the channel: its last chunk is flagged, and the
    // swarm stays up a little so viewers can fetch the tail before the source leaves.
    const ended = ingest.ended.then(async () => {
      inputEnded = true;
      o.log.info(`${describeInput(source)} ended: channel ended`);
      await new Promise((resolve) => setTimeout(resolve, o.endGraceMs ?? END_GRACE_MS));
    });
    const sum = (f: (l: Lane) => number) => lanes.reduce((t, l) => t + f(l), 0);
    const chunksProduced = () => sum((l) => l.chunksProduced);
    const bytesProduced = () => sum((l) => l.bytesProduced);
    const mediaBytesSent = () => sum((l) => l.node.core.getStats().mediaBytesOut);
    const controlBytes = () => sum((l) => l.node.controlBytes);

    const stats = (): BroadcastStats => {
      const now = Date.now();
      const sent = mediaBytesSent();
      const produced = bytesProduced();
      return {
        role: 'source',
        channelId: key.channelId,
        name: o.name,
        input: describeInput(source),
        inputRestarts: ingest.restarts,
        ended: inputEnded,
        peers: sum((l) => l.node.core.getStats().neighbours),
        chunksProduced: chunksProduced(),
        newestSeq: node.core.getStats().newestSeq,
        bytesProduced: produced,
        mediaBytesSent: sent,
        originBytesSent,
        controlBytes: controlBytes(),
        // S counts both ways the broadcaster's bytes leave: the swarm and the HTTP origin.
        sourceLoad: produced === 0 ? 0 : (sent + originBytesSent) / produced,
        produceBps: produceMeter.sample(now, produced),
        uploadBps: uploadMeter.sample(now, sent),
        uploadLimitBps: lanes.some((l) => l.node.core.uploadPolicy.limitBps === undefined)
          ? null
          : sum((l) => l.node.core.uploadPolicy.limitBps as number),
        ...(ladder !== undefined
          ? {
              renditions: lanes.map((l) => {
                const core = l.node.core.getStats();
                return {
                  name: l.name,
                  channelId: l.key.channelId,
                  peers: core.neighbours,
                  bytesProduced: l.bytesProduced,
                  mediaBytesSent: core.mediaBytesOut,
                  sourceLoad: l.bytesProduced === 0 ? 0 : core.mediaBytesOut / l.bytesProduced,
                };
              }),
            }
          : {}),
      };
    };
    const metrics = createMetrics('meshtv_broadcaster', [
      { name: 'peers', help: 'Neighbours of the source (all renditions)', read: () => sum((l) => l.node.core.getStats().neighbours) },
      { name: 'chunks_produced', help: 'Chunks cut and signed since start', read: chunksProduced },
      { name: 'bytes_produced', help: 'Stream bytes produced since start', read: bytesProduced },
      { name: 'media_bytes_sent', help: 'Stream bytes sent to peers since start', read: mediaBytesSent },
      { name: 'origin_bytes_sent', help: 'Stream bytes served by the HTTP origin since start', read: () => originBytesSent },
      { name: 'control_bytes', help: 'Non-media bytes on peer links since start', read: controlBytes },
      { name: 'source_load', help: 'S: bytes sent (P2P and origin) over bytes produced', read: () => stats().sourceLoad },
      {
        name: 'upload_limit_bits_per_second',
        help: 'Cap on uploads to the swarm, all renditions (absent while unbounded)',
        read: () => stats().uploadLimitBps ?? undefined,
      },
      { name: 'input_restarts', help: 'Times the input was restarted', read: () => ingest.restarts },
    ]);
    let http: HttpOutput | undefined;
    if (o.httpPort !== undefined) {
      const bound = o.httpHost ?? '127.0.0.1';
      http = await startHttpOutput({
        host: bound,
        port: o.httpPort,
        extraHosts: [o.announceAddress, node.seenAddress].filter((h): h is string => h !== undefined),
        stats,
        metrics: metrics.render,
        origin: (seq, counted) => {
          const chunk = node.core.getChunk(seq);
          if (chunk === undefined) return undefined;
          // A HEAD request sends no body: it must not inflate S.
          if (counted) originBytesSent += chunk.payload.length;
          return encodeChunk(chunk);
        },
      });
      teardown.defer(() => http?.close());
      const origin = originFor({
        bound,
        port: http.port,
        announceAddress: o.announceAddress,
        seenAddress: node.seenAddress,
        trackers: o.trackers,
      });
      if ('refusal' in origin) o.log.warn(origin.refusal);
      else {
        originUrl = origin.url;
        publishRecord().catch((err: Error) => o.log.warn(err.message));
      }
    }
    const thumbnails = startThumbnails({
      ffmpeg,
      key,
      trackers: o.trackers,
      latestKeyframe: () => latestKeyframe,
      log: o.log.child('thumbnail'),
    });
    teardown.defer(() => thumbnails.stop());

    return {
      channelId: key.channelId,
      uri: formatChannelUri(key.channelId, o.trackers),
      keyCreated: created,
      httpUrl: http?.baseUrl,
      ended,
      stats,
      stop: () => teardown.undo(),
    };
  });
}
