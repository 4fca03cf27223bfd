// scheduleRequests as a pure function over plain objects: who is asked for which chunk.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../../src/protocol/random.js';
import { type PlannedRequest, type SchedulerInput, type SchedulerNeighbour, scheduleRequests } from '../../src/protocol/scheduler.js';

const NOW = 10_000;
const GRACE = 400;
const URGENT = 800;

function neighbour(
  id: string,
  seqs: Iterable<number>,
  opts: { isSource?: boolean; pendingCount?: number; serviceMs?: number } = {},
): SchedulerNeighbour {
  const held = new Set(seqs);
  return { id, isSource: opts.isSource ?? false, pendingCount: opts.pendingCount ?? 0, serviceMs: opts.serviceMs, has: (s) => held.has(s) };
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = from; s <= to; s++) out.push(s);
  return out;
}

function input(overrides: Partial<SchedulerInput>): SchedulerInput {
  return {
    nowMs: NOW,
    fromSeq: 0,
    toSeq: 0,
    isSettled: () => false,
    // Seen long ago and no deadline unless a test says otherwise.
    firstSeenMs: () => NOW - 10 * GRACE,
    deadlineMs: () => undefined,
    neighbours: [],
    maxPendingPerPeer: 8,
    maxNewRequests: 64,
    sourceGraceMs: GRACE,
    urgentMs: URGENT,
    defaultServiceMs: 300,
    random: seededRandom(1),
    ...overrides,
  };
}

function countByPeer(plan: readonly PlannedRequest[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of plan) m.set(r.peer, (m.get(r.peer) ?? 0) + 1);
  return m;
}

describe('scheduleRequests', () => {
  test('prefers a viewer holding the chunk over the source', () => {
    const plan = scheduleRequests(
      input({ neighbours: [neighbour('src', [0], { isSource: true }), neighbour('v1', [0])], deadlineMs: () => NOW + 10 }),
    );
    assert.deepEqual(plan, [{ peer: 'v1', seq: 0 }]);
  });

  test('prefers a busy viewer over the idle source', () => {
    const plan = scheduleRequests(
      input({ neighbours: [neighbour('src', [0], { isSource: true }), neighbour('v1', [0], { pendingCount: 7 })] }),
    );
    assert.deepEqual(plan, [{ peer: 'v1', seq: 0 }]);
  });

  test('asks the source only after sourceGraceMs since the chunk was first seen', () => {
    const src = neighbour('src', [0], { isSource: true });
    const at = (seenMs: number) => scheduleRequests(input({ neighbours: [src], firstSeenMs: () => seenMs }));
    assert.deepEqual(at(NOW), []);
    assert.deepEqual(at(NOW - GRACE + 1), []);
    assert.deepEqual(at(NOW - GRACE), [{ peer: 'src', seq: 0 }]);
    assert.deepEqual(at(NOW - 5 * GRACE), [{ peer: 'src', seq: 0 }]);
    assert.deepEqual(scheduleRequests(input({ neighbours: [src], firstSeenMs: () => undefined })), []);
  });

  test('asks the source early when the deadline is within urgentMs', () => {
    const src = neighbour('src', [0], { isSource: true });
    const at = (deadline: number | undefined) =>
      scheduleRequests(input({ neighbours: [src], firstSeenMs: () => NOW, deadlineMs: () => deadline }));
    assert.deepEqual(at(undefined), []);
    assert.deepEqual(at(NOW + URGENT + 1), []);
    assert.deepEqual(at(NOW + URGENT), [{ peer: 'src', seq: 0 }]);
    assert.deepEqual(at(NOW + 1), [{ peer: 'src', seq: 0 }]);
    assert.deepEqual(at(NOW - 500), [{ peer: 'src', seq: 0 }], 'an overdue chunk is urgent too');
  });

  test('the grace and urgency rules apply per chunk', () => {
    const src = neighbour('src', range(0, 3), { isSource: true });
    const plan = scheduleRequests(
      input({
        toSeq: 3,
        neighbours: [src],
        firstSeenMs: (s) => (s === 1 ? NOW - GRACE : NOW),
        deadlineMs: (s) => (s === 3 ? NOW + 100 : NOW + 5000),
      }),
    );
    assert.deepEqual(plan, [
      { peer: 'src', seq: 1 },
      { peer: 'src', seq: 3 },
    ]);
  });

  test('never asks a neighbour that lacks the chunk', () => {
    const plan = scheduleRequests(
      input({
        toSeq: 5,
        neighbours: [neighbour('even', [0, 2, 4]), neighbour('odd', [1, 3]), neighbour('none', [])],
      }),
    );
    assert.deepEqual(plan, [
      { peer: 'even', seq: 0 },
      { peer: 'odd', seq: 1 },
      { peer: 'even', seq: 2 },
      { peer: 'odd', seq: 3 },
      { peer: 'even', seq: 4 },
    ]);
  });

  test('skips settled sequence numbers', () => {
    const settled = new Set([0, 1, 3, 6]);
    const plan = scheduleRequests(input({ toSeq: 7, isSettled: (s) => settled.has(s), neighbours: [neighbour('v1', range(0, 7))] }));
    assert.deepEqual(
      plan.map((r) => r.seq),
      [2, 4, 5, 7],
    );
  });

  test('stays within [fromSeq, toSeq], earliest first', () => {
    const plan = scheduleRequests(input({ fromSeq: 10, toSeq: 14, neighbours: [neighbour('v1', range(0, 30))] }));
    assert.deepEqual(
      plan.map((r) => r.seq),
      [10, 11, 12, 13, 14],
    );
    assert.deepEqual(scheduleRequests(input({ fromSeq: 15, toSeq: 14, neighbours: [neighbour('v1', range(0, 30))] })), []);
  });

  test('respects maxPendingPerPeer, counting requests planned in the same call', () => {
    const plan = scheduleRequests(
      input({
        toSeq: 19,
        maxPendingPerPeer: 4,
        neighbours: [neighbour('a', range(0, 19), { pendingCount: 1 }), neighbour('b', range(0, 19), { pendingCount: 3 })],
      }),
    );
    const byPeer = countByPeer(plan);
    assert.equal(byPeer.get('a'), 3);
    assert.equal(byPeer.get('b'), 1);
    assert.deepEqual(
      plan.map((r) => r.seq),
      [0, 1, 2, 3],
    );
  });

  test('a saturated source is not asked either', () => {
    const plan = scheduleRequests(
      input({ toSeq: 3, maxPendingPerPeer: 2, neighbours: [neighbour('src', range(0, 3), { isSource: true, pendingCount: 1 })] }),
    );
    assert.deepEqual(plan, [{ peer: 'src', seq: 0 }]);
  });

  test('falls back to the source once every viewer holding the chunk is saturated', () => {
    const plan = scheduleRequests(
      input({
        toSeq: 3,
        maxPendingPerPeer: 2,
        neighbours: [neighbour('src', range(0, 3), { isSource: true }), neighbour('v1', range(0, 3))],
      }),
    );
    assert.deepEqual(plan, [
      { peer: 'v1', seq: 0 },
      { peer: 'v1', seq: 1 },
      { peer: 'src', seq: 2 },
      { peer: 'src', seq: 3 },
    ]);
  });

  test('respects maxNewRequests', () => {
    const plan = scheduleRequests(
      input({ toSeq: 99, maxNewRequests: 5, neighbours: [neighbour('a', range(0, 99)), neighbour('b', range(0, 99))] }),
    );
    assert.equal(plan.length, 5);
    assert.deepEqual(
      plan.map((r) => r.seq),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(scheduleRequests(input({ toSeq: 9, maxNewRequests: 0, neighbours: [neighbour('a', range(0, 9))] })), []);
  });

  test('spreads requests evenly over equally loaded holders', () => {
    const ids = ['a', 'b', 'c', 'd'];
    const plan = scheduleRequests(input({ toSeq: 39, maxPendingPerPeer: 100, neighbours: ids.map((id) => neighbour(id, range(0, 39))) }));
    assert.equal(plan.length, 40);
    const byPeer = countByPeer(plan);
    for (const id of ids) assert.equal(byPeer.get(id), 10, `requests to ${id}`);
  });

  test('the least loaded holder is chosen first', () => {
    const plan = scheduleRequests(
      input({
        toSeq: 5,
        maxPendingPerPeer: 100,
        neighbours: [neighbour('busy', range(0, 5), { pendingCount: 3 }), neighbour('idle', range(0, 5))],
      }),
    );
    assert.deepEqual(
      plan.slice(0, 3).map((r) => r.peer),
      ['idle', 'idle', 'idle'],
    );
    // Then the loads stay level: 3 + busy's share and idle's share differ by at most one.
    const byPeer = countByPeer(plan);
    assert.equal(plan.length, 6);
    const busyLoad = 3 + (byPeer.get('busy') ?? 0);
    const idleLoad = byPeer.get('idle') ?? 0;
    assert.ok(Math.abs(busyLoad - idleLoad) <= 1, `loads ${busyLoad} and ${idleLoad}`);
  });

  test('a holder that serves twice as fast takes twice the load; an unmeasured one counts as average', () => {
    const plan = scheduleRequests(
      input({
        toSeq: 29,
        maxPendingPerPeer: 100,
        neighbours: [
          neighbour('fast', range(0, 29), { serviceMs: 150 }),
          neighbour('slow', range(0, 29), { serviceMs: 300 }),
          neighbour('new', range(0, 29)),
        ],
      }),
    );
    const byPeer = countByPeer(plan);
    assert.equal(plan[0]?.peer, 'fast');
    assert.equal(byPeer.get('fast'), 15);
    assert.ok(Math.abs((byPeer.get('slow') ?? 0) - (byPeer.get('new') ?? 0)) <= 1, `slow ${byPeer.get('slow')}, new ${byPeer.get('new')}`);
  });

  test('ties are broken at random, uniformly', () => {
    const random = seededRandom(99);
    const ids = ['a', 'b', 'c'];
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const [r] = scheduleRequests(input({ random, neighbours: ids.map((id) => neighbour(id, [0])) }));
      assert.ok(r !== undefined);
      counts.set(r.peer, (counts.get(r.peer) ?? 0) + 1);
    }
    for (const id of ids) {
      const n = counts.get(id) ?? 0;
      assert.ok(n > 850 && n < 1150, `${id} chosen ${n} times of 3000`);
    }
  });

  test('is deterministic for a given random seed', () => {
    const make = () =>
      scheduleRequests(input({ toSeq: 30, random: seededRandom(5), neighbours: ['a', 'b', 'c'].map((id) => neighbour(id, range(0, 30))) }));
    assert.deepEqual(make(), make());
  });
});
