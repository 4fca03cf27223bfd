// The bench's side of its child processes' messages, and its byte counts across broadcaster lives.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { BenchChild } from '../../src/bench/child.js';
import { SourceLedger } from '../../src/bench/counts.js';

/** A stand-in child process: its messages and its end are the test's to emit. */
function fakeChild(): EventEmitter & { connected: boolean } {
  return Object.assign(new EventEmitter(), { connected: true });
}

test('a message sent before it was asked for is found, one sent after is waited for', async () => {
  const child = fakeChild();
  const c = new BenchChild(child as unknown as ChildProcess, 'tracker');
  child.emit('message', { type: 'tracker-listening', url: 'http://127.0.0.1:1' });
  assert.equal((await c.message('tracker-listening')).url, 'http://127.0.0.1:1');
  const later = c.message('fanout-listening');
  child.emit('message', { type: 'fanout-listening', url: 'http://127.0.0.1:2/' });
  assert.equal((await later).url, 'http://127.0.0.1:2/');
});

test('messages of other types or shapes are not taken for the one asked', async () => {
  const child = fakeChild();
  const c = new BenchChild(child as unknown as ChildProcess, 'bench-host');
  const report = c.message('host-report', 200);
  child.emit('message', { type: 'fanout-listening', url: 'x' });
  child.emit('message', 'HOST-REPORT {}');
  await assert.rejects(report, /sent no host-report message \(none within 200 ms\)/);
});

test('a child that ends without the message fails the wait at once, quoting its output', async () => {
  const child = Object.assign(fakeChild(), { stdout: new EventEmitter(), stderr: new EventEmitter() });
  const c = new BenchChild(child as unknown as ChildProcess, 'broadcast');
  const waiting = c.message('broadcasting');
  child.stderr.emit('data', Buffer.from('meshtv: error: no ffmpeg\n'));
  child.connected = false;
  child.emit('disconnect');
  await assert.rejects(waiting, /meshtv broadcast sent no broadcasting message \(it ended\): meshtv: error: no ffmpeg/);
  await assert.rejects(c.message('broadcasting'), /it ended/);
});

test('the broadcaster counts add up over its lives, each restarted one counting from zero', () => {
  const ledger = new SourceLedger();
  ledger.begin({ bytesProduced: 100, mediaBytesSent: 150 });
  assert.deepEqual(ledger.total({ bytesProduced: 300, mediaBytesSent: 450 }), { bytesProduced: 200, mediaBytesSent: 300 });
  ledger.restarting({ bytesProduced: 400, mediaBytesSent: 600 });
  ledger.restarting({ bytesProduced: 50, mediaBytesSent: 70 });
  assert.deepEqual(ledger.total({ bytesProduced: 10, mediaBytesSent: 20 }), { bytesProduced: 360, mediaBytesSent: 540 });
});
