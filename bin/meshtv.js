#!/usr/bin/env node
// Entry point of the meshtv command. Its code is built from src/ into dist/ (`npm run build`,
// and by `npm start` and `npm test`); a checkout fresh from `npm ci` builds it here, on its
// first run, rather than failing to find dist/. An installed package ships dist/ (built by the
// prepack script) and no src/, so it never builds.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/meshtv.js', import.meta.url));
if (!fs.existsSync(dist)) {
  const build = fileURLToPath(new URL('../scripts/build.mjs', import.meta.url));
  process.stderr.write('meshtv: building dist/ (the first run of this checkout)\n');
  const built = fs.existsSync(build) && spawnSync(process.execPath, [build], { stdio: 'inherit' }).status === 0;
  if (!built) {
    process.stderr.write('meshtv: error: dist/ is missing and could not be built here; run `npm ci && npm run build`\n');
    process.exit(1);
  }
}
const { run } = await import('../dist/meshtv.js');
run(process.argv.slice(2));
