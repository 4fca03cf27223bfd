// Which viewers each bench host process runs: with --netns a host's tbf is shared by its
// viewers, so a host never mixes caps, and --hosts equal to --peers puts every viewer alone.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostLayout } from '../../src/bench/options.js';

test('app mode deals every viewer round-robin over the hosts', () => {
  assert.deepEqual(hostLayout(5, 1, 2, false), [
    [0, 2, 4],
    [1, 3],
  ]);
});

test('netns: free riders (first) never share a host with uploaders; one host per viewer when there are enough', () => {
  // 4 hosts for 10 viewers, 2 of them free riders: the free riders together, uploaders over all 4.
  assert.deepEqual(hostLayout(10, 2, 4, true), [
    [0, 1],
    [2, 6],
    [3, 7],
    [4, 8],
    [5, 9],
  ]);
  // As many hosts as viewers: each alone, free riders included.
  const alone = hostLayout(40, 8, 40, true);
  assert.equal(alone.length, 40);
  assert.ok(alone.every((h) => h.length === 1));
  assert.deepEqual(
    alone.flat().sort((a, b) => a - b),
    Array.from({ length: 40 }, (_, i) => i),
  );
  // No free riders: no empty host for them.
  assert.deepEqual(hostLayout(3, 0, 3, true), [[0], [1], [2]]);
});
