// startPlayer with a virtual clock, on stand-in players run by /bin/sh: how long a player ran
// is measured on the clock it was given (the viewer calls a quick exit a failure), and stop()
// escalates to SIGKILL exactly when KILL_AFTER_MS have passed on that clock, not before.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KILL_AFTER_MS, type PlayerClock, startPlayer } from '../../src/cli/player-launcher.js';
import { waitUntil } from '../helpers/processes.js';

/** A clock that moves only when told, running its timers as it passes them. */
class VirtualClock implements PlayerClock {
  nowMs = 1_000_000;
  private timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.nowMs;
  }
  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.nowMs + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }
  advance(ms: number): void {
    this.nowMs += ms;
    for (const t of this.timers.filter((t) => t.at <= this.nowMs)) {
      this.timers = this.timers.filter((x) => x !== t);
      t.fn();
    }
  }
  get pending(): number {
    return this.timers.length;
  }
}

test('how long the player ran is read on its clock, with its exit code and last line', async () => {
  const clock = new VirtualClock();
  const player = startPlayer('/bin/sh', ['-c', 'echo "no video device" >&2; exit 3'], clock);
  clock.advance(1234);
  const exit = await player.exited;
  assert.deepEqual(exit, { code: 3, signal: null, ranMs: 1234, lastLine: 'no video device' });
});

test('stop() asks with SIGTERM, and sends SIGKILL only once KILL_AFTER_MS have passed', async () => {
  const clock = new VirtualClock();
  // Ignores SIGTERM, as a hung player would.
  const player = startPlayer('/bin/sh', ['-c', "trap '' TERM; while :; do sleep 0.05; done"], clock);
  let stopped = false;
  // Time for the shell to set its trap.
  await new Promise((r) => setTimeout(r, 300));
  const stopping = player.stop().then(() => {
    stopped = true;
  });
  await waitUntil('the kill timer is set', () => clock.pending === 1, 2000);
  clock.advance(KILL_AFTER_MS - 1);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(stopped, false, 'killed before KILL_AFTER_MS');
  clock.advance(1);
  await stopping;
  const exit = await player.exited;
  assert.equal(exit.signal, 'SIGKILL');
  assert.equal(exit.ranMs, KILL_AFTER_MS);
  assert.equal(clock.pending, 0);
});

test('a player that quits on SIGTERM is not killed, and its timer is cancelled', async () => {
  const clock = new VirtualClock();
  const player = startPlayer('/bin/sh', ['-c', 'while :; do sleep 0.05; done'], clock);
  await new Promise((r) => setTimeout(r, 100));
  await player.stop();
  assert.equal((await player.exited).signal, 'SIGTERM');
  assert.equal(clock.pending, 0, 'the SIGKILL timer outlived the player');
});
