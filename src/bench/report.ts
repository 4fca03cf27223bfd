// The files of `meshtv bench --out DIR`: report.json, report.md and CDF plots of both sides.

import fs from 'node:fs';
import path from 'node:path';
import { cdfOf } from '../sim/metrics.js';
import { linePlot } from '../sim/svg-plot.js';
import type { ViewerMeasures } from './fanout.js';
import type { BenchOptions } from './options.js';
import type { BenchResult, SideSummary } from './results.js';

export function writeReport(o: BenchOptions, result: BenchResult, viewers: ViewerMeasures[], clients: ViewerMeasures[]): void {
  const out = o.outDir as string;
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'report.json'), `${JSON.stringify({ options: o, ...result }, null, 2)}\n`);
  const cdf = (title: string, x: string, pick: (m: ViewerMeasures) => number | undefined) =>
    linePlot(
      [
        { name: 'meshtv', points: cdfOf(viewers.flatMap((m) => (pick(m) === undefined ? [] : [pick(m) as number]))) },
        { name: 'HTTP fan-out', points: cdfOf(clients.flatMap((m) => (pick(m) === undefined ? [] : [pick(m) as number]))) },
      ],
      { title, xLabel: x, yLabel: 'share of viewers', steps: true, yMin: 0, yMax: 1 },
    );
  fs.writeFileSync(
    path.join(out, 'continuity.svg'),
    cdf('Continuity', 'continuity', (m) => m.continuity),
  );
  fs.writeFileSync(
    path.join(out, 'lag.svg'),
    cdf('Lag behind capture', 'ms', (m) => m.lagMs),
  );
  fs.writeFileSync(
    path.join(out, 'startup.svg'),
    cdf('Startup', 'ms', (m) => m.startupMs),
  );
  fs.writeFileSync(path.join(out, 'report.md'), reportMarkdown(o, result));
}

function reportMarkdown(o: BenchOptions, result: BenchResult): string {
  const row = (name: string, s: SideSummary) =>
    `| ${name} | ${s.S} | ${s.continuity.p50} / ${s.continuity.p5} | ${s.lagMs.p50} / ${s.lagMs.p95} | ${s.startupMs.p50} / ${s.startupMs.p95} | ${s.overhead} |`;
  return [
    `# meshtv bench: N = ${o.peers}, rho = ${o.rho}, free riders ${o.freeRiders}, churn ${o.churnPerMin}/min, ${o.durationS} s, caps ${result.mode === 'netns' ? 'tc tbf per host namespace' : 'app-level'}`,
    '',
    '| | S | continuity p50 / p5 | lag ms p50 / p95 | startup ms p50 / p95 | overhead |',
    '|---|---|---|---|---|---|',
    row('meshtv', result.meshtv),
    row('HTTP fan-out', result.httpFanout),
    '',
    '![continuity](continuity.svg) ![lag](lag.svg) ![startup](startup.svg)',
    '',
  ].join('\n');
}
