// A start that fails half way leaves nothing running: what the earlier steps started (ffmpeg,
// timers, swarm nodes and their tracker entries) is undone before the error reaches the caller.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/processes.js';

/** Runs a fixture script in its own process; its output, and whether it exited by itself in time. */
function runFixture(name: string, timeoutMs: number): Promise<{ stdout: string; exited: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/native/fixtures', name)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ stdout, exited: false });
    }, timeoutMs);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve({ stdout, exited: true });
    });
  });
}

test('a broadcaster whose HTTP port is taken stops ffmpeg, its timers and its swarm nodes', { timeout: 60_000 }, async () => {
  const { stdout, exited } = await runFixture('broadcast-http-taken.ts', 40_000);
  assert.match(stdout, /refused: port \d+ on 127\.0\.0\.1 is in use; choose another with --http-port/);
  assert.match(stdout, /ffmpeg children: 0/, 'ffmpeg still running');
  assert.match(stdout, /peers at the tracker: 0/, 'a swarm node still announced');
  assert.ok(exited, `the process did not exit: something it started still runs\n${stdout}`);
});

test('a viewer whose peer port is taken closes its HTTP output and its swarm nodes', { timeout: 60_000 }, async () => {
  const { stdout, exited } = await runFixture('watch-peer-port-taken.ts', 40_000);
  assert.match(stdout, /refused: cannot listen for peers on 127\.0\.0\.1:\d+: .*; choose another --peer-port/);
  assert.match(stdout, /http output closed: true/);
  assert.ok(exited, `the process did not exit: something it started still runs\n${stdout}`);
});
