// A native viewer's renditions: a swarm node per lane of the shared RenditionLanes, and the
// channel's ladder read from its signed record.

import type { ChannelRef } from '../api/channel-uri.js';
import { UserError } from '../common/errors.js';
import { hexToBytes } from '../common/hex.js';
import type { Logger } from '../common/log.js';
import type { NodeKey } from '../crypto/keys.js';
import { nodeVerify } from '../crypto/keys.js';
import type { SignedChannelRecord } from '../protocol/channel-record.js';
import type { PeerCoreConfig } from '../protocol/core-types.js';
import type { PeerCore } from '../protocol/peer-core.js';
import { notLiveMessage } from '../runtime/not-live.js';
import { RenditionLanes, type RenditionSpec } from '../runtime/rendition-lanes.js';
import { type NetworkOptions, SwarmNode } from './swarm-node.js';
import { fetchChannelRecord } from './tracker-client.js';

/** A rendition's swarm node, as a lane. */
export interface SwarmLane {
  readonly core: PeerCore;
  readonly node: SwarmNode;
  stop(): Promise<void>;
}

export type ViewerLanes = RenditionLanes<SwarmLane, { controlBytes: number }>;

/**
 * The renditions to choose from: the ladder in the channel's signed record, checked against
 * the channel key. Without a ladder (or a record), the channel's one stream.
 */
export async function channelLadder(ref: ChannelRef, quality: string, log: Logger): Promise<RenditionSpec[]> {
  let signed: SignedChannelRecord | undefined;
  try {
    // The first tracker that holds a signed record wins; one without (older, or the record has
    // not reached it yet) must not hide the ladder another holds.
    signed = await Promise.any(
      ref.trackers.map(
        async (t) => (await fetchChannelRecord(t, ref.channelId, nodeVerify)) ?? Promise.reject(new Error(`${t} holds no signed record`)),
      ),
    );
  } catch (err) {
    const first = (err as AggregateError).errors?.[0] as Error | undefined;
    if (quality !== 'auto') throw new UserError(`cannot read the channel's renditions: ${first?.message ?? String(err)}`);
    log.debug(`no channel record (${first?.message ?? String(err)}): playing the channel's base stream`);
  }
  const record = signed?.record;
  const ladder: RenditionSpec[] = record?.renditions?.map((r) => ({ ...r, height: r.height })) ?? [
    { name: 'main', channelId: ref.channelId, bitrateBps: record?.bitrateBps ?? 0, height: undefined },
  ];
  if (quality !== 'auto' && !ladder.some((l) => l.name === quality)) {
    const names = record?.renditions?.map((r) => r.name);
    throw new UserError(
      names === undefined
        ? `--quality ${quality}: this channel has one quality only; drop --quality`
        : `--quality ${quality}: the channel's renditions are ${names.join(', ')} (or auto)`,
    );
  }
  return ladder;
}

export interface ViewerLanesOptions {
  ref: ChannelRef;
  ladder: RenditionSpec[];
  quality: string;
  nodeKey: NodeKey;
  host: string;
  port: number;
  announceAddress?: string;
  maxPeers?: number;
  core?: Partial<PeerCoreConfig>;
  network?: NetworkOptions;
  log: Logger;
}

/**
 * The viewer's lanes; the first one's node is made, not started. Lanes opened later (the
 * session trying another rendition) join their swarm as they open.
 */
export function viewerLanes(o: ViewerLanesOptions): { lanes: ViewerLanes; start: () => Promise<void> } {
  let started = false;
  const lanes: ViewerLanes = new RenditionLanes({
    ladder: o.ladder,
    quality: o.quality,
    upload: { enabled: o.core?.uploadEnabled ?? true, limitBps: o.core?.uploadLimitBps },
    counts: (lane) => ({ controlBytes: lane.node.controlBytes }),
    open: (spec, index, feed, previousGone) => {
      const node = swarmNode(o, spec, index);
      node.onEvent((e) => {
        if (e.type === 'play' || e.type === 'skip') feed(e);
      });
      // The first node is started by start(); the others join as the session tries them.
      if (started)
        previousGone
          .then(() => node.start())
          .then(() => node.announceNow())
          .catch((err: Error) => o.log.warn(`cannot join the ${spec.name} swarm: ${err.message}`));
      return { core: node.core, node, stop: () => node.stop() };
    },
  });
  const abrLog = o.log.child('abr');
  lanes.events.on('trying', (e) => abrLog.info(`trying ${e.to.name} (${e.reason})`));
  lanes.events.on('gave-up', (e) => abrLog.info(`staying on ${e.staying.name}: ${e.tried.name} ${e.why}`));
  const start = async () => {
    try {
      await lanes.lane.node.start();
    } catch (err) {
      throw new UserError(`cannot listen for peers on ${o.host}:${o.port}: ${(err as Error).message}; choose another --peer-port`);
    }
    started = true;
    lanes.startAdapting();
    await lanes.lane.node.announceNow();
  };
  return { lanes, start };
}

function swarmNode(o: ViewerLanesOptions, spec: RenditionSpec, index: number): SwarmNode {
  const node = new SwarmNode({
    role: 'viewer',
    channelKey: hexToBytes(spec.channelId),
    // One node key, so one peer id, in every rendition's swarm: the tracker counts this viewer once.
    nodeKey: o.nodeKey,
    host: o.host,
    // Renditions past the base take the next ports (any free one when the base's is).
    port: o.port === 0 ? 0 : o.port + index,
    ...(o.announceAddress ? { announceAddress: o.announceAddress } : {}),
    trackers: o.ref.trackers,
    // Also over WebRTC, so browsers in the swarm can fetch from native viewers.
    webrtc: true,
    core: { ...o.core, ...(o.maxPeers !== undefined ? { maxNeighbours: o.maxPeers } : {}) },
    ...o.network,
    log: o.log.child(o.ladder.length > 1 ? `swarm ${spec.name}` : 'swarm'),
  });
  node.onEvent((e) => {
    if (e.type === 'not-live') o.log.warn(notLiveMessage(e.ageMs));
  });
  return node;
}
