import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Teardown } from '../../src/common/teardown.js';

test('Teardown: undoes in reverse order, each awaited; a failing undo does not skip the others', async () => {
  const t = new Teardown();
  const done: string[] = [];
  t.defer(() => done.push('first'));
  t.defer(async () => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    done.push('second');
  });
  t.defer(() => {
    throw new Error('third broke');
  });
  t.defer(() => done.push('fourth'));
  await assert.rejects(t.undo(), /third broke/);
  assert.deepEqual(done, ['fourth', 'second', 'first']);
  // Once undone, stopping again does nothing more.
  await assert.rejects(t.undo(), /third broke/);
  assert.deepEqual(done, ['fourth', 'second', 'first']);
});

test('Teardown: several failing undos are all reported', async () => {
  const t = new Teardown();
  t.defer(() => Promise.reject(new Error('a')));
  t.defer(() => Promise.reject(new Error('b')));
  await assert.rejects(t.undo(), (err: AggregateError) => err.errors.map(String).join() === 'Error: b,Error: a');
});

test('Teardown: a failed start undoes the steps before it and throws its own error', async () => {
  const reported: unknown[] = [];
  const t = new Teardown((err) => reported.push(err));
  const done: string[] = [];
  await assert.rejects(
    t.start(async () => {
      t.defer(() => done.push('listener closed'));
      t.defer(() => {
        throw new Error('timer already gone');
      });
      throw new Error('port taken');
    }),
    /port taken/,
  );
  assert.deepEqual(done, ['listener closed']);
  assert.deepEqual(reported.map(String), ['Error: timer already gone']);
});

test('Teardown: a start that succeeds undoes nothing until stopped', async () => {
  const t = new Teardown();
  const done: string[] = [];
  assert.equal(
    await t.start(async () => {
      t.defer(() => done.push('stopped'));
      return 42;
    }),
    42,
  );
  assert.deepEqual(done, []);
  await t.undo();
  assert.deepEqual(done, ['stopped']);
});

test('Teardown: a step that succeeds after stopping began is undone too', async () => {
  const t = new Teardown();
  const done: string[] = [];
  t.defer(() => done.push('first'));
  await t.undo();
  t.defer(() => done.push('late'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(done, ['first', 'late']);
});
