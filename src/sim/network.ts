// The network model: what each simulated peer can upload and download, and how far apart two
// peers are. Everything is drawn from the seeded random source, so a seed fixes the network.
// Capacities are scaled so that the resource index rho = (source upload + sum of viewers'
// uploads) / (N x r) is exactly the one asked for (docs/measures.md).

import type { RandomFn } from '../protocol/random.js';

export interface PeerProfile {
  /** Upload capacity in bytes per millisecond (0 for a free rider). */
  readonly uploadBytesPerMs: number;
  readonly downloadBytesPerMs: number;
  /** One-way delay of the peer's access link (last mile), added to every link it is on. */
  readonly accessLatencyMs: number;
  readonly freeRider: boolean;
  /** On a weak line (ladder runs: see drawAbrProfiles). */
  readonly weak?: boolean;
}

export interface AudienceConfig {
  /** Viewers in the audience (N). */
  peers: number;
  /** Stream bitrate r in bits per second. */
  bitrateBps: number;
  /** Resource index wanted. */
  rho: number;
  /** Share of viewers that upload nothing. */
  freeRiders: number;
  /** Source upload capacity in multiples of r. */
  sourceUploadFactor: number;
}

/**
 * Relative upload of the contributing viewers: residential uplinks are skewed (many slow DSL or
 * cable lines, a few fibre ones). Scaled afterwards to meet rho.
 */
const UPLOAD_CLASSES: readonly { share: number; relative: number }[] = [
  { share: 0.3, relative: 0.5 },
  { share: 0.35, relative: 1 },
  { share: 0.25, relative: 2 },
  { share: 0.1, relative: 4 },
];

export function bitsPerSecondToBytesPerMs(bps: number): number {
  return bps / 8000;
}

/** Draws the N viewer profiles and the source's, scaled to the requested rho. */
export function drawProfiles(config: AudienceConfig, random: RandomFn): { source: PeerProfile; viewers: PeerProfile[] } {
  const r = bitsPerSecondToBytesPerMs(config.bitrateBps);
  const sourceUpload = config.sourceUploadFactor * r;
  const freeRiderCount = Math.round(config.freeRiders * config.peers);
  const relative: number[] = [];
  for (let i = 0; i < config.peers; i++) relative.push(i < freeRiderCount ? 0 : drawClass(random));
  shuffleInPlace(relative, random);
  const total = relative.reduce((a, b) => a + b, 0);
  const viewersUpload = Math.max(0, config.rho * config.peers * r - sourceUpload);
  const scale = total > 0 ? viewersUpload / total : 0;
  const viewers = relative.map((rel) => ({
    uploadBytesPerMs: rel * scale,
    // Downloads are 4-16 times the stream rate: rarely the bottleneck, but a joining peer
    // fetching a burst of chunks is paced by it.
    downloadBytesPerMs: r * (4 + 12 * random()),
    accessLatencyMs: 2 + 13 * random(),
    freeRider: rel === 0,
  }));
  const source = { uploadBytesPerMs: sourceUpload, downloadBytesPerMs: 100 * r, accessLatencyMs: 2, freeRider: false };
  return { source, viewers };
}

/**
 * One-way latency of a new link: both access delays plus a backbone part drawn from a
 * log-normal distribution (median 20 ms, capped at 300 ms).
 */
export function drawLinkLatencyMs(a: PeerProfile, b: PeerProfile, random: RandomFn): number {
  const backbone = Math.min(300, 20 * Math.exp(0.6 * gaussian(random)));
  return a.accessLatencyMs + b.accessLatencyMs + backbone;
}

function drawClass(random: RandomFn): number {
  let u = random();
  for (const c of UPLOAD_CLASSES) {
    if (u < c.share) return c.relative;
    u -= c.share;
  }
  return (UPLOAD_CLASSES[UPLOAD_CLASSES.length - 1] as { relative: number }).relative;
}

/** Standard normal deviate (Box-Muller). */
export function gaussian(random: RandomFn): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export function shuffleInPlace<T>(items: T[], random: RandomFn): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i] as T;
    items[i] = items[j] as T;
    items[j] = t;
  }
}

export interface AbrAudienceConfig {
  peers: number;
  /** Rendition bitrates, lowest first. */
  ladderBps: number[];
  /** Share of the audience on weak lines. */
  weakShare: number;
  freeRiders: number;
  /** Source upload in multiples of the whole ladder's rate (it sends every rendition). */
  sourceUploadFactor: number;
}

/**
 * Lines of a mixed audience for ladder runs (absolute, not scaled to a rho): weak ones as
 * mobile and long DSL lines (download 1.5-2.5 Mbit/s, upload 0.3-0.6), strong ones as cable
 * and fibre (download 20-100 Mbit/s, upload 3-10). Free riders are drawn from both.
 */
export const ABR_LINES = {
  weak: { downMbps: [1.5, 2.5], upMbps: [0.3, 0.6] },
  strong: { downMbps: [20, 100], upMbps: [3, 10] },
} as const;

export function drawAbrProfiles(config: AbrAudienceConfig, random: RandomFn): { source: PeerProfile; viewers: PeerProfile[] } {
  const ladder = config.ladderBps.reduce((a, b) => a + b, 0);
  const within = (range: readonly [number, number]) => bitsPerSecondToBytesPerMs(1e6 * (range[0] + (range[1] - range[0]) * random()));
  const viewers: PeerProfile[] = [];
  for (let i = 0; i < config.peers; i++) {
    const weak = random() < config.weakShare;
    const line = weak ? ABR_LINES.weak : ABR_LINES.strong;
    const freeRider = random() < config.freeRiders;
    const upload = within(line.upMbps);
    viewers.push({
      uploadBytesPerMs: freeRider ? 0 : upload,
      downloadBytesPerMs: within(line.downMbps),
      accessLatencyMs: 2 + 13 * random(),
      freeRider,
      weak,
    });
  }
  const sourceUpload = config.sourceUploadFactor * bitsPerSecondToBytesPerMs(ladder);
  return {
    source: { uploadBytesPerMs: sourceUpload, downloadBytesPerMs: sourceUpload * 10, accessLatencyMs: 2, freeRider: false },
    viewers,
  };
}
