// `meshtv` right after `npm ci`, before anything built dist/: the command builds it on its first
// run instead of failing with ERR_MODULE_NOT_FOUND. Run on a copy of the checkout without dist/.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, tempDir } from '../helpers/processes.js';

test('a checkout without dist/ builds it on the first run, then runs the command', { timeout: 60_000 }, () => {
  const copy = tempDir('first-run');
  for (const part of ['bin', 'scripts', 'src', 'package.json', 'tsconfig.json'])
    fs.cpSync(path.join(ROOT, part), path.join(copy, part), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  const first = spawnSync(process.execPath, [path.join(copy, 'bin/meshtv.js'), '--help'], { encoding: 'utf8' });
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /^meshtv — peer-to-peer live TV/);
  assert.match(first.stderr, /building dist\//);
  assert.ok(fs.existsSync(path.join(copy, 'dist/meshtv.js')));
  // Built once: the next run says nothing of it.
  const second = spawnSync(process.execPath, [path.join(copy, 'bin/meshtv.js'), '--help'], { encoding: 'utf8' });
  assert.equal(second.status, 0);
  assert.equal(second.stderr, '');
  fs.rmSync(copy, { recursive: true, force: true });
});
