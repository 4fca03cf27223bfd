// Human-readable figures for the WebTV pages. Pure functions.

import { formatBytes as formatByteCount } from '../../common/rate-meter.js';

/** Bits per second as "850 kbit/s" or "2.4 Mbit/s". */
export function formatBitrate(bps: number | undefined): string {
  if (bps === undefined || !Number.isFinite(bps) || bps < 0) return '–';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(bps >= 1e7 ? 0 : 1)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}

/** Bytes as "512 kB", "3.2 MB", "1.10 GB" (powers of 1000), as the command line shows them. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '–';
  return formatByteCount(Math.round(bytes));
}

/** Milliseconds as seconds with one decimal: "2.3 s". */
export function formatSeconds(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

/** A 0..1 fraction as a whole percentage. */
export function formatPercent(fraction: number | undefined): string {
  if (fraction === undefined || !Number.isFinite(fraction)) return '–';
  return `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)} %`;
}

export function formatCount(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}
