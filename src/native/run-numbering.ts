// Chunk numbers across broadcaster runs. Viewers know a chunk by (stream key, number), so a
// broadcaster restarted with the same key must number past everything its last run produced:
// a number reused by the new run is taken for a chunk already held and never fetched. Two
// floors keep it so: the clock (200 ms ticks since 2024, enough when the channel was down long)
// and a small file beside the key recording, every second, a number the running broadcaster
// will not reach within a few seconds (chunks come faster than one per 200 ms on most streams,
// so over hours the numbering runs far ahead of the clock).

import fs from 'node:fs';
import type { Logger } from '../common/log.js';

const SEQ_EPOCH_MS = Date.UTC(2024, 0, 1);
const CLOCK_TICK_MS = 200;
/** Seconds of production a saved floor stays ahead by: it must outlast one save interval and a
 * SIGKILL, yet stay small, so the new run's first chunks land inside viewers' windows. */
const HEADROOM_S = 3;
/** Chunks per second assumed before a lane has produced for a second. */
const ASSUMED_CHUNKS_PER_S = 20;
export const SAVE_INTERVAL_MS = 1000;
/** Largest number a chunk can carry (u32 on the wire). */
const MAX_SEQ = 0xffff_ffff;

/** The clock's floor: 200 ms ticks since 2024. */
export function clockSeq(nowMs: number): number {
  return Math.floor((nowMs - SEQ_EPOCH_MS) / CLOCK_TICK_MS);
}

/** A lane as the numbering sees it: its stream's key, next number and production so far. */
export interface NumberedLane {
  readonly key: { readonly channelId: string };
  readonly seq: number;
  readonly chunksProduced: number;
  readonly firstChunkAtMs: number | undefined;
}

/** Saved floors by stream id; a missing, unreadable or foreign file is no floor (with a warning). */
export function loadFloors(file: string, log: Logger): Map<string, number> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`cannot read ${file}: ${(err as Error).message}`);
    return new Map();
  }
  const floors = new Map<string, number>();
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    for (const [id, v] of Object.entries(parsed)) {
      if (/^[0-9a-f]{64}$/.test(id) && Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_SEQ)
        floors.set(id, v as number);
    }
  } catch (err) {
    log.warn(`ignoring ${file}: ${(err as Error).message}`);
  }
  return floors;
}

/** Where a stream's first chunk is numbered: past the clock and past the saved floor. */
export function firstSeq(nowMs: number, saved: number | undefined): number {
  return Math.max(clockSeq(nowMs), saved ?? 0);
}

/** A number the lane will not reach within HEADROOM_S at its production rate so far. */
export function floorAhead(lane: NumberedLane, nowMs: number): number {
  const elapsedS = lane.firstChunkAtMs === undefined ? 0 : (nowMs - lane.firstChunkAtMs) / 1000;
  const rate = elapsedS >= 1 ? lane.chunksProduced / elapsedS : ASSUMED_CHUNKS_PER_S;
  return Math.min(MAX_SEQ, lane.seq + Math.ceil(rate * HEADROOM_S) + 1);
}

/**
 * Writes the floors atomically (a temporary file renamed over the old one), keeping those of
 * streams not running now (a ladder changed between runs).
 */
export function saveFloors(file: string, lanes: readonly NumberedLane[], nowMs: number, others: ReadonlyMap<string, number>): void {
  const floors: Record<string, number> = Object.fromEntries(others);
  for (const lane of lanes) floors[lane.key.channelId] = Math.max(floors[lane.key.channelId] ?? 0, floorAhead(lane, nowMs));
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(floors)}\n`);
  fs.renameSync(tmp, file);
}
