// A channel's peers at the tracker: answers drawn at random without repeats or the asker, the
// source first, entries gone once deleted, and the cost of an answer bounded by its size.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type RandomFn, seededRandom } from '../../src/protocol/random.js';
import { type ListedPeer, PeerList } from '../../src/tracker/peer-list.js';

function entry(n: number, role: 'source' | 'viewer' = 'viewer'): ListedPeer {
  return { peerId: `p${n}`, role };
}

function listOf(viewers: number, withSource = true): PeerList<ListedPeer> {
  const list = new PeerList<ListedPeer>();
  if (withSource) list.set(entry(0, 'source'));
  for (let i = 1; i <= viewers; i++) list.set(entry(i));
  return list;
}

function counting(random: RandomFn): { random: RandomFn; calls: () => number } {
  let calls = 0;
  return {
    random: () => {
      calls++;
      return random();
    },
    calls: () => calls,
  };
}

function checkAnswer(answer: ListedPeer[], exceptId: string, size: number): void {
  assert.equal(answer.length, size);
  assert.equal(new Set(answer.map((p) => p.peerId)).size, answer.length, 'an entry was drawn twice');
  assert.ok(!answer.some((p) => p.peerId === exceptId), 'the asker was offered itself');
}

describe('PeerList', () => {
  test('answers hold the source first, then distinct viewers other than the asker, in both regimes', () => {
    const random = seededRandom(7);
    // 12 viewers: a partial shuffle of a copy; 1,000: draws by place.
    for (const viewers of [12, 1000]) {
      const list = listOf(viewers);
      for (let asker = 1; asker <= 12; asker++) {
        const answer = list.sample(8, `p${asker}`, random);
        checkAnswer(answer, `p${asker}`, 8);
        assert.equal(answer[0]?.role, 'source');
        assert.ok(answer.slice(1).every((p) => p.role === 'viewer'));
      }
    }
  });

  test('a swarm smaller than the answer is given whole, less the asker', () => {
    const list = listOf(5);
    const answer = list.sample(30, 'p3', seededRandom(1));
    checkAnswer(answer, 'p3', 5);
    assert.deepEqual(answer.map((p) => p.peerId).sort(), ['p0', 'p1', 'p2', 'p4', 'p5']);
    assert.deepEqual(list.sample(30, 'p0', seededRandom(1)).length, 5, 'the source asking gets every viewer');
  });

  test('every viewer is offered about as often as any other', () => {
    const list = listOf(200, false);
    const random = seededRandom(11);
    const offered = new Map<string, number>();
    for (let k = 0; k < 2000; k++) for (const p of list.sample(10, 'p1', random)) offered.set(p.peerId, (offered.get(p.peerId) ?? 0) + 1);
    assert.equal(offered.size, 199, 'some viewer was never offered');
    // 20,000 offers over 199 viewers: about 100 each.
    const counts = [...offered.values()];
    assert.ok(Math.min(...counts) > 50 && Math.max(...counts) < 160, `offers per viewer ${Math.min(...counts)}..${Math.max(...counts)}`);
  });

  test('deleted entries are never offered and the rest stay reachable', () => {
    const list = listOf(100);
    for (let i = 2; i <= 100; i += 2) assert.ok(list.delete(`p${i}`));
    assert.equal(list.delete('p2'), false, 'deleted twice');
    assert.equal(list.size, 51);
    assert.equal(list.viewerCount, 50);
    const random = seededRandom(5);
    const seen = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const answer = list.sample(6, 'p1', random);
      checkAnswer(answer, 'p1', 6);
      for (const p of answer) seen.add(p.peerId);
    }
    assert.ok(
      [...seen].every((id) => id === 'p0' || Number(id.slice(1)) % 2 === 1),
      'a deleted entry was offered',
    );
    assert.equal(seen.size, 50, 'the source and the 49 other odd viewers');
  });

  test('a role change moves an entry between sources and viewers', () => {
    const list = listOf(3, false);
    list.set(entry(2, 'source'));
    assert.ok(list.hasSource);
    assert.equal(list.viewerCount, 2);
    assert.equal(list.sample(1, 'p1', seededRandom(1))[0]?.peerId, 'p2');
    list.set(entry(2));
    assert.equal(list.hasSource, false);
    assert.equal(list.viewerCount, 3);
    assert.equal(list.size, 3);
  });

  test('an answer from 50,000 viewers costs about as many draws as it has entries', () => {
    const list = listOf(50_000);
    const { random, calls } = counting(seededRandom(3));
    for (let k = 0; k < 100; k++) checkAnswer(list.sample(30, `p${k + 1}`, random), `p${k + 1}`, 30);
    // 29 viewers per answer; a copy-and-shuffle would draw 50,000 times per answer.
    assert.ok(calls() < 100 * 29 * 1.1, `${calls()} draws for 100 answers`);
  });
});
