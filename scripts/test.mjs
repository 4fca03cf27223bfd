// `npm test`: lint and format check (Biome, with src/'s file and function length limits), strict
// type check (tsc --noEmit), the layer rules (dependency-cruiser), then every
// test file under test/ with node's test runner, which prints the pass/fail summary.
// `node scripts/test.mjs FILE...` runs only those files.
//
// `npm run test:unit` (`--unit`): the fast tests only, for a quick run while working, no checks
// (the whole suite runs them too, first, two at a time).
// They are the *.test.ts files under UNIT_DIRS, except
//   - a file that starts another program (ffmpeg, a meshtv process, a browser): it imports
//     node:child_process or one of the helpers that start one (STARTS_A_PROGRAM below);
//   - a file named *.slow.test.ts: tens of seconds on its own (whole-swarm simulations).
// test/e2e (real processes), test/browser (Chromium) and network namespaces stay out by folder.
//
// `npm run test:long` (`--long`): the tests under test/long, which take minutes each (long runs,
// disk bounds over half an hour); `npm test` leaves them out.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules/.bin', name);

const UNIT_DIRS = ['common', 'crypto', 'protocol', 'api', 'runtime', 'transport', 'tracker', 'media', 'sim', 'native', 'cli'];
const STARTS_A_PROGRAM =
  /from 'node:child_process'|import\s*{[^}]*\b(meshtv|startChannel|decode|makeTestClip|ffmpegPath|launchBrowser)\b[^}]*}\s*from/;

function step(label, cmd, args) {
  process.stderr.write(`\n== ${label}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`== ${label} failed\n`);
    process.exit(r.status ?? 1);
  }
}

function testFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(p));
    else if (entry.name.endsWith('.test.ts')) out.push(path.relative(root, p));
  }
  return out.sort();
}

/** Every test file of `npm test`: all under test/ but the long ones. */
function suiteFiles() {
  const long = path.join(root, 'test', 'long');
  const out = [];
  for (const f of testFiles(path.join(root, 'test'))) {
    if (!path.join(root, f).startsWith(`${long}${path.sep}`)) out.push(f);
  }
  return out.sort();
}

function unitFiles() {
  return UNIT_DIRS.flatMap((d) => testFiles(path.join(root, 'test', d))).filter(
    (f) => !f.endsWith('.slow.test.ts') && !STARTS_A_PROGRAM.test(fs.readFileSync(path.join(root, f), 'utf8')),
  );
}

const args = process.argv.slice(2);
const runner = (concurrency, list, timeoutMs = 240_000) => [
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  `--test-concurrency=${concurrency}`,
  '--test-force-exit',
  `--test-timeout=${timeoutMs}`,
  ...list,
];
if (args[0] === '--unit') {
  // Unit tests hold no shared ports or files, so two run side by side.
  step(`unit tests (${unitFiles().length} files)`, process.execPath, runner(2, unitFiles(), 60_000));
  process.exit(0);
}
const long = args[0] === '--long';
if (args.length === 0 && !long) {
  step('lint (biome)', bin('biome'), ['check', '.']);
  step('type check (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']);
  step('layers (dependency-cruiser)', bin('depcruise'), ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err']);
}
const files = long
  ? fs.existsSync(path.join(root, 'test', 'long'))
    ? testFiles(path.join(root, 'test', 'long'))
    : []
  : args.length > 0
    ? args
    : suiteFiles();
if (args.length === 0) {
  // The whole suite: the unit tests two at a time (they hold no shared ports or files), then
  // the rest one at a time (real processes and browsers, timed against each other).
  const unit = new Set(unitFiles());
  step(`unit tests (${unit.size} files, two at a time)`, process.execPath, runner(2, [...unit]));
  step(
    'tests (node --test)',
    process.execPath,
    runner(
      1,
      files.filter((f) => !unit.has(f)),
    ),
  );
} else step('tests (node --test)', process.execPath, runner(1, files));
