// Channel numbers for the TV gateway's playlist: a channel keeps its number across restarts and
// while others come and go, as on a TV where 3 stays the same station. Numbers live in a small
// file under MESHTV_HOME, written atomically and bounded: channels not seen for the longest are
// forgotten first once it holds MAX_REMEMBERED.

import fs from 'node:fs';
import type { Logger } from '../common/log.js';

export interface NumberEntry {
  number: number;
  /** When the channel was last live (ms), to forget the longest-gone first. */
  seenAtMs: number;
}

export type ChannelNumbers = Map<string, NumberEntry>;

/** Channels remembered at most; the file stays under ~100 KB. */
export const MAX_REMEMBERED = 1000;
/** A file larger than this is not ours (or is broken): it is ignored, not read. */
const MAX_FILE_BYTES = 256 * 1024;
/** A number's last-seen time is worth saving again only this much later. */
export const SEEN_SAVE_INTERVAL_MS = 3_600_000;

const ID = /^[0-9a-f]{64}$/;

/**
 * Gives every live channel a number: the remembered one, else the lowest free one. Returns the
 * new table and whether it differs enough from the old to be saved.
 */
export function assignNumbers(
  old: ReadonlyMap<string, NumberEntry>,
  liveIds: readonly string[],
  nowMs: number,
): { numbers: ChannelNumbers; changed: boolean } {
  const numbers: ChannelNumbers = new Map(old);
  let changed = false;
  const live = new Set(liveIds);
  for (const id of liveIds) {
    const entry = numbers.get(id);
    if (entry === undefined) continue;
    if (nowMs - entry.seenAtMs >= SEEN_SAVE_INTERVAL_MS) changed = true;
    numbers.set(id, { number: entry.number, seenAtMs: nowMs });
  }
  const newIds = liveIds.filter((id) => !numbers.has(id)).sort();
  // Room for the new ones: the longest-gone channels that are not live now are forgotten.
  const excess = numbers.size + newIds.length - MAX_REMEMBERED;
  if (excess > 0) {
    const gone = [...numbers].filter(([id]) => !live.has(id)).sort((a, b) => a[1].seenAtMs - b[1].seenAtMs);
    for (const [id] of gone.slice(0, excess)) numbers.delete(id);
    changed = true;
  }
  const taken = new Set([...numbers.values()].map((e) => e.number));
  let next = 1;
  for (const id of newIds) {
    while (taken.has(next)) next++;
    if (numbers.size >= MAX_REMEMBERED) break;
    numbers.set(id, { number: next, seenAtMs: nowMs });
    taken.add(next);
    changed = true;
  }
  return { numbers, changed };
}

/** The saved numbers; a missing file is none, a broken or foreign one is none with a warning. */
export function loadNumbers(file: string, log: Logger): ChannelNumbers {
  const numbers: ChannelNumbers = new Map();
  let text: string;
  try {
    if (fs.statSync(file).size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`ignoring ${file}: ${(err as Error).message}`);
    return numbers;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    const used = new Set<number>();
    for (const [id, v] of Object.entries(parsed)) {
      if (!ID.test(id) || !Array.isArray(v)) continue;
      const [number, seenAtMs] = v as unknown[];
      if (!Number.isSafeInteger(number) || (number as number) < 1 || used.has(number as number)) continue;
      if (!Number.isSafeInteger(seenAtMs) || numbers.size >= MAX_REMEMBERED) continue;
      used.add(number as number);
      numbers.set(id, { number: number as number, seenAtMs: seenAtMs as number });
    }
  } catch (err) {
    log.warn(`ignoring ${file}: ${(err as Error).message}`);
  }
  return numbers;
}

/** Writes the numbers atomically: a temporary file renamed over the old one. */
export function saveNumbers(file: string, numbers: ReadonlyMap<string, NumberEntry>): void {
  const body: Record<string, [number, number]> = {};
  for (const [id, e] of numbers) body[id] = [e.number, e.seenAtMs];
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(body)}\n`);
  fs.renameSync(tmp, file);
}
