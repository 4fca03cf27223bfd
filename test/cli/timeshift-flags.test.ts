// --timeshift and --timeshift-max-size: the forms people write, and a clear error for the rest.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSizeBytes, parseTimeshiftWindowMs, timeshiftOption } from '../../src/cli/timeshift-flags.js';

test('--timeshift: 90s, 30m, 2h, 1.5h; 0 and off for none', () => {
  assert.equal(parseTimeshiftWindowMs('90s'), 90_000);
  assert.equal(parseTimeshiftWindowMs('30m'), 1_800_000);
  assert.equal(parseTimeshiftWindowMs('2h'), 7_200_000);
  assert.equal(parseTimeshiftWindowMs('1.5h'), 5_400_000);
  assert.equal(parseTimeshiftWindowMs(' 20S '), 20_000);
  assert.equal(parseTimeshiftWindowMs('0'), 0);
  assert.equal(parseTimeshiftWindowMs('off'), 0);
});

test('--timeshift: a clear error for what is not a duration, or out of 10s-24h', () => {
  for (const bad of ['30', '30min', '-5m', '5s', '25h', 'abc', '', '1e3s', 'm']) {
    assert.throws(
      () => parseTimeshiftWindowMs(bad),
      new RegExp(`^UserError: --timeshift must be a duration from 10s to 24h \\(90s, 30m, 2h\\) or off, got "${bad}"$`),
      bad,
    );
  }
});

test('--timeshift-max-size: K, M, G, T in 1024s, with or without B or iB; a clear error otherwise', () => {
  assert.equal(parseSizeBytes('500M', '--timeshift-max-size'), 500 * 1024 ** 2);
  assert.equal(parseSizeBytes('2G', '--timeshift-max-size'), 2 * 1024 ** 3);
  assert.equal(parseSizeBytes('1.5GiB', '--timeshift-max-size'), 1.5 * 1024 ** 3);
  assert.equal(parseSizeBytes('800mb', '--timeshift-max-size'), 800 * 1024 ** 2);
  for (const bad of ['500', '10k', '2P', 'lots', '-1G', '2 T B']) {
    assert.throws(
      () => parseSizeBytes(bad, '--timeshift-max-size'),
      /^UserError: --timeshift-max-size must be a size from 1M to 1T \(500M, 2G, 1\.5GiB\), got ".*"$/,
      bad,
    );
  }
});

test('the two flags together: off by default, a bound needs a window', () => {
  assert.equal(timeshiftOption({}), undefined);
  assert.deepEqual(timeshiftOption({ timeshift: '30m' }), { windowMs: 1_800_000 });
  assert.deepEqual(timeshiftOption({}, '30m'), { windowMs: 1_800_000 });
  assert.deepEqual(timeshiftOption({ timeshift: '2m', 'timeshift-max-size': '1G' }), { windowMs: 120_000, maxBytes: 1024 ** 3 });
  assert.throws(
    () => timeshiftOption({ 'timeshift-max-size': '1G' }),
    /--timeshift-max-size needs a timeshift window: add --timeshift 30m/,
  );
  assert.throws(() => timeshiftOption({ timeshift: 'off', 'timeshift-max-size': '1G' }), /needs a timeshift window/);
});
