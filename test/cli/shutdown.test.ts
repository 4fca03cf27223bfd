// Shutdown: SIGINT/SIGTERM caught from the start of a command, parts stopped in order once they
// exist, a second signal exits at once. Signals come from a stand-in emitter here; the real
// ones are exercised by the player and CLI tests with real processes.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { Shutdown } from '../../src/cli/shutdown.js';

function parts(log: string[], ...names: string[]) {
  return names.map((name) => ({
    stop: async () => {
      log.push(`stop ${name}`);
    },
  }));
}

test('a signal that lands while the parts are still starting stops them once they exist', async () => {
  const signals = new EventEmitter();
  const shutdown = new Shutdown(signals, () => assert.fail('no forced exit'));
  signals.emit('SIGINT', 'SIGINT');
  const log: string[] = [];
  // The parts come up after the signal, as a spawned player does.
  assert.equal(await shutdown.until(parts(log, 'player', 'viewer')), 0);
  assert.deepEqual(log, ['stop player', 'stop viewer']);
  assert.equal(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM'), 0, 'signals given back');
});

test('the command ending by itself stops the parts and returns its status; a failure is rethrown after stopping', async () => {
  const log: string[] = [];
  assert.equal(await new Shutdown(new EventEmitter(), () => {}).until(parts(log, 'a'), Promise.resolve(3)), 3);
  await assert.rejects(
    new Shutdown(new EventEmitter(), () => {}).until(parts(log, 'b'), Promise.reject(new Error('player failed'))),
    /player failed/,
  );
  assert.deepEqual(log, ['stop a', 'stop b']);
});

test('a second signal while stopping exits at once with 130', async () => {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const shutdown = new Shutdown(signals, (code) => exits.push(code));
  let release: () => void = () => {};
  const slow = { stop: () => new Promise<void>((r) => (release = r)) };
  const running = shutdown.until([slow]);
  signals.emit('SIGTERM', 'SIGTERM');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(exits, []);
  signals.emit('SIGINT', 'SIGINT');
  assert.deepEqual(exits, [130]);
  release();
  assert.equal(await running, 0);
});
