/// <reference lib="dom" />
// A small live chart on a <canvas>: download and upload rates (left scale) and lag (right
// scale) over the last minute, one sample a second. Colours come from CSS custom properties
// (--chart-down, --chart-up, --chart-lag, --chart-grid, --chart-text) so the theme stays in CSS.

import { formatBitrate } from './format.js';

export interface ChartSample {
  downloadBps: number;
  uploadBps: number;
  lagMs: number | undefined;
}

const MIN_RATE_SCALE_BPS = 250_000;
const MIN_LAG_SCALE_MS = 4_000;

export class StatsChart {
  private samples: ChartSample[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly windowS = 60,
  ) {}

  push(sample: ChartSample): void {
    this.samples.push(sample);
    if (this.samples.length > this.windowS) this.samples.splice(0, this.samples.length - this.windowS);
    this.draw();
  }

  draw(): void {
    const canvas = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth;
    const cssH = canvas.clientHeight;
    if (cssW === 0 || cssH === 0) return;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    const ctx = canvas.getContext('2d');
    if (ctx === null) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);

    const css = getComputedStyle(canvas);
    const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const pad = { top: 16, bottom: 4, left: 4, right: 4 };
    const w = cssW - pad.left - pad.right;
    const hgt = cssH - pad.top - pad.bottom;

    let maxRate = MIN_RATE_SCALE_BPS;
    let maxLag = MIN_LAG_SCALE_MS;
    for (const s of this.samples) {
      maxRate = Math.max(maxRate, s.downloadBps, s.uploadBps);
      if (s.lagMs !== undefined) maxLag = Math.max(maxLag, s.lagMs);
    }
    maxRate = niceCeil(maxRate);
    maxLag = niceCeil(maxLag);

    ctx.strokeStyle = color('--chart-grid', '#2a2f3a');
    ctx.lineWidth = 1;
    for (let i = 0; i <= 2; i++) {
      const y = Math.round(pad.top + (hgt * i) / 2) + 0.5;
      ctx.beginPath();
      ctx.moveTo(pad.left, y);
      ctx.lineTo(pad.left + w, y);
      ctx.stroke();
    }
    ctx.fillStyle = color('--chart-text', '#9aa3b2');
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    ctx.fillText(formatBitrate(maxRate), pad.left, 1);
    ctx.textAlign = 'right';
    ctx.fillText(`lag ${(maxLag / 1000).toFixed(0)} s`, pad.left + w, 1);

    const x = (i: number) => pad.left + (w * (this.windowS - this.samples.length + i)) / (this.windowS - 1);
    const line = (value: (s: ChartSample) => number | undefined, max: number, stroke: string, dash: number[]) => {
      ctx.strokeStyle = stroke;
      ctx.lineWidth = 2;
      ctx.setLineDash(dash);
      ctx.beginPath();
      let drawing = false;
      this.samples.forEach((s, i) => {
        const v = value(s);
        if (v === undefined) {
          drawing = false;
          return;
        }
        const y = pad.top + hgt - (hgt * Math.min(v, max)) / max;
        if (drawing) ctx.lineTo(x(i), y);
        else ctx.moveTo(x(i), y);
        drawing = true;
      });
      ctx.stroke();
      ctx.setLineDash([]);
    };
    line((s) => s.downloadBps, maxRate, color('--chart-down', '#4da3ff'), []);
    line((s) => s.uploadBps, maxRate, color('--chart-up', '#3ddc97'), []);
    line((s) => s.lagMs, maxLag, color('--chart-lag', '#ffb84d'), [4, 3]);
  }
}

/** Rounds up to 1, 2 or 5 times a power of ten, for readable scales. */
export function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}
