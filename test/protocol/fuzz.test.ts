// A short run of the fuzzer (bench/fuzz.ts) in every test run: random and mutated frames at
// the codec, framing and core, random requests at the tracker; zero crashes allowed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFuzz } from '../../bench/fuzz.js';

test('fuzzed frames and requests crash nothing', { timeout: 60_000 }, async (t) => {
  const report = await runFuzz({ seed: 20261125, codecInputs: 60_000, coreInputs: 10_000, trackerRequests: 1500 });
  t.diagnostic(
    `seed ${report.seed}: ${report.totalInputs} inputs in ${report.wallMs} ms, heap ${report.heapStartMB} -> ${report.heapEndMB} MB`,
  );
  assert.deepEqual(report.crashes, [], `crashes with seed ${report.seed}`);
  assert.ok(report.coreInputs > 1000, 'too few inputs reached the core');
  assert.ok(report.trackerRequests === 1500);
});
