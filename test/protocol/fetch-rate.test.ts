// FetchRateMeter: the download rate a viewer's fetches show, from request-to-arrival times and
// from the spacing of arrivals queued behind each other.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FetchRateMeter } from '../../src/protocol/fetch-rate.js';

test('no fetch, no rate; chunks that came unasked give none either', () => {
  const meter = new FetchRateMeter();
  assert.deepEqual(meter.rate(), { peakBps: undefined, samples: 0 });
  meter.noteArrival(100, 12_500, undefined);
  assert.deepEqual(meter.rate(), { peakBps: undefined, samples: 0 });
});

test('the second fastest of the recent fetches, so one lucky fetch does not set the rate', () => {
  const meter = new FetchRateMeter();
  // 10,000 bytes each, asked 1 s apart: 100 ms (800 kbit/s), 50 ms (1.6 Mbit/s), 200 ms (400 kbit/s).
  meter.noteArrival(100, 10_000, 0);
  meter.noteArrival(1050, 10_000, 1000);
  meter.noteArrival(2200, 10_000, 2000);
  assert.deepEqual(meter.rate(), { peakBps: 800_000, samples: 3 });
});

test('arrivals queued behind each other measure the link without the round trip', () => {
  const meter = new FetchRateMeter();
  // Both asked at 0; the second arrives 20 ms after the first: 10,000 bytes in 20 ms = 4 Mbit/s,
  // while request-to-arrival says at most 10,000 bytes in 300 ms.
  meter.noteArrival(280, 10_000, 0);
  meter.noteArrival(300, 10_000, 0);
  meter.noteArrival(320, 10_000, 0);
  assert.deepEqual(meter.rate(), { peakBps: 4_000_000, samples: 3 });
});

test('only the last 16 fetches count', () => {
  const meter = new FetchRateMeter();
  for (let i = 0; i < 2; i++) meter.noteArrival(i * 1000 + 10, 10_000, i * 1000); // 8 Mbit/s, long ago
  for (let i = 2; i < 18; i++) meter.noteArrival(i * 1000 + 100, 10_000, i * 1000); // 800 kbit/s
  assert.deepEqual(meter.rate(), { peakBps: 800_000, samples: 18 });
});
