import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Emitter } from '../../src/common/events.js';

test('Emitter: listeners by type, in order; off stops one; a throwing listener does not stop the others', () => {
  const errors: unknown[] = [];
  const e = new Emitter<{ chunk: number; gone: string }>((err) => errors.push(err));
  const seen: string[] = [];
  const off = e.on('chunk', (n) => seen.push(`a${n}`));
  e.on('chunk', () => {
    throw new Error('listener bug');
  });
  e.on('chunk', (n) => seen.push(`c${n}`));
  e.on('gone', (s) => seen.push(s));
  e.emit('chunk', 1);
  off();
  e.emit('chunk', 2);
  e.emit('gone', 'x');
  assert.deepEqual(seen, ['a1', 'c1', 'c2', 'x']);
  assert.deepEqual(errors.map(String), ['Error: listener bug', 'Error: listener bug']);
  assert.equal(e.has('chunk'), true);
  e.clear();
  assert.equal(e.has('chunk'), false);
});
