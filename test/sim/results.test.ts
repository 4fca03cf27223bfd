// A simulated viewer's continuity as docs/measures.md defines it: media played on time over media due
// since its first play, where a chunk is due once its deadline (capture + the offset fixed at
// the first play) has passed; counted until the run ends or the viewer leaves.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerCore } from '../../src/protocol/peer-core.js';
import type { PeerProfile } from '../../src/sim/network.js';
import { SimHost, SimPeer } from '../../src/sim/sim-peer.js';
import { peerResult } from '../../src/sim/sim-results.js';

const CHUNK_MS = 100;
const profile: PeerProfile = { uploadBytesPerMs: 125, downloadBytesPerMs: 1000, accessLatencyMs: 5, freeRider: false };

/** A viewer that joined at 1 s and first played chunk 10 at 1.5 s, with deadlines 2.5 s after capture. */
function viewer(onTime: number[]): SimPeer {
  const p = new SimPeer('v1', {} as PeerCore, new SimHost(profile), 1000, 0);
  p.firstPlayMs = 1500;
  p.startSeq = 10;
  p.offsetMs = 2500;
  p.onTime = Uint8Array.from(onTime);
  return p;
}

test('only chunks whose deadline has passed count, on time or not', () => {
  // Chunks 10..19 played, 13 and 14 late or skipped; by 4.0 s chunks 10..15 are due (deadline seq * 100 + 2500).
  const p = viewer([1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
  const r = peerResult(p, 4000, 100, CHUNK_MS);
  assert.equal(r.continuity, 4 / 6);
  assert.equal(r.startupMs, 500);
  assert.equal(peerResult(p, 4400, 100, CHUNK_MS).continuity, 8 / 10);
});

test("a viewer that left counts until it left; the stream's end bounds what is due", () => {
  const p = viewer([1, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  p.alive = false;
  p.leftAtMs = 3700; // chunks 10..12 due
  const r = peerResult(p, 60_000, 100, CHUNK_MS);
  assert.equal(r.continuity, 2 / 3);
  assert.equal(r.leftAtMs, 3700);
  // A stream of 14 chunks: only 10..13 ever come due, however long the run.
  const q = viewer([1, 1, 1, 0, 0, 0]);
  assert.equal(peerResult(q, 60_000, 14, CHUNK_MS).continuity, 3 / 4);
});

test('nothing due yet, or never played: no continuity', () => {
  const p = viewer([1, 1]);
  assert.equal(peerResult(p, 3400, 100, CHUNK_MS).continuity, undefined, 'chunk 10 is due at 3.5 s');
  const q = new SimPeer('v2', {} as PeerCore, new SimHost(profile), 0, 0);
  const r = peerResult(q, 60_000, 100, CHUNK_MS);
  assert.equal(r.continuity, undefined);
  assert.equal(r.startupMs, undefined);
});
