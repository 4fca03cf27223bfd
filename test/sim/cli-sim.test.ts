// `meshtv sim` flags: bad values are UserErrors naming the flag; --json ends with one JSON line;
// --out writes the report and the plots.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { UserError } from '../../src/node/errors.js';
import { parseSimArgs, runSimCommand } from '../../src/sim/cli-sim.js';

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
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await runSimCommand(['--peers', '20,30', '--duration-s', '8', '--seed', '3', '--json', '--out', dir]);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(code, 0);
    const lines = printed.join('').trim().split('\n');
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
});
