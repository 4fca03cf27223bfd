// Membership: whom a peer dials and when it asks a tracker, with plain data for the links and
// the core's signals. The native node, the browser tab and the simulator all run this policy.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Membership, type MembershipConfig, type PeerCandidate } from '../../src/protocol/membership.js';

/** A runtime's state as the policy reads it, set by hand. */
class FakeView {
  links = new Set<string>();
  banned = new Set<string>();
  full = false;
  short = false;
  hasSource = false;
  started = false;
  lastChunkAtMs: number | undefined;
  readonly core = {
    supplyShort: () => this.short,
    hasSourceNeighbour: () => this.hasSource,
    getStats: () => ({ started: this.started, lastChunkAtMs: this.lastChunkAtMs }),
  };
  linkCount = () => this.links.size;
  linkedTo = (id: string) => this.links.has(id);
  accepts = (id: string | undefined, address: string | undefined) =>
    !this.full && (id === undefined || !this.banned.has(id)) && (address === undefined || !this.banned.has(address));
}

function setup(config: Partial<MembershipConfig> = {}) {
  const view = new FakeView();
  return { view, m: new Membership({ dialTarget: 4, ...config }, view, () => 0.5) };
}

const viewers = (n: number, from = 0): PeerCandidate[] =>
  Array.from({ length: n }, (_, i) => ({ peerId: `v${from + i}`, role: 'viewer' as const, address: `198.51.100.${from + i}`, port: 9000 }));
const source: PeerCandidate = { peerId: 's', role: 'source', address: '203.0.113.1', port: 9000 };

test('dials up to its target, counting dials in progress, and skips peers it has, is dialling or refuses', () => {
  const { view, m } = setup();
  view.links.add('v0');
  view.banned.add('v1');
  view.banned.add('198.51.100.2');
  assert.equal(m.poll(0), true, 'the first announce is due at once');
  const dialled = m.answered(0, 5000, [source, ...viewers(8)]).map((p) => p.peerId);
  assert.deepEqual(dialled, ['s', 'v3', 'v4'], 'one link + three dials = the target of 4');
  assert.equal(m.numWant(0), 0, 'nothing asked of the tracker while full');
  m.dialEnded({ ...source });
  assert.equal(m.numWant(0), 30);
  m.announceNow();
  assert.deepEqual(
    m.answered(1, 5000, viewers(8)).map((p) => p.peerId),
    ['v5'],
    'v3 and v4 are still being dialled, the rest refused or linked',
  );
});

test('the target doubles while playback misses chunks, and the core being full stops dialling', () => {
  const { view, m } = setup();
  view.short = true;
  assert.equal(m.dialTarget(0), 8);
  assert.equal(m.webrtcWanted(0), 8);
  m.poll(0);
  assert.equal(m.answered(0, 5000, viewers(20)).length, 8);
  view.full = true;
  m.announceNow();
  view.short = false;
  assert.equal(m.answered(0, 5000, viewers(20, 20)).length, 0);
});

test('a broadcaster dials viewers only and never asks for WebRTC links; an edge dials the source only', () => {
  const b = setup({ role: 'source' });
  b.m.poll(0);
  assert.deepEqual(
    b.m.answered(0, 5000, [source, ...viewers(2)]).map((p) => p.peerId),
    ['v0', 'v1'],
  );
  assert.equal(b.m.webrtcWanted(0), 0);
  assert.equal(b.m.wantsPeers(0), false, 'no DHT lookups for a broadcaster');
  const edge = setup({ sourceOnly: true });
  edge.m.poll(0);
  assert.deepEqual(
    edge.m.answered(0, 5000, [...viewers(3), source]).map((p) => p.peerId),
    ['s'],
  );
});

test('announces come at the tracker interval, never two at once, and back off while they fail', () => {
  const { m } = setup({ role: 'source' });
  assert.equal(m.poll(0), true);
  assert.equal(m.poll(10_000), false, 'one announce in flight at a time');
  assert.equal(m.wakeAtMs(), Number.POSITIVE_INFINITY, 'a broadcaster waits for the answer');
  m.answered(100, 5000, []);
  assert.equal(m.wakeAtMs(), 5100);
  assert.equal(m.poll(5099), false);
  assert.equal(m.poll(5100), true);
  const next: number[] = [];
  let now = 5100;
  for (let i = 0; i < 20; i++) {
    m.failed(now);
    assert.equal(m.trackerFailures, i + 1);
    next.push(m.wakeAtMs() - now);
    now = m.wakeAtMs();
    assert.equal(m.poll(now), true);
  }
  assert.deepEqual(next.slice(0, 4), [2000, 4000, 6000, 8000]);
  assert.equal(Math.max(...next), 30_000, 'capped');
  m.answered(now, 15_000, []);
  assert.equal(m.trackerFailures, 0);
});

test('a viewer that loses its link to the source asks every second for 30 s, then at the usual interval', () => {
  const { view, m } = setup();
  m.poll(0);
  m.answered(0, 15_000, []);
  view.hasSource = true;
  view.started = true;
  view.lastChunkAtMs = 0;
  assert.equal(m.poll(250), false);
  view.hasSource = false;
  const asks: number[] = [];
  for (let t = 500; t < 40_000; t += 250) {
    if (t < 14_000) view.lastChunkAtMs = t; // its neighbours still relay what they have, for a while
    if (m.poll(t)) {
      asks.push(t);
      m.answered(t, 15_000, []);
    }
  }
  assert.equal(asks[0], 500, 'at once');
  assert.equal(asks[1], 1500);
  const during = asks.filter((t) => t <= 30_500);
  assert.ok(during.length >= 29 && during.length <= 31, `${during.length} asks in the search`);
  assert.ok(
    asks.every((t, i) => i === 0 || t - (asks[i - 1] as number) <= 15_000),
    'the regular interval goes on',
  );
  assert.ok(asks.filter((t) => t > 31_000).length <= 1, 'the search ended after 30 s');
});

test('a starved viewer asks every 2-4 s and dials the source even when full', () => {
  const { view, m } = setup();
  m.poll(0);
  m.answered(0, 15_000, []);
  view.started = true;
  view.lastChunkAtMs = 0;
  view.links = new Set(['v10', 'v11', 'v12', 'v13']);
  assert.equal(m.numWant(1000), 0, 'not starved yet: full and nothing asked');
  assert.equal(m.starvedOfSource(1500), true);
  assert.equal(m.numWant(1500), 30, 'starved: asks even when full');
  const asks: number[] = [];
  for (let t = 1500; t < 12_000; t += 250)
    if (m.poll(t)) {
      asks.push(t);
      assert.deepEqual(
        m.answered(t, 15_000, [source, ...viewers(3)]).map((p) => p.peerId),
        asks.length === 1 ? ['s'] : [],
        'the source, not viewers, and only once while dialling',
      );
    }
  assert.deepEqual(asks, [1500, 4500, 7500, 10500], 'every 3 s with this random draw');
  view.hasSource = true;
  assert.equal(m.poll(13_500), false, 'found: the search ends');
});

test('DHT finds are dialled by address while there is room, once each', () => {
  const { view, m } = setup({ dialTarget: 2 });
  const found = (port: number): PeerCandidate => ({ peerId: undefined, role: 'viewer', address: '198.51.100.9', port });
  assert.equal(m.wantsPeers(0), true);
  assert.equal(m.found(0, found(1)), true);
  assert.equal(m.found(0, found(1)), false, 'already dialling it');
  view.banned.add('198.51.100.9');
  assert.equal(m.found(0, found(2)), false, 'a banned address');
  view.banned.clear();
  assert.equal(m.found(0, found(2)), true);
  assert.equal(m.found(0, found(3)), false, 'no room');
  assert.equal(m.wantsPeers(0), false);
  m.dialEnded(found(1));
  assert.equal(m.wantsPeers(0), true);
});
