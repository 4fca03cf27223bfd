// Line plots as hand-written SVG text, so reports need no plotting dependency: axes with a few
// ticks, one polyline per series, a legend. Enough for CDFs and for S against N.

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Draw each series as a step function (for empirical CDFs). */
  steps?: boolean;
  yMin?: number;
  yMax?: number;
}

const W = 640;
const H = 400;
const M = { left: 64, right: 20, top: 36, bottom: 48 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

export function linePlot(series: readonly Series[], o: PlotOptions): string {
  const all = series.flatMap((s) => s.points);
  let xMin = Math.min(...all.map((p) => p[0]));
  let xMax = Math.max(...all.map((p) => p[0]));
  const yMin = o.yMin ?? Math.min(...all.map((p) => p[1]));
  const yMax = o.yMax ?? Math.max(...all.map((p) => p[1]));
  if (!Number.isFinite(xMin)) [xMin, xMax] = [0, 1];
  if (xMax === xMin) xMax = xMin + 1;
  const ySpan = yMax === yMin ? 1 : yMax - yMin;
  // Coordinates rounded to 0.1 px keep the SVG text short.
  const px = (x: number) => Math.round((M.left + ((x - xMin) / (xMax - xMin)) * (W - M.left - M.right)) * 10) / 10;
  const py = (y: number) => Math.round((H - M.bottom - ((y - yMin) / ySpan) * (H - M.top - M.bottom)) * 10) / 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(o.title)}</text>`,
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="black"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const x = xMin + ((xMax - xMin) * i) / 5;
    const y = yMin + (ySpan * i) / 5;
    out.push(
      `<line x1="${px(x)}" y1="${H - M.bottom}" x2="${px(x)}" y2="${H - M.bottom + 5}" stroke="black"/>`,
      `<text x="${px(x)}" y="${H - M.bottom + 18}" text-anchor="middle">${tick(x)}</text>`,
      `<line x1="${M.left - 5}" y1="${py(y)}" x2="${W - M.right}" y2="${py(y)}" stroke="#ddd"/>`,
      `<text x="${M.left - 8}" y="${py(y) + 4}" text-anchor="end">${tick(y)}</text>`,
    );
  }
  out.push(
    `<text x="${W / 2}" y="${H - 10}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
    `<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">${escapeXml(o.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const pts: string[] = [];
    let prevY: number | undefined;
    for (const [x, y] of s.points) {
      if (o.steps && prevY !== undefined) pts.push(`${px(x)},${py(prevY)}`);
      pts.push(`${px(x)},${py(y)}`);
      prevY = y;
    }
    out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.join(' ')}"/>`);
    if (s.points.length === 1) {
      const [x, y] = s.points[0] as readonly [number, number];
      out.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${colour}"/>`);
    }
    out.push(
      `<rect x="${W - M.right - 150}" y="${M.top + 6 + i * 16}" width="10" height="10" fill="${colour}"/>`,
      `<text x="${W - M.right - 136}" y="${M.top + 15 + i * 16}">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}

function tick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return `${Math.round(v)}`;
  if (a >= 10) return v.toFixed(0);
  if (a >= 1) return v.toFixed(1);
  return v.toFixed(3);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
