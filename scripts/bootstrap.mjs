// Runs before `npm start` and `npm test` on any machine, fresh or not: installs the npm
// packages when node_modules is missing or older than the lock file, then builds dist/.
// Idempotent and quick when everything is already in place. Uses only node built-ins.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mtime = (p) => {
  try {
    return fs.statSync(path.join(root, p)).mtimeMs;
  } catch {
    return -1;
  }
};

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`bootstrap: ${cmd} ${args.join(' ')} failed\n`);
    process.exit(r.status ?? 1);
  }
}

const installed = mtime('node_modules/.package-lock.json');
if (installed < 0 || installed < mtime('package-lock.json')) {
  process.stderr.write('bootstrap: installing npm packages (npm ci)\n');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
run(process.execPath, [path.join(root, 'scripts/build.mjs')]);

// The test suite drives a real browser: Debian's Chromium (playwright-core cannot download one).
if (process.argv.includes('--test') && !fs.existsSync(process.env.MESHTV_CHROMIUM || '/usr/bin/chromium')) {
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      'bootstrap: Chromium is missing and this is not root: run apt-get install chromium, or the browser tests are skipped\n',
    );
  } else {
    process.stderr.write('bootstrap: installing Chromium for the browser tests (apt-get install chromium)\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const apt = (args) => spawnSync('apt-get', args, { cwd: root, stdio: 'inherit', env }).status === 0;
    if (!apt(['install', '-y', '-qq', 'chromium']) && !(apt(['update', '-qq']) && apt(['install', '-y', '-qq', 'chromium']))) {
      process.stderr.write('bootstrap: could not install Chromium\n');
      process.exit(1);
    }
  }
}
