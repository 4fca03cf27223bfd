// Composition root of `meshtv broadcast`: the channel key, ffmpeg encoding a live input, the
// chunker, signing, the source's swarm node and the channel record in the directory.

import { randomBytes } from 'node:crypto';
import { formatChannelUri } from '../api/channel-uri.js';
import { UserError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { Teardown } from '../common/teardown.js';
import { type ChannelKey, loadOrCreateKey, loadOrCreateNodeKey, type NodeKey } from '../crypto/keys.js';
import type { EncodingOptions } from '../media/encoding.js';
import { DEFAULT_ENCODING, ffmpegArgs } from '../media/encoding.js';
import { ffmpegPath } from '../media/ffmpeg.js';
import { checkInput, Ingest } from '../media/ingest.js';
import { describeInput, type InputSource } from '../media/input.js';
import { FLAG_KEYFRAME } from '../protocol/chunk.js';
import type { PeerCoreConfig } from '../protocol/core-types.js';
import { isLoopbackHost } from '../protocol/ip-ranges.js';
import { laneBitrate, nominalLaneRates, originBudgetBps, originFor, originStreamBps, usesDefaultCap } from './broadcast-policy.js';
import { type BroadcastStats, broadcasterMetrics, broadcastStats, SourceCounts } from './broadcast-stats.js';
import { type GuideOptions, GuidePublisher } from './guide-publisher.js';
import { type HttpOutput, startHttpOutput } from './http-output.js';
import { lockKey } from './key-lock.js';
import { OriginGate } from './origin-gate.js';
import { ChunkOrigin } from './origin-routes.js';
import { loadFloors, SAVE_INTERVAL_MS, saveFloors } from './run-numbering.js';
import { capUploads, cutChunk, makeSourceLanes, RecordPublisher, type SourceLane } from './source-lanes.js';
import type { NetworkOptions } from './swarm-node.js';
import { startThumbnails } from './thumbnails.js';
import { whileTrackerBusy } from './tracker-client.js';

export interface BroadcastOptions {
  trackers: string[];
  name: string;
  keyFile: string;
  host: string;
  port: number;
  announceAddress?: string;
  /**
   * Port of the broadcaster's HTTP server: the origin for browsers (/edge.json, /chunk/<n>) and,
   * to this machine, /stats.json and /metrics. @default 0 (any free port; the record says which)
   */
  httpPort?: number;
  /**
   * Address the HTTP server binds. @default `host`, where the swarm listens; the stats and
   * metrics then answer this machine only. Given, it is the operator's choice for all routes.
   */
  httpHost?: string;
  /** The HTTP origin's upload budget in bit/s, or 'off' for none. @default ORIGIN_COPIES times the base rendition */
  originLimit?: number | 'off';
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
  /** What the channel says about itself: category, language, description, logo, schedule. */
  guide?: GuideOptions;
  log: Logger;
}

export interface Broadcast {
  readonly channelId: string;
  readonly uri: string;
  readonly keyCreated: boolean;
  /** This machine's address for the broadcaster's /stats.json. */
  readonly statsUrl: string;
  /** Resolves when a finite input has ended and viewers had their time to fetch the last chunk. */
  readonly ended: Promise<void>;
  stats(): BroadcastStats;
  stop(): Promise<void>;
}

export type { BroadcastStats } from './broadcast-stats.js';

const END_GRACE_MS = 5000;

/** What a broadcast is made of before anything starts: keys, input, encoding and rates. */
interface BroadcastPlan {
  key: ChannelKey;
  keyCreated: boolean;
  nodeKey: NodeKey;
  ffmpeg: string;
  source: InputSource;
  encoding: EncodingOptions;
  nominalBps: number[];
  floorsFile: string;
  savedFloors: Map<string, number>;
  defaultCap: boolean;
}

/** Keys, checks and rates: bad flags and missing files are reported before anything is announced. */
function planBroadcast(o: BroadcastOptions): BroadcastPlan {
  const { key, created, exposed } = loadOrCreateKey(o.keyFile);
  if (exposed !== undefined) o.log.warn(exposed);
  const ffmpeg = ffmpegPath();
  const source: InputSource = o.input ?? { kind: 'testsrc' };
  const encoding = { ...DEFAULT_ENCODING, ...o.encoding };
  ffmpegArgs(source, encoding);
  checkInput(source, ffmpeg);
  const floorsFile = `${o.keyFile}.seq`;
  return {
    key,
    keyCreated: created,
    // The broadcaster's own peer id (not the channel's): kept beside the channel key.
    nodeKey: loadOrCreateNodeKey(o.keyFile),
    ffmpeg,
    source,
    encoding,
    nominalBps: nominalLaneRates(source, encoding),
    floorsFile,
    savedFloors: loadFloors(floorsFile, o.log),
    defaultCap: usesDefaultCap(o.uploadLimit, o.core?.uploadLimitBps),
  };
}

export async function startBroadcast(o: BroadcastOptions): Promise<Broadcast> {
  const plan = planBroadcast(o);
  const teardown = new Teardown((err) => o.log.warn(`while stopping after a failed start: ${(err as Error).message}`));
  return teardown.start(async () => {
    const lock = lockKey(o.keyFile);
    teardown.defer(() => lock.release());
    const lanes = await joinSwarms(o, plan, teardown);
    const origin = chunkOrigin(o, lanes.all[0] as SourceLane, (bytes) => {
      counts.originBytesSent += bytes;
    });
    const production = await startProduction(o, plan, lanes.all, origin, teardown);
    const counts = new SourceCounts(lanes.all, production.ingest);
    const stats = (): BroadcastStats => broadcastStats(o, plan, counts, production);
    const http = await startHttp(o, lanes, origin, counts, stats, teardown);
    const thumbnails = startThumbnails({
      ffmpeg: plan.ffmpeg,
      key: plan.key,
      trackers: o.trackers,
      latestKeyframe: () => production.latestKeyframe,
      log: o.log.child('thumbnail'),
    });
    teardown.defer(() => thumbnails.stop());
    if (o.guide !== undefined) {
      const guide = new GuidePublisher({
        key: plan.key,
        trackers: o.trackers,
        guide: o.guide,
        recordPublished: (t) => lanes.record.beforeAnnounce(t),
        log: o.log.child('guide'),
      });
      guide.start();
      teardown.defer(() => guide.stop());
    }
    // Stopping, the record is the first thing to stop: a refresh during ffmpeg's exit would
    // publish an origin whose server is already closed.
    teardown.defer(() => lanes.record.stopRefresh());
    return {
      channelId: plan.key.channelId,
      uri: formatChannelUri(plan.key.channelId, o.trackers),
      keyCreated: plan.keyCreated,
      statsUrl: `${localUrl(http)}/stats.json`,
      ended: production.ended,
      stats,
      stop: () => teardown.undo(),
    };
  });
}

/** The lanes' swarm nodes listening, the channel record published and every lane announced. */
async function joinSwarms(
  o: BroadcastOptions,
  plan: BroadcastPlan,
  teardown: Teardown,
): Promise<{ all: SourceLane[]; record: RecordPublisher }> {
  const ladder = plan.encoding.renditions;
  let all: SourceLane[] = [];
  const record = new RecordPublisher({
    key: plan.key,
    name: o.name,
    trackers: o.trackers,
    lanes: () => all,
    ladder: ladder !== undefined,
    log: o.log,
  });
  all = makeSourceLanes({ ...o, ...plan, ladder, beforeAnnounce: (t) => record.beforeAnnounce(t) });
  teardown.defer(() => Promise.all(all.map((l) => l.node.stop())));
  try {
    for (const lane of all) await lane.node.start();
  } catch (err) {
    throw new UserError(`cannot listen for peers on ${o.host}:${o.port}: ${(err as Error).message}; choose another --peer-port`);
  }
  await whileTrackerBusy(
    async () => {
      await record.publish();
      await Promise.all(all.map((l) => l.node.announceNow()));
    },
    (err) => o.log.warn(`${err.message}; asking again`),
  );
  record.startRefresh();
  teardown.defer(() => record.stopRefresh());
  return { all, record };
}

/** What the encoder side offers the rest: its counts, the thumbnails' picture, the end. */
interface Production {
  readonly ingest: Ingest;
  readonly latestKeyframe: Uint8Array | undefined;
  readonly inputEnded: boolean;
  readonly ended: Promise<void>;
}

/** ffmpeg cutting the input into each lane's signed chunks, with the numbering saved every second. */
async function startProduction(
  o: BroadcastOptions,
  plan: BroadcastPlan,
  lanes: SourceLane[],
  origin: ChunkOrigin | undefined,
  teardown: Teardown,
): Promise<Production> {
  const state = { latestKeyframe: undefined as Uint8Array | undefined, inputEnded: false };
  const ingest = new Ingest({
    ffmpeg: plan.ffmpeg,
    source: plan.source,
    encoding: plan.encoding,
    log: o.log.child('input'),
    onPiece: (piece, output) => {
      const lane = lanes[output];
      if (lane === undefined) return;
      const chunk = cutChunk(lane, piece);
      // Thumbnails come from the best picture.
      if ((chunk.flags & FLAG_KEYFRAME) !== 0 && output === lanes.length - 1) state.latestKeyframe = chunk.payload;
      lane.node.publish(chunk);
      if (output === 0) origin?.published(chunk);
    },
  });
  const onTick = saveNumbering(o.log, plan, lanes);
  onTick();
  const floorTimer = setInterval(onTick, SAVE_INTERVAL_MS);
  teardown.defer(() => clearInterval(floorTimer));
  teardown.defer(() => ingest.stop());
  await ingest.start();
  // The end of a finite input is the end of the channel: its last chunk is flagged, and the
  // swarm stays up a little so viewers can fetch the tail before the source leaves.
  const ended = ingest.ended.then(async () => {
    if (ingest.noMedia !== undefined) throw new UserError(ingest.noMedia);
    state.inputEnded = true;
    o.log.info(`${describeInput(plan.source)} ended: channel ended`);
    await new Promise((resolve) => setTimeout(resolve, o.endGraceMs ?? END_GRACE_MS));
  });
  // Read once the broadcast is under way; until then its failure must not count as unhandled.
  ended.catch(() => {});
  return {
    ingest,
    ended,
    get latestKeyframe() {
      return state.latestKeyframe;
    },
    get inputEnded() {
      return state.inputEnded;
    },
  };
}

/** The once-a-second duty: the numbering floors to disk, and the default upload cap after the measured rates. */
function saveNumbering(log: Logger, plan: BroadcastPlan, lanes: readonly SourceLane[]): () => void {
  let warned = false;
  return () => {
    try {
      saveFloors(
        plan.floorsFile,
        lanes.map((l) => ({ ...l, seq: l.numbering.seq })),
        Date.now(),
        plan.savedFloors,
      );
    } catch (err) {
      if (!warned) log.warn(`cannot save chunk numbering to ${plan.floorsFile}: ${(err as Error).message}; a restart may take longer`);
      warned = true;
    }
    if (plan.defaultCap) capUploads(lanes, Date.now());
  };
}

/** The HTTP server's address from this machine (one bound to every interface answers on loopback too). */
function localUrl(http: HttpOutput): string {
  return /\/\/(0\.0\.0\.0|\[::\])/.test(http.baseUrl) ? `http://127.0.0.1:${http.port}` : http.baseUrl;
}

/** The HTTP origin's routes and budget, serving the base rendition; undefined with --origin-limit off. */
function chunkOrigin(o: BroadcastOptions, base: SourceLane, sent: (bytes: number) => void): ChunkOrigin | undefined {
  if (o.originLimit === 'off') return undefined;
  const limit = o.originLimit;
  const streamBps = () => originStreamBps(laneBitrate(base, Date.now()));
  const gate = new OriginGate({
    budgetBps: () => originBudgetBps(limit, streamBps()),
    streamBps,
    newLeaseId: () => randomBytes(16).toString('hex'),
  });
  return new ChunkOrigin({ chunk: (seq) => base.node.core.getChunk(seq), gate, sent });
}

/** The HTTP server: the origin, published in the record when browsers can reach it, and the stats. */
async function startHttp(
  o: BroadcastOptions,
  lanes: { all: SourceLane[]; record: RecordPublisher },
  origin: ChunkOrigin | undefined,
  counts: SourceCounts,
  stats: () => BroadcastStats,
  teardown: Teardown,
): Promise<HttpOutput> {
  const node = (lanes.all[0] as SourceLane).node;
  const bound = o.httpHost ?? o.host;
  const http = await startHttpOutput({
    host: bound,
    port: o.httpPort ?? 0,
    extraHosts: [o.announceAddress, node.seenAddress].filter((h): h is string => h !== undefined),
    stats,
    metrics: broadcasterMetrics(counts, stats).render,
    ...(origin !== undefined ? { origin } : {}),
    privateToLoopback: o.httpHost === undefined && !isLoopbackHost(bound),
  });
  teardown.defer(() => http.close());
  if (origin === undefined) return http;
  const published = originFor({
    bound,
    port: http.port,
    announceAddress: o.announceAddress,
    seenAddress: node.seenAddress,
    trackers: o.trackers,
  });
  if ('refusal' in published) o.log.warn(published.refusal);
  else {
    lanes.record.originUrl = published.url;
    lanes.record.publishSoon();
  }
  return http;
}
