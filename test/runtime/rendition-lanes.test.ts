// The lane set both viewers share: it opens and closes lanes as the ABR session asks, feeds
// the player from the lane playing, shares the upload cap, and keeps what closed lanes counted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Chunk, FLAG_KEYFRAME } from '../../src/protocol/chunk.js';
import { emptyCoreStats } from '../../src/protocol/core-types.js';
import type { PeerCore } from '../../src/protocol/peer-core.js';
import { type LaneFeed, type RenditionLane, RenditionLanes, type RenditionSpec } from '../../src/runtime/rendition-lanes.js';
import { continuity, shareFromPeers } from '../../src/runtime/viewer-stats.js';

const LADDER: RenditionSpec[] = [
  { name: 'low', channelId: 'a'.repeat(64), bitrateBps: 1e6, height: 240 },
  { name: 'high', channelId: 'b'.repeat(64), bitrateBps: 3e6, height: 720 },
];

/** A lane whose core records the upload policy it was given. */
interface FakeLane extends RenditionLane {
  readonly index: number;
  readonly feed: (e: LaneFeed) => void;
  readonly previousGone: Promise<void>;
  policy: { enabled: boolean; limitBps: number | undefined };
  stopped: boolean;
  controlBytes: number;
}

function fakeLanes(upload = { enabled: true, limitBps: undefined as number | undefined }) {
  const opened: FakeLane[] = [];
  const lanes = new RenditionLanes<FakeLane, { controlBytes: number }>({
    ladder: LADDER,
    quality: 'auto',
    upload,
    retireAfterMs: 60_000,
    counts: (lane) => ({ controlBytes: lane.controlBytes }),
    open: (_spec, index, feed, previousGone) => {
      const lane: FakeLane = {
        index,
        feed,
        previousGone,
        policy: { enabled: true, limitBps: undefined },
        stopped: false,
        controlBytes: 0,
        core: {
          getStats: () => emptyCoreStats(),
          fetchRate: () => ({ peakBps: undefined, samples: 0 }),
          playoutSlackMs: () => 0,
          supplyShort: () => false,
          setUploadPolicy: (enabled: boolean, limitBps: number | undefined) => {
            lane.policy = { enabled, limitBps };
          },
        } as unknown as PeerCore,
        stop: () => {
          lane.stopped = true;
        },
      };
      opened.push(lane);
      return lane;
    },
  });
  return { lanes, opened };
}

const chunk = (seq: number): Chunk => ({ seq, captureTimeMs: 0, flags: FLAG_KEYFRAME, payload: new Uint8Array(1) }) as unknown as Chunk;

test('RenditionLanes: auto starts on the lowest rendition and hands its chunks and gaps to the player', async () => {
  const { lanes, opened } = fakeLanes();
  const seen: string[] = [];
  lanes.events.on('play', (c) => seen.push(`play ${c.seq}`));
  lanes.events.on('skip', (seq) => seen.push(`skip ${seq}`));
  assert.deepEqual(
    opened.map((l) => l.index),
    [0],
  );
  assert.equal(lanes.current.name, 'low');
  opened[0]?.feed({ type: 'play', chunk: chunk(7) });
  opened[0]?.feed({ type: 'skip', seq: 8 });
  assert.deepEqual(seen, ['play 7', 'skip 8']);
  await lanes.stop();
  assert.equal(opened[0]?.stopped, true);
});

test('RenditionLanes: the upload cap is shared by the open lanes by their rates, and follows the user', async () => {
  const { lanes, opened } = fakeLanes({ enabled: true, limitBps: 4e6 });
  assert.deepEqual(opened[0]?.policy, { enabled: true, limitBps: 4e6 });
  lanes.setQuality('high');
  assert.equal(lanes.target?.name, 'high');
  assert.equal(lanes.pinned?.name, 'high');
  assert.deepEqual(lanes.joined, ['low', 'high']);
  assert.deepEqual(opened[0]?.policy, { enabled: true, limitBps: 1e6 });
  assert.deepEqual(opened[1]?.policy, { enabled: true, limitBps: 3e6 });
  lanes.setUpload({ enabled: false, limitBps: undefined });
  assert.deepEqual(opened[1]?.policy, { enabled: false, limitBps: undefined });
  assert.throws(() => lanes.setQuality('4k'), /no rendition named 4k/);
  await lanes.stop();
});

test('RenditionLanes: a closed lane retires, is stopped before its rendition opens again, and its counts stay', async () => {
  const { lanes, opened } = fakeLanes();
  lanes.setQuality('high');
  const tried = opened[1] as FakeLane;
  tried.controlBytes = 500;
  (opened[0] as FakeLane).controlBytes = 100;
  lanes.setQuality('low'); // the try is dropped: its lane closes, still counted while it retires
  assert.deepEqual(lanes.joined, ['low']);
  assert.equal(tried.stopped, false);
  assert.equal(lanes.counts().controlBytes, 600);
  // Its events no longer reach the player.
  const seen: number[] = [];
  lanes.events.on('play', (c) => seen.push(c.seq));
  tried.feed({ type: 'play', chunk: chunk(1) });
  assert.deepEqual(seen, []);
  lanes.setQuality('high');
  assert.equal(tried.stopped, true, 'the same peer id would be in the swarm twice');
  await opened[2]?.previousGone;
  assert.equal(lanes.counts().controlBytes, 600);
  await lanes.stop();
  assert.ok(opened.every((l) => l.stopped));
  assert.equal(lanes.counts().controlBytes, 600);
});

test('viewer statistics: the share from peers leaves out the source and the HTTP origin', () => {
  assert.equal(shareFromPeers({ mediaBytesIn: 0, mediaBytesInFromSource: 0 }), 0);
  assert.equal(shareFromPeers({ mediaBytesIn: 1000, mediaBytesInFromSource: 250 }), 0.75);
  assert.equal(shareFromPeers({ mediaBytesIn: 1000, mediaBytesInFromSource: 250 }, 250), 0.5);
  assert.equal(continuity({ mediaMsPlayed: 0, mediaMsMissed: 0 }), 1);
  assert.equal(continuity({ mediaMsPlayed: 900, mediaMsMissed: 100 }), 0.9);
});
