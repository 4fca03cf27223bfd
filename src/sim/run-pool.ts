// Runs the simulations `meshtv sim` asks for: one after the other, or several at once on
// worker threads (--jobs), each run alone in its thread, so a sweep over seeds or audience
// sizes uses every core. A run does not depend on what else runs: same seed, same report.
// Results come back in the order the runs were listed, whatever order they finish in.

import v8 from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { buildReport, type ReportDistributions, type SimReport } from './report.js';
import type { SimConfig } from './sim-config.js';
import { Simulator } from './simulator.js';

export interface SimRun {
  report: SimReport;
  cdfs: ReportDistributions;
}

/** What a worker is started with (the marker tells this module's copy in the worker to run it). */
interface WorkerJob {
  readonly kind: 'meshtv-sim-run';
  readonly config: Partial<SimConfig>;
  readonly progress: boolean;
}

/**
 * One simulation in this thread. Progress goes to stderr every 10 s of virtual time and at
 * least once a minute; peak RSS is the whole process's (all runs of a --jobs sweep at once).
 */
export function runOne(config: Partial<SimConfig>, progress: boolean, label = ''): SimRun {
  const started = performance.now();
  let peakRss = process.memoryUsage.rss();
  const sim = new Simulator(config);
  let reportedAt = started;
  const result = sim.run((virtualMs) => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const now = performance.now();
    // Every 10 s of virtual time, and at least once a minute: a big run takes minutes per second.
    if (progress && (virtualMs % 10_000 === 0 || now - reportedAt >= 60_000)) {
      reportedAt = now;
      process.stderr.write(
        `sim${label}: ${virtualMs / 1000} s of ${config.durationS} s, ${((now - started) / 1000).toFixed(1)} s wall, ${Math.round(peakRss / 2 ** 20)} MB peak RSS\n`,
      );
    }
  });
  return buildReport(result, performance.now() - started, peakRss / 2 ** 20);
}

/**
 * Runs every config, up to `jobs` at a time on worker threads (1: here, one after the other),
 * and hands each result to `onRun` in list order as soon as it and all before it are done.
 */
export async function runAll(
  configs: readonly Partial<SimConfig>[],
  jobs: number,
  progress: boolean,
  onRun: (run: SimRun, index: number) => void,
): Promise<void> {
  if (jobs <= 1 || configs.length <= 1) {
    configs.forEach((config, i) => {
      onRun(runOne(config, progress), i);
    });
    return;
  }
  const results: (SimRun | undefined)[] = configs.map(() => undefined);
  let delivered = 0;
  const deliver = () => {
    for (let r = results[delivered]; r !== undefined; r = results[delivered]) {
      onRun(r, delivered);
      results[delivered] = undefined;
      delivered++;
    }
  };
  // Each worker may grow its heap as far as this process may (node --max-old-space-size=...).
  const heapMb = Math.floor(v8.getHeapStatistics().heap_size_limit / 2 ** 20);
  const running = new Set<Worker>();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < configs.length; i = next++) {
      const config = configs[i] as Partial<SimConfig>;
      results[i] = await runInWorker({ kind: 'meshtv-sim-run', config, progress }, heapMb, running);
      deliver();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, configs.length) }, worker));
  } catch (err) {
    // One run failed (out of memory, say): the others would only keep the process alive.
    next = configs.length;
    await Promise.all([...running].map((w) => w.terminate()));
    throw err;
  }
}

function runInWorker(job: WorkerJob, heapMb: number, running: Set<Worker>): Promise<SimRun> {
  return new Promise((resolve, reject) => {
    let run: SimRun | undefined;
    const w = new Worker(workerEntry(), { eval: true, workerData: job, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
    running.add(w);
    w.once('exit', () => running.delete(w));
    w.once('message', (m: SimRun) => {
      run = m;
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (run !== undefined) resolve(run);
      else
        reject(new Error(`sim: the run with seed ${job.config.seed} and ${job.config.peers} peers ended without a report (exit ${code})`));
    });
  });
}

/**
 * The worker's first code: it loads this module (in a build, the bundle that holds it). Run from
 * the TypeScript sources (tests, bench/sim.ts under tsx) it first registers tsx, whose loader
 * a worker does not inherit.
 */
function workerEntry(): string {
  const self = import.meta.url;
  const tsx = self.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : undefined;
  const load = `import(${JSON.stringify(self)})`;
  return tsx === undefined ? load : `import(${JSON.stringify(tsx)}).then((m) => m.register()).then(() => ${load})`;
}

// In a worker started by runInWorker (this module, or the bundle that holds it): run the job.
const job = isMainThread ? undefined : (workerData as WorkerJob | undefined);
if (job?.kind === 'meshtv-sim-run') {
  const label = ` N=${job.config.peers} seed=${job.config.seed}`;
  parentPort?.postMessage(runOne(job.config, job.progress, label));
}
