// Who gets a fresh chunk pushed: relaying viewers that lack it, the fastest servers first, and
// nobody once enough neighbours hold it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { choosePushTargets } from '../../src/protocol/fresh-push.js';
import { Neighbour } from '../../src/protocol/neighbour.js';
import { seededRandom } from '../../src/protocol/random.js';

function viewer(id: string, serviceMs: number | undefined, holds = false): Neighbour {
  const n = new Neighbour(id, 0, 10);
  n.role = 'viewer';
  n.serviceMs = serviceMs;
  if (holds) n.holds.add(7);
  return n;
}

const ids = (ns: Neighbour[]) => ns.map((n) => n.id);

test('the fastest lacking relays first, as many as the fanout', () => {
  const ns = [viewer('slow', 400), viewer('fast', 50), viewer('mid', 150), viewer('new', undefined)];
  assert.deepEqual(ids(choosePushTargets(ns, 7, 2, 0.5, seededRandom(1))), ['fast', 'mid']);
  assert.deepEqual(ids(choosePushTargets(ns, 7, 3, 0.5, seededRandom(1))), ['fast', 'mid', 'new'], 'unmeasured: 300 ms assumed');
  assert.equal(choosePushTargets(ns, 7, 10, 0.5, seededRandom(1)).length, 4);
});

test('holders, non-relays, the source and leaving neighbours get no push', () => {
  const holder = viewer('holder', 10, true);
  const quiet = viewer('quiet', 20);
  quiet.relays = false;
  const source = viewer('source', 30);
  source.role = 'source';
  const leaving = viewer('leaving', 40);
  leaving.closing = true;
  const ok = viewer('ok', 500);
  assert.deepEqual(ids(choosePushTargets([holder, quiet, source, leaving, ok], 7, 4, 0.5, seededRandom(1))), ['ok']);
});

test('no push once more than the holder share of relays hold it', () => {
  const ns = [viewer('h1', 10, true), viewer('a', 20), viewer('b', 30), viewer('c', 40)];
  assert.equal(choosePushTargets(ns, 7, 2, 0.25, seededRandom(1)).length, 2, '1 of 4 holds: at the share');
  assert.equal(choosePushTargets(ns, 7, 2, 0.2, seededRandom(1)).length, 0, '1 of 4 holds: past the share');
});

test('ties are broken at random, evenly', () => {
  const counts = new Map<string, number>();
  const random = seededRandom(3);
  for (let i = 0; i < 3000; i++) {
    const [first] = choosePushTargets([viewer('a', 100), viewer('b', 100), viewer('c', 100)], 7, 1, 0.5, random);
    counts.set(first?.id ?? '', (counts.get(first?.id ?? '') ?? 0) + 1);
  }
  for (const id of ['a', 'b', 'c']) assert.ok(Math.abs((counts.get(id) ?? 0) - 1000) < 150, `${id}: ${counts.get(id)}`);
});
