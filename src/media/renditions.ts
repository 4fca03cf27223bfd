// The quality ladder of a channel: several renditions of one encode, each its own signed chunk
// stream. `--renditions 360p,720p` takes the usual rate for each height; `sd=360p@600k` names
// one and sets its video rate. The lowest rendition is the channel's base stream.

import { UserError } from '../common/errors.js';

export interface Rendition {
  /** Short name shown to viewers and used by `--quality`: letters, digits, `-` and `_`. */
  readonly name: string;
  /** Output height; the width follows the input's aspect ratio. */
  readonly height: number;
  readonly videoBitrateKbps: number;
}

/** Video rates for common heights, in line with what live platforms send at 25-30 fps. */
const USUAL_KBPS: ReadonlyMap<number, number> = new Map([
  [144, 150],
  [240, 350],
  [360, 800],
  [480, 1200],
  [540, 1800],
  [720, 2500],
  [1080, 4500],
  [1440, 8000],
  [2160, 14000],
]);

export const MAX_RENDITIONS = 6;
const NAME = /^[A-Za-z0-9_-]{1,16}$/;

/**
 * Parses `--renditions`: a comma-separated list of `[NAME=]HEIGHTp[@RATE]`. Returns the
 * renditions sorted by rate, lowest (the base stream) first.
 */
export function parseRenditions(spec: string): Rendition[] {
  const parts = spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length < 2 || parts.length > MAX_RENDITIONS) {
    throw new UserError(`--renditions needs 2-${MAX_RENDITIONS} entries such as 360p,720p or sd=360p@600k,hd=720p@2500k; got "${spec}"`);
  }
  const out = parts.map(parseOne);
  const names = new Set(out.map((r) => r.name));
  if (names.size !== out.length) throw new UserError(`--renditions names must differ; got "${spec}"`);
  out.sort((a, b) => a.videoBitrateKbps - b.videoBitrateKbps || a.height - b.height);
  for (let i = 1; i < out.length; i++) {
    const [lo, hi] = [out[i - 1] as Rendition, out[i] as Rendition];
    if (lo.videoBitrateKbps === hi.videoBitrateKbps) {
      throw new UserError(`--renditions ${lo.name} and ${hi.name} have the same rate; a ladder needs distinct rates`);
    }
  }
  return out;
}

function parseOne(part: string): Rendition {
  const m = /^(?:([^=@]+)=)?(\d+)p(?:@(\d+(?:\.\d+)?)([kKmM]?))?$/.exec(part);
  if (m === null) throw new UserError(`--renditions entry "${part}" must be [NAME=]HEIGHTp[@RATE], e.g. 720p or hd=720p@2500k`);
  const height = Number(m[2]);
  if (height < 16 || height > 8192 || height % 2 !== 0) throw new UserError(`--renditions entry "${part}": height must be even, 16-8192`);
  const name = m[1] ?? `${height}p`;
  if (!NAME.test(name)) throw new UserError(`--renditions name "${name}" may hold 1-16 letters, digits, - and _`);
  let kbps: number;
  if (m[3] !== undefined) {
    kbps = Number(m[3]) * ((m[4] ?? '').toLowerCase() === 'm' ? 1000 : 1);
  } else {
    kbps = USUAL_KBPS.get(height) ?? Math.round((height * height * 25) / 5000);
  }
  if (!Number.isFinite(kbps) || kbps < 16 || kbps > 100_000) throw new UserError(`--renditions entry "${part}": rate must be 16k-100M`);
  return { name, height, videoBitrateKbps: Math.round(kbps) };
}
