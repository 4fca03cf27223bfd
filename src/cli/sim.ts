// `meshtv sim`: parses the scenario flags, runs the simulator once per --peers value and seed,
// prints the figures (with --json, the last line is one JSON object; with several seeds, the
// spread of each figure over them) and with --out writes report.json, report.md and SVG
// plots. Wall time and memory are measured here, never inside the simulator.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UserError } from '../common/errors.js';
import { CHUNK_MS, MAX_CHUNK_PAYLOAD_BYTES } from '../protocol/chunk.js';
import { ATTACKS, type AttackKind } from '../sim/hostile.js';
import {
  type AbrClassReport,
  type AbrReport,
  type ReportDistributions,
  reportMarkdown,
  type SeedSpread,
  type SimReport,
  seedSpread,
} from '../sim/report.js';
import { runAll, type SimRun } from '../sim/run-pool.js';
import { DEFAULT_SIM_CONFIG, type SimConfig, type SimRendition } from '../sim/sim-config.js';
import { linePlot, type Series } from '../sim/svg-plot.js';

const USAGE = `meshtv sim — the swarm protocol with virtual peers, in virtual time

Usage:
  meshtv sim [--peers N[,N...]] [--duration-s D] [--rho R] [--free-riders F] [--churn PER_MIN]
             [--flash-crowd-s T] [--seed S[,S...]] [--bitrate-kbps K] [--chunk-ms MS] [--source-upload X]
             [--loss F] [--jitter-ms J] [--renditions NAME=KBPS,... [--weak-share F] [--relay lowest|playing]]
             [--attackers F --attack KIND]
             [--out DIR] [--json] [--progress] [--jobs J]

  --peers N          viewers (default 200); several comma-separated values run one simulation each
  --duration-s D     seconds of stream (default 60)
  --rho R            resource index (source + viewers' upload) / (N x r) (default 1.25)
  --free-riders F    share of viewers that upload nothing, 0..1 (default 0.2)
  --churn PER_MIN    share of the audience leaving per minute without goodbye, 0..1 (0.2 = 20%/min; default 0)
  --flash-crowd-s T  the whole audience joins within T seconds (default 10)
  --seed S           random seed, 0..4294967295 (default 1): same seed, same report; several
                     comma-separated seeds run each scenario once per seed and add, per N, each
                     figure's min, median and max over them
  --bitrate-kbps K   stream bitrate r (default 1000)
  --chunk-ms MS      media time per chunk (default ${CHUNK_MS})
  --source-upload X  the broadcaster's upload granted to the swarm, in multiples of r (default 1.5)
  --loss F           share of packets lost on peer links, 0..0.2 (default 0): links are reliable and
                     ordered, so each loss delays its message, and what follows it, by a retransmission
  --jitter-ms J      mean of an exponential queueing delay added to every peer message (default 0)
  --renditions L     a quality ladder, e.g. low=600,high=2500 (kbit/s): one swarm per rendition, viewers
                     adapting as native viewers do, on a mixed audience of weak and strong lines (rho and
                     --bitrate-kbps do not apply; S counts copies of the whole ladder)
  --weak-share F     with --renditions: share of viewers on weak lines (default 0.5)
  --relay WHAT       with --renditions: lowest (default: viewers above the lowest rendition keep relaying
                     it, as native viewers do) or playing (viewers relay only what they play)
  --attackers F      hostile peers besides the N viewers, as a share of N (default 0); the figures are
                     the honest viewers'
  --attack KIND      what they do: slots (hold links, ask for nothing held), liar (advertise chunks
                     they refuse), flood (HAVEs and buffer maps past every budget), replay (offer
                     chunks a minute old) (default slots)
  --out DIR          write report.json, report.md and SVG plots there
  --json             print one JSON object per run; the last line printed is the last run's (with
                     several seeds, the spread of the last N: {peers, seeds, spread: {FIGURE: {min,
                     median, max}}, wallMs})
  --jobs J           run up to J simulations at once, each on its own thread (default 1): a sweep over
                     seeds or --peers values on all cores; results print in the same order
  --progress         print the virtual time reached to stderr every 10 s of virtual time (and at
                     least once a minute of wall time), with the peak memory so far
`;

interface ParsedArgs {
  peers: number[];
  seeds: number[];
  config: Partial<SimConfig>;
  out: string | undefined;
  json: boolean;
  progress: boolean;
  /** Simulations run at once, each on its own thread. */
  jobs: number;
}

export async function runSimCommand(args: string[]): Promise<number> {
  const parsed = parseSimArgs(args);
  if (parsed === undefined) {
    process.stdout.write(USAGE);
    return 0;
  }
  const reports: SimRun[] = [];
  const spreads: SeedSpread[] = [];
  const configs = parsed.peers.flatMap((peers) => parsed.seeds.map((seed) => ({ ...parsed.config, peers, seed })));
  await runAll(configs, parsed.jobs, parsed.progress, (r, i) => {
    reports.push(r);
    process.stdout.write(`${parsed.json ? JSON.stringify(r.report) : humanSummary(r.report)}\n`);
    // The last seed of an audience size: the spread over its seeds.
    if (parsed.seeds.length < 2 || (i + 1) % parsed.seeds.length !== 0) return;
    const spread = seedSpread(reports.slice(-parsed.seeds.length).map((run) => run.report));
    spreads.push(spread);
    process.stdout.write(`${parsed.json ? JSON.stringify(spread) : spreadSummary(spread)}\n`);
  });
  if (parsed.out !== undefined) writeReport(parsed.out, reports, spreads);
  return 0;
}

/** The flags of `meshtv sim` (USAGE says what each does). */
const SIM_OPTIONS = {
  peers: { type: 'string' },
  'duration-s': { type: 'string' },
  rho: { type: 'string' },
  'free-riders': { type: 'string' },
  churn: { type: 'string' },
  'flash-crowd-s': { type: 'string' },
  seed: { type: 'string' },
  'bitrate-kbps': { type: 'string' },
  'chunk-ms': { type: 'string' },
  'source-upload': { type: 'string' },
  loss: { type: 'string' },
  'jitter-ms': { type: 'string' },
  renditions: { type: 'string' },
  'weak-share': { type: 'string' },
  relay: { type: 'string' },
  attackers: { type: 'string' },
  attack: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  progress: { type: 'boolean' },
  jobs: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseSimArgs(args: string[]): ParsedArgs | undefined {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: SIM_OPTIONS,
    }).values;
  } catch (err) {
    throw new UserError(`sim: ${(err as Error).message}`);
  }
  if (values.help) return undefined;
  const str = (name: string) => values[name] as string | undefined;
  const peers = (str('peers') ?? String(DEFAULT_SIM_CONFIG.peers)).split(',').map((v) => int('--peers', v, 2, 1_000_000));
  const seeds = (str('seed') ?? String(DEFAULT_SIM_CONFIG.seed)).split(',').map((v) => int('--seed', v, 0, 2 ** 32 - 1));
  if (new Set(seeds).size !== seeds.length) throw new UserError('sim: --seed lists a seed twice (same seed, same report)');
  const config: Partial<SimConfig> = {
    durationS: num('--duration-s', str('duration-s'), DEFAULT_SIM_CONFIG.durationS, 1, 86_400),
    rho: num('--rho', str('rho'), DEFAULT_SIM_CONFIG.rho, 0.01, 1000),
    freeRiders: num('--free-riders', str('free-riders'), DEFAULT_SIM_CONFIG.freeRiders, 0, 0.99),
    churnPerMin: num('--churn', str('churn'), DEFAULT_SIM_CONFIG.churnPerMin, 0, 1),
    bitrateBps: 1000 * num('--bitrate-kbps', str('bitrate-kbps'), DEFAULT_SIM_CONFIG.bitrateBps / 1000, 8, 100_000),
    chunkMs: int('--chunk-ms', str('chunk-ms') ?? String(DEFAULT_SIM_CONFIG.chunkMs), 20, 10_000),
    sourceUploadFactor: num('--source-upload', str('source-upload'), DEFAULT_SIM_CONFIG.sourceUploadFactor, 1, 1000),
    loss: num('--loss', str('loss'), DEFAULT_SIM_CONFIG.loss, 0, 0.2),
    jitterMs: num('--jitter-ms', str('jitter-ms'), DEFAULT_SIM_CONFIG.jitterMs, 0, 1000),
  };
  const ladder = str('renditions');
  if (ladder !== undefined) {
    config.renditions = parseSimLadder(ladder);
    if ((config.churnPerMin as number) > 0) throw new UserError('sim: --churn is not simulated with --renditions yet');
  } else if (str('weak-share') !== undefined || str('relay') !== undefined) {
    throw new UserError('sim: --weak-share and --relay need --renditions');
  }
  config.weakShare = num('--weak-share', str('weak-share'), DEFAULT_SIM_CONFIG.weakShare, 0, 1);
  const relay = str('relay') ?? 'lowest';
  if (relay !== 'lowest' && relay !== 'playing') throw new UserError(`sim: --relay must be lowest or playing, got '${relay}'`);
  config.relayLowest = relay === 'lowest';
  config.attackers = num('--attackers', str('attackers'), DEFAULT_SIM_CONFIG.attackers, 0, 1);
  const attack = str('attack') ?? DEFAULT_SIM_CONFIG.attack;
  if (!(ATTACKS as readonly string[]).includes(attack))
    throw new UserError(`sim: --attack must be one of ${ATTACKS.join(', ')}, got '${attack}'`);
  config.attack = attack as AttackKind;
  if (str('attack') !== undefined && config.attackers === 0) throw new UserError('sim: --attack needs --attackers');
  if (config.attackers > 0 && ladder !== undefined) throw new UserError('sim: --attackers is not simulated with --renditions yet');
  config.joinWindowS = num('--flash-crowd-s', str('flash-crowd-s'), DEFAULT_SIM_CONFIG.joinWindowS, 0, config.durationS as number);
  const topBps = Math.max(config.bitrateBps as number, ...(config.renditions ?? []).map((r) => r.bitrateBps));
  const payload = (topBps * (config.chunkMs as number)) / 8000;
  if (payload > MAX_CHUNK_PAYLOAD_BYTES)
    throw new UserError(
      `sim: chunks of ${Math.round(payload)} bytes exceed the ${MAX_CHUNK_PAYLOAD_BYTES}-byte maximum; lower --bitrate-kbps or --chunk-ms`,
    );
  for (const n of config.renditions === undefined ? peers : []) {
    const sourceShare = (config.sourceUploadFactor as number) / n;
    if ((config.rho as number) < sourceShare)
      throw new UserError(`sim: --rho ${config.rho} is below what the source alone uploads with --peers ${n} (${sourceShare.toFixed(3)})`);
  }
  const out = str('out');
  if (out !== undefined && out.trim() === '') throw new UserError('sim: --out needs a directory');
  return {
    peers,
    seeds,
    config: { ...config, seed: seeds[0] as number },
    out,
    json: values.json === true,
    progress: values.progress === true,
    jobs: int('--jobs', str('jobs') ?? '1', 1, 64),
  };
}

function humanSummary(r: SimReport): string {
  const f = (x: number | null, d = 0) => (x === null ? 'n/a' : x.toFixed(d));
  return [
    `N=${r.N} r=${r.r / 1000} kbit/s rho=${r.rho} free riders=${r.freeRiders} churn=${r.churn}/min seed=${r.seed} duration=${r.durationS} s`,
    `  S=${r.S.toFixed(3)}  continuity p50=${f(r.continuity.p50, 4)} p5=${f(r.continuity.p5, 4)}`,
    `  lag p50=${f(r.lagMs.p50)} ms p95=${f(r.lagMs.p95)} ms  startup p50=${f(r.startupMs.p50)} ms p95=${f(r.startupMs.p95)} ms`,
    `  overhead=${(r.overhead * 100).toFixed(2)}%  duplicates=${(r.duplicates * 100).toFixed(2)}%  never started=${r.neverStarted}`,
    ...(r.path === undefined ? [] : [`  peer links: ${(r.path.loss * 100).toFixed(2)}% packets lost, ${r.path.jitterMs} ms mean jitter`]),
    ...(r.hostile === undefined
      ? []
      : [
          `  hostile: ${r.hostile.peers} ${r.hostile.attack} peers (figures above are the honest viewers'), dropped ${r.hostile.dropped} times`,
        ]),
    `  wall=${(r.wallMs / 1000).toFixed(1)} s  peak RSS=${r.peakRssMB} MB  events=${r.events}`,
    ...(r.abr === undefined ? [] : abrSummary(r.abr)),
  ].join('\n');
}

function spreadSummary(s: SeedSpread): string {
  const lines = [`N=${s.peers} over seeds ${s.seeds.join(',')}: min / median / max`];
  for (const [name, v] of Object.entries(s.spread))
    lines.push(`  ${name.padEnd(16)}${v === null ? 'n/a' : `${v.min} / ${v.median} / ${v.max}`}`);
  lines.push(`  wall=${(s.wallMs / 1000).toFixed(1)} s in all`);
  return lines.join('\n');
}

function abrSummary(a: AbrReport): string[] {
  const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
  const names = a.ladder.map((l) => l.name);
  const line = (what: string, c: AbrClassReport) =>
    `  ${what}: ${c.viewers} viewers, continuity p50=${f(c.continuity.p50)} p5=${f(c.continuity.p5)}, ` +
    `played ${names.map((n, i) => `${n} ${Math.round((c.playedShare[i] ?? 0) * 100)}%`).join(' ')}, ` +
    `at the end on ${names.map((n, i) => `${n} ${c.finalOn[i]}`).join(' ')}, switches up ${c.switchesUp} down ${c.switchesDown}`;
  return [
    `  ladder ${a.ladder.map((l) => `${l.name}=${l.bitrateBps / 1000}k`).join(',')}${a.relayLowest ? ', viewers above it relay the lowest' : ', viewers relay only what they play'}`,
    line('weak', a.weak),
    line('strong', a.strong),
  ];
}

/** `spreads` is empty unless several seeds ran (each N then has one). */
function writeReport(dir: string, runs: SimRun[], spreads: SeedSpread[]): void {
  const severalSeeds = spreads.length > 0;
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new UserError(`sim: cannot create --out directory ${dir}: ${(err as Error).message}`);
  }
  const reports = runs.map((r) => r.report);
  const name = (r: SimReport) => (severalSeeds ? `N=${r.N} seed=${r.seed}` : `N=${r.N}`);
  const write = (file: string, text: string) => fs.writeFileSync(path.join(dir, file), text);
  const json = severalSeeds ? { runs: reports, spreads } : reports.length === 1 ? reports[0] : reports;
  write('report.json', `${JSON.stringify(json, null, 2)}\n`);
  write('report.md', reportMarkdown(reports, spreads));
  const cdf = (pick: (d: ReportDistributions) => [number, number][]): Series[] =>
    runs.map((r) => ({ name: name(r.report), points: pick(r.cdfs) }));
  write(
    'continuity.svg',
    linePlot(
      cdf((d) => d.continuity),
      { title: 'Continuity per viewer (CDF)', xLabel: 'continuity', yLabel: 'share of viewers', steps: true, yMin: 0, yMax: 1 },
    ),
  );
  write(
    'lag.svg',
    linePlot(
      cdf((d) => d.lagMs),
      { title: 'Lag of played chunks (CDF)', xLabel: 'lag (ms)', yLabel: 'share of chunks', steps: true, yMin: 0, yMax: 1 },
    ),
  );
  write(
    'startup.svg',
    linePlot(
      cdf((d) => d.startupMs),
      { title: 'Startup time (CDF)', xLabel: 'startup (ms)', yLabel: 'share of viewers', steps: true, yMin: 0, yMax: 1 },
    ),
  );
  // Over several seeds, S at each N is the median of its runs.
  const sPoints = severalSeeds
    ? spreads.map((sp) => [sp.peers, sp.spread.S?.median ?? 0] as [number, number])
    : reports.map((r) => [r.N, r.S] as [number, number]);
  if (sPoints.length > 1) {
    write(
      's-vs-n.svg',
      linePlot([{ name: severalSeeds ? 'S (median over seeds)' : 'S', points: sPoints }], {
        title: 'Source load S against audience N',
        xLabel: 'N (viewers)',
        yLabel: 'S',
        yMin: 0,
      }),
    );
  }
}

/** `low=600,high=2500`: names and kbit/s, two or more, rising. */
function parseSimLadder(spec: string): SimRendition[] {
  const ladder = spec.split(',').map((part) => {
    const m = /^([A-Za-z0-9_-]{1,16})=(\d+(?:\.\d+)?)$/.exec(part.trim());
    if (m === null) throw new UserError(`sim: --renditions entries are NAME=KBPS (e.g. low=600,high=2500), got '${part}'`);
    return { name: m[1] as string, bitrateBps: 1000 * num('--renditions', m[2], 0, 8, 100_000) };
  });
  if (ladder.length < 2) throw new UserError('sim: --renditions needs two or more renditions');
  for (let i = 1; i < ladder.length; i++) {
    if ((ladder[i] as SimRendition).bitrateBps <= (ladder[i - 1] as SimRendition).bitrateBps)
      throw new UserError('sim: --renditions must be listed lowest rate first, each rate higher than the one before');
  }
  return ladder;
}

function num(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(v)) throw new UserError(`sim: ${flag} must be a number, got '${raw}'`);
  if (v < min || v > max) {
    const hint = flag === '--churn' || flag === '--free-riders' || flag === '--loss' ? ' (a share: 0.2 means 20%)' : '';
    throw new UserError(`sim: ${flag} must be between ${min} and ${max}${hint}, got ${raw}`);
  }
  return v;
}

function int(flag: string, raw: string, min: number, max: number): number {
  const v = num(flag, raw, 0, min, max);
  if (!Number.isInteger(v)) throw new UserError(`sim: ${flag} must be a whole number, got '${raw}'`);
  return v;
}
