// `meshtv sim` flags: bad values are UserErrors naming the flag; --json ends with one JSON line;
// --out writes the report and the plots; several seeds add the spread of each figure.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseSimArgs, runSimCommand } from '../../src/cli/sim.js';
import { UserError } from '../../src/common/errors.js';
import { type SimReport, seedSpread } from '../../src/sim/report.js';

describe('meshtv sim command line', () => {
  test('bad flags are user errors that name the problem', () => {
    const cases: [string[], RegExp][] = [
      [['--peers', 'many'], /--peers must be a number, got 'many'/],
      [['--peers', '10.5'], /--peers must be a whole number/],
      [['--peers', '0'], /--peers must be between/],
      [['--churn', '20'], /--churn must be between 0 and 1 \(a share: 0.2 means 20%\)/],
      [['--free-riders=1.5'], /--free-riders must be between 0 and 0.99/],
      [['--duration-s', ''], /--duration-s must be a number/],
      [['--rho', '0.01', '--peers', '10'], /--rho 0.01 is below what the source alone uploads/],
      [['--flash-crowd-s', '100', '--duration-s', '60'], /--flash-crowd-s must be between 0 and 60/],
      [['--bitrate-kbps', '50000', '--chunk-ms', '1000'], /exceed the .*-byte maximum/],
      [['--nonsense'], /Unknown option '--nonsense'/],
      [['extra'], /Unexpected argument 'extra'/],
      [['--renditions', 'low=600'], /--renditions needs two or more renditions/],
      [['--renditions', 'high=2500,low=600'], /lowest rate first/],
      [['--renditions', 'low:600,high=2500'], /entries are NAME=KBPS/],
      [['--renditions', 'low=600,high=2500', '--churn', '0.2'], /--churn is not simulated with --renditions/],
      [['--relay', 'playing'], /--weak-share and --relay need --renditions/],
      [['--renditions', 'low=600,high=2500', '--relay', 'all'], /--relay must be lowest or playing/],
      [['--seed', '1,x'], /--seed must be a number, got 'x'/],
      [['--seed', '2,3,2'], /--seed lists a seed twice/],
      [['--loss', '1'], /--loss must be between 0 and 0.2 \(a share: 0.2 means 20%\)/],
      [['--jitter-ms=-5'], /--jitter-ms must be between 0 and 1000/],
    ];
    for (const [args, pattern] of cases) {
      assert.throws(
        () => parseSimArgs(args),
        (err: unknown) => err instanceof UserError && pattern.test(err.message),
        `meshtv sim ${args.join(' ')}`,
      );
    }
  });

  test('a ladder parses to renditions, relaying the lowest unless told otherwise', () => {
    const parsed = parseSimArgs(['--renditions', 'low=600,high=2500', '--weak-share', '0.3']);
    assert.deepEqual(parsed?.config.renditions, [
      { name: 'low', bitrateBps: 600_000 },
      { name: 'high', bitrateBps: 2_500_000 },
    ]);
    assert.equal(parsed?.config.weakShare, 0.3);
    assert.equal(parsed?.config.relayLowest, true);
    assert.equal(parseSimArgs(['--renditions', 'a=300,b=900', '--relay', 'playing'])?.config.relayLowest, false);
  });

  test('--json prints the report as the last line; --out writes report and plots', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-sim-cli-'));
    const { code, lines } = await captured(['--peers', '20,30', '--duration-s', '8', '--seed', '3', '--json', '--out', dir]);
    assert.equal(code, 0);
    const last = JSON.parse(lines[lines.length - 1] as string);
    for (const key of [
      'peers',
      'S',
      'continuity',
      'lagMs',
      'startupMs',
      'overhead',
      'duplicates',
      'wallMs',
      'rho',
      'churn',
      'seed',
      'N',
      'r',
    ])
      assert.ok(key in last, `missing ${key}`);
    assert.equal(last.N, 30);
    assert.equal(typeof last.continuity.p50, 'number');
    assert.equal(last.r, 1_000_000);
    for (const f of ['report.json', 'report.md', 'continuity.svg', 'lag.svg', 'startup.svg', 's-vs-n.svg'])
      assert.ok(fs.existsSync(path.join(dir, f)), f);
    assert.match(fs.readFileSync(path.join(dir, 'lag.svg'), 'utf8'), /^<svg [^>]*>[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')).length, 2);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('several seeds: one run per seed, then the min, median and max of each figure over them', async () => {
    assert.deepEqual(parseSimArgs(['--seed', '4,1,9'])?.seeds, [4, 1, 9]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-sim-seeds-'));
    const { code, lines } = await captured(['--peers', '20', '--duration-s', '6', '--seed', '5,6,7', '--json', '--out', dir]);
    assert.equal(code, 0);
    const runs = lines.slice(0, 3).map((l) => JSON.parse(l));
    assert.deepEqual(
      runs.map((r) => r.seed),
      [5, 6, 7],
    );
    const last = JSON.parse(lines[lines.length - 1] as string);
    assert.equal(lines.length, 4);
    assert.equal(last.peers, 20);
    assert.deepEqual(last.seeds, [5, 6, 7]);
    const lags = runs.map((r) => r.lagMs.p95 as number).sort((a, b) => a - b);
    assert.deepEqual(last.spread['lagMs.p95'], { min: lags[0], median: lags[1], max: lags[2] });
    const events = runs.map((r) => r.events as number);
    assert.ok(new Set(events).size > 1, 'the seeds made no difference: were they passed on?');
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
    assert.equal(report.runs.length, 3);
    assert.deepEqual(report.spreads, [last]);
    assert.match(fs.readFileSync(path.join(dir, 'report.md'), 'utf8'), /## N = 20, seeds 5, 6, 7[\s\S]*\| lagMs.p95 \|/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('--jobs runs the sweep on worker threads and prints the same reports in the same order', async () => {
    assert.equal(parseSimArgs([])?.jobs, 1);
    assert.throws(() => parseSimArgs(['--jobs', '0']), /--jobs must be between 1 and 64/);
    const args = ['--peers', '20,24', '--duration-s', '5', '--seed', '2,3', '--json'];
    const alone = await captured(args);
    const pooled = await captured([...args, '--jobs', '3']);
    assert.equal(pooled.code, 0);
    // Wall time and memory are the only fields a run's circumstances may change.
    const figures = (lines: string[]) =>
      lines.map((l) => {
        const { wallMs: _w, peakRssMB: _m, ...rest } = JSON.parse(l);
        return rest;
      });
    assert.equal(pooled.lines.length, 6, 'four runs and a spread after each audience size');
    assert.deepEqual(figures(pooled.lines), figures(alone.lines));
    assert.deepEqual(
      figures(pooled.lines).map((r) => [r.peers, r.seed ?? r.seeds]),
      [
        [20, 2],
        [20, 3],
        [20, [2, 3]],
        [24, 2],
        [24, 3],
        [24, [2, 3]],
      ],
    );
  });
});

describe('seedSpread', () => {
  test('min, median and max per figure; a figure no run had is null', () => {
    const base = buildReportOf(0.99, 1000);
    const reports = [
      { ...base, seed: 1, S: 1.4, continuity: { p50: 1, p5: 0.97, mean: 0.99 } },
      { ...base, seed: 2, S: 1.5, continuity: { p50: 1, p5: 0.99, mean: 0.99 } },
      { ...base, seed: 3, S: 1.45, continuity: { p50: 1, p5: 0.98, mean: 0.99 } },
      { ...base, seed: 4, S: 1.3, continuity: { p50: 1, p5: 0.95, mean: 0.99 } },
    ].map((r) => ({ ...r, startupMs: { p50: null, p95: null }, wallMs: 10 }));
    const s = seedSpread(reports);
    assert.deepEqual(s.seeds, [1, 2, 3, 4]);
    assert.deepEqual(s.spread.S, { min: 1.3, median: 1.4, max: 1.5 });
    assert.deepEqual(s.spread['continuity.p5'], { min: 0.95, median: 0.97, max: 0.99 });
    assert.equal(s.spread['startupMs.p95'], null);
    assert.equal(s.wallMs, 40);
  });
});

function buildReportOf(continuity: number, lagMs: number): SimReport {
  return {
    peers: 10,
    N: 10,
    r: 1_000_000,
    rho: 1.25,
    churn: 0,
    seed: 1,
    durationS: 10,
    freeRiders: 0.2,
    joinWindowS: 10,
    S: 1,
    continuity: { p50: continuity, p5: continuity, mean: continuity },
    lagMs: { p50: lagMs, p95: lagMs },
    startupMs: { p50: 500, p95: 900 },
    overhead: 0.01,
    duplicates: 0,
    wallMs: 1,
    peakRssMB: 1,
    viewersSimulated: 10,
    neverStarted: 0,
    freeRiderMediaBytesOut: 0,
    events: 1,
    misbehaved: 0,
    misbehavedReasons: {},
  };
}

/** Runs `meshtv sim` with its printing captured: the exit code and the lines printed. */
async function captured(args: string[]): Promise<{ code: number; lines: string[] }> {
  const printed: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  // The command writes strings; the test runner's own reports (bytes) pass through, as they
  // go out while the runs of --jobs are awaited.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string') return write(chunk, ...rest);
    printed.push(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await runSimCommand(args);
    return { code, lines: printed.join('').trim().split('\n') };
  } finally {
    process.stdout.write = write;
  }
}
