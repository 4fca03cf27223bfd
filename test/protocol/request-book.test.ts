// The book of requests out keeps each neighbour's pending map and the per-chunk count in step:
// a chunk is on its way exactly while some neighbour has it pending.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestBook } from '../../src/protocol/request-book.js';

const holder = () => ({ pending: new Map<number, number>() });

test('a chunk asked of two neighbours is on its way until both are answered', () => {
  const book = new RequestBook();
  const a = holder();
  const b = holder();
  book.add(a, 5, 100);
  book.add(b, 5, 120);
  book.add(a, 6, 130);
  assert.deepEqual(
    [...a.pending],
    [
      [5, 100],
      [6, 130],
    ],
  );
  assert.equal(book.size, 2);
  assert.equal(book.remove(a, 5), true);
  assert.equal(book.has(5), true, 'still asked of b');
  assert.equal(book.remove(a, 5), false, 'already answered');
  assert.equal(book.has(5), true);
  assert.equal(book.remove(b, 5), true);
  assert.equal(book.has(5), false);
  assert.equal(book.has(6), true);
});

test('asking the same neighbour again moves the time and counts once', () => {
  const book = new RequestBook();
  const a = holder();
  book.add(a, 9, 100);
  book.add(a, 9, 400);
  assert.equal(a.pending.get(9), 400);
  assert.equal(book.remove(a, 9), true);
  assert.equal(book.has(9), false);
});

test('removeAll forgets one neighbour and leaves the others', () => {
  const book = new RequestBook();
  const a = holder();
  const b = holder();
  for (const seq of [1, 2, 3]) book.add(a, seq, 0);
  book.add(b, 2, 0);
  book.removeAll(a);
  assert.equal(a.pending.size, 0);
  assert.deepEqual(
    [1, 2, 3].map((s) => book.has(s)),
    [false, true, false],
  );
  assert.equal(book.size, 1);
});
