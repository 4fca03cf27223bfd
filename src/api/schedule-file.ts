// A broadcaster's schedule file, read into programmes: XMLTV (tv/programme with start and stop,
// title, desc, category) or a JSON list of {start, stop, title, description, category} with
// ISO 8601 times. Every refusal names the line and the reason. Pure: text in, programmes out.

import { MAX_PROGRAMMES, type Programme, programmesProblem } from '../protocol/guide.js';
import { parseXml, type XmlElement, XmlError } from './xml-reader.js';

/** Larger files are refused before they are read. */
export const MAX_SCHEDULE_FILE_BYTES = 1024 * 1024;

export class ScheduleError extends Error {
  constructor(
    /** 1-based, when the problem has a line. */
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(line !== undefined ? `line ${line}: ${reason}` : reason);
  }
}

/** The programmes of a schedule file, sorted by start; throws a ScheduleError saying where and why. */
export function parseSchedule(text: string): Programme[] {
  if (text.length > MAX_SCHEDULE_FILE_BYTES) throw new ScheduleError(undefined, `larger than ${MAX_SCHEDULE_FILE_BYTES} bytes`);
  const first = /\S/.exec(text.replace(/^\uFEFF/, ''))?.[0];
  const entries = first === '<' ? xmltvEntries(text) : first === '[' ? jsonEntries(text) : undefined;
  if (entries === undefined) throw new ScheduleError(1, 'neither XMLTV (<tv>…) nor a JSON list ([…]) of programmes');
  if (entries.length > MAX_PROGRAMMES)
    throw new ScheduleError(entries[MAX_PROGRAMMES]?.line, `too many programmes (more than ${MAX_PROGRAMMES})`);
  const sorted = [...entries].sort((a, b) => a.programme.startMs - b.programme.startMs);
  const bad = programmesProblem(sorted.map((e) => e.programme));
  if (bad !== undefined) throw new ScheduleError(sorted[bad.index]?.line, bad.problem);
  return sorted.map((e) => e.programme);
}

interface Entry {
  programme: Programme;
  line: number;
}

/** Runs of whitespace, line breaks included, as one space: what a guide shows on one line. */
function oneLine(text: string): string {
  return text.replace(/[\t\n\r ]+/g, ' ').trim();
}

function xmltvEntries(text: string): Entry[] {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (err) {
    if (err instanceof XmlError) throw new ScheduleError(err.line, `not well-formed XML: ${err.message}`);
    throw err;
  }
  if (root.name !== 'tv') throw new ScheduleError(root.line, `the root element must be <tv>, not <${root.name}>`);
  const out: Entry[] = [];
  for (const p of root.children) {
    if (p.name !== 'programme') continue;
    const start = p.attributes.start;
    const stop = p.attributes.stop;
    if (start === undefined || stop === undefined) throw new ScheduleError(p.line, 'a programme needs start and stop attributes');
    const title = p.children.find((c) => c.name === 'title');
    if (title === undefined) throw new ScheduleError(p.line, 'a programme needs a <title>');
    const desc = p.children.find((c) => c.name === 'desc');
    const category = p.children.find((c) => c.name === 'category');
    out.push({
      line: p.line,
      programme: {
        startMs: xmltvTime(start, p.line),
        stopMs: xmltvTime(stop, p.line),
        title: oneLine(title.text),
        ...(desc !== undefined ? { description: oneLine(desc.text) } : {}),
        ...(category !== undefined ? { category: oneLine(category.text) } : {}),
      },
    });
    if (out.length > MAX_PROGRAMMES) break;
  }
  return out;
}

/** XMLTV's time: YYYYMMDDhhmm[ss] with an optional ±hhmm offset (UTC without one). */
function xmltvTime(value: string, line: number): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\s*([+-])(\d{2})(\d{2}))?$/.exec(value.trim());
  const ms = m === null ? undefined : utcMs(m, 7);
  if (ms === undefined) throw new ScheduleError(line, `"${value.slice(0, 40)}" is not an XMLTV time (YYYYMMDDhhmmss +0000)`);
  return ms;
}

/** ISO 8601 with a date, a time and an offset: 2026-12-07T20:00:00Z, 2026-12-07T21:00+01:00. */
function isoTime(value: unknown, field: string, line: number): number {
  const m =
    typeof value === 'string'
      ? /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|([+-])(\d{2}):?(\d{2}))$/.exec(value)
      : null;
  const ms = m === null ? undefined : utcMs(m, 7);
  if (ms === undefined)
    throw new ScheduleError(
      line,
      `${field} must be an ISO 8601 time with its offset (2026-12-07T20:00:00Z), got ${JSON.stringify(value)?.slice(0, 40)}`,
    );
  return ms;
}

/** Date and time fields (groups 1-6) and an offset (sign at `sign`, then hours, minutes) as ms since the epoch. */
function utcMs(m: RegExpExecArray, sign: number): number | undefined {
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  const offsetMin = m[sign] === undefined ? 0 : (m[sign] === '-' ? -1 : 1) * (Number(m[sign + 1]) * 60 + Number(m[sign + 2]));
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(local);
  // Date.UTC rolls 31 February over into March: such a date is refused, not moved.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return local - offsetMin * 60_000;
}

const JSON_FIELDS = ['start', 'stop', 'title', 'description', 'category'];

function jsonEntries(text: string): Entry[] {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new ScheduleError(at !== undefined ? lineOf(text, Number(at)) : undefined, `not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(list)) throw new ScheduleError(1, 'must be a JSON list of programmes');
  const lines = elementLines(text);
  return list.slice(0, MAX_PROGRAMMES + 1).map((item: unknown, i) => {
    const line = lines[i] ?? 1;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new ScheduleError(line, 'each programme must be an object {start, stop, title, description}');
    const o = item as Record<string, unknown>;
    const unknown = Object.keys(o).find((k) => !JSON_FIELDS.includes(k));
    if (unknown !== undefined) throw new ScheduleError(line, `unknown field "${unknown.slice(0, 40)}" (fields: ${JSON_FIELDS.join(', ')})`);
    for (const f of ['title', 'description', 'category'])
      if (o[f] !== undefined && typeof o[f] !== 'string') throw new ScheduleError(line, `${f} must be a string`);
    if (o.title === undefined) throw new ScheduleError(line, 'a programme needs a title');
    return {
      line,
      programme: {
        startMs: isoTime(o.start, 'start', line),
        stopMs: isoTime(o.stop, 'stop', line),
        title: oneLine(o.title as string),
        ...(o.description !== undefined ? { description: oneLine(o.description as string) } : {}),
        ...(o.category !== undefined ? { category: oneLine(o.category as string) } : {}),
      },
    };
  });
}

/** The line each element of the top-level JSON list starts on (the text is valid JSON). */
function elementLines(text: string): number[] {
  const out: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (depth === 1 && expectValue && !' \t\r\n]'.includes(c)) {
      out.push(line);
      expectValue = false;
    }
    if ((depth === 0 && c === '[') || (depth === 1 && c === ',')) expectValue = true;
    if (c === '"') inString = true;
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
  }
  return out;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}
