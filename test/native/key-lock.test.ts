import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { lockKey } from '../../src/native/key-lock.js';
import { tempDir } from '../helpers/processes.js';

test('one run per channel key: a second is told which pid holds it; released, the key is free again', () => {
  const key = path.join(tempDir('key-lock'), 'k.key');
  const lock = lockKey(key);
  // Another process (our parent stands in: it is running) cannot take it.
  assert.throws(() => lockKey(key, process.ppid), new RegExp(`key .*k\\.key is in use by pid ${process.pid}`));
  lock.release();
  assert.equal(fs.existsSync(`${key}.lock`), false);
  lockKey(key, process.ppid).release();
});

test('a lock left by a process that died is taken over; releasing a lock taken over does not remove the new one', () => {
  const key = path.join(tempDir('key-lock'), 'k.key');
  // No process has pid 2^22 + 1 (Linux pids stop at 2^22).
  fs.writeFileSync(`${key}.lock`, `${2 ** 22 + 1}\n`);
  const lock = lockKey(key);
  assert.equal(fs.readFileSync(`${key}.lock`, 'utf8').trim(), String(process.pid));
  fs.writeFileSync(`${key}.lock`, `${process.ppid}\n`);
  lock.release();
  assert.equal(fs.readFileSync(`${key}.lock`, 'utf8').trim(), String(process.ppid));
});
