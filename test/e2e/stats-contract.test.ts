// The names dashboards and scripts read from a running broadcaster and viewer: the fields of
// /stats.json (nested objects included) and the metric names of /metrics, checked against
// test/fixtures/stats-contract.json. A name may be added; none in the snapshot may disappear or
// be renamed. If one is meant to go, rewrite the snapshot with
// MESHTV_UPDATE_CONTRACT=1 node --import tsx --test --test-force-exit test/e2e/stats-contract.test.ts
// and say so in the commit.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ViewerStats } from '../../src/native/viewer-report.js';
import { getJson, meshtv, ROOT, startChannel, stopAll, waitUntil } from '../helpers/processes.js';

after(stopAll);

const SNAPSHOT = path.join(ROOT, 'test/fixtures/stats-contract.json');

/** Every field path of a JSON value: `a`, `a.b`; an array's elements as `a[]`, named once. */
function fieldPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.length > 0 ? fieldPaths(value[0], `${prefix}[]`) : [];
  if (typeof value !== 'object' || value === null) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const p = prefix === '' ? k : `${prefix}.${k}`;
    out.push(p, ...fieldPaths(v, p));
  }
  return out;
}

/** Our metric names (prom-client's process_ and nodejs_ metrics vary by platform). */
function metricNames(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1] as string).filter((n) => !/^(process|nodejs)_/.test(n));
}

test('a broadcaster and a viewer still answer every /stats.json field and /metrics name of the snapshot', { timeout: 90_000 }, async () => {
  const { uri, source } = await startChannel('stats contract', ['--http-port', '0']);
  const sourceBase = (await source.waitFor(/stats: (\S+)\/stats\.json/, 'stderr'))[1] as string;
  const viewer = meshtv(['watch', uri, '--no-dht', '--http-port', '0']);
  const viewerBase = (await viewer.waitFor(/^(http:\S+)\/stream\.ts$/m, 'stdout', 30_000))[1] as string;
  await waitUntil('the viewer plays', async () => (await getJson<ViewerStats>(`${viewerBase}/stats.json`)).chunksPlayed > 4, 30_000);
  const actual: Record<string, string[]> = {};
  for (const [who, base] of [
    ['broadcaster', sourceBase],
    ['viewer', viewerBase],
  ] as const) {
    actual[`${who} /stats.json`] = [...new Set(fieldPaths(await getJson(`${base}/stats.json`)))].sort();
    actual[`${who} /metrics`] = metricNames(await (await fetch(`${base}/metrics`)).text()).sort();
  }
  if (process.env.MESHTV_UPDATE_CONTRACT === '1') {
    fs.writeFileSync(SNAPSHOT, `${JSON.stringify(actual, null, 2)}\n`);
    return;
  }
  const expected = JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8')) as Record<string, string[]>;
  for (const [part, names] of Object.entries(expected)) {
    const missing = names.filter((n) => !(actual[part] ?? []).includes(n));
    assert.deepEqual(missing, [], `${part} lost names that users read (see this file's header)`);
  }
});
