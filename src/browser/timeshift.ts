// Timeshift in the web player, as pure functions over the buffered ranges: where a seek of the
// user's lands, what the badge says ("LIVE", or "-2:30" behind it, as TV apps show), and how far
// back the buffer is kept. No DOM, no clock: player.ts applies the answers to the <video>.

/** The part of TimeRanges these functions read (video.buffered, or plain data in tests). */
export interface Ranges {
  readonly length: number;
  start(i: number): number;
  end(i: number): number;
}

/** End of the newest buffered media (the live edge as this player knows it); 0 when nothing is buffered. */
export function newestEnd(b: Ranges): number {
  return b.length === 0 ? 0 : b.end(b.length - 1);
}

/** Start of the oldest buffered media (how far back the user can go); undefined when nothing is buffered. */
export function oldestStart(b: Ranges): number | undefined {
  return b.length === 0 ? undefined : b.start(0);
}

/** Seconds buffered without a hole from `ct` on. */
export function contiguousAhead(b: Ranges, ct: number): number {
  for (let i = 0; i < b.length; i++) {
    if (b.start(i) <= ct + 0.01 && ct < b.end(i)) return b.end(i) - ct;
  }
  return 0;
}

/**
 * Where playback must jump to get over a hole: the start of the next range when `ct` is within
 * `lookaheadS` of its range's end (or before any range); undefined when there is nothing to jump.
 * `force` jumps even when far from the end (a start point on a sliver of media).
 */
export function gapTarget(b: Ranges, ct: number, lookaheadS: number, force: boolean): number | undefined {
  for (let i = 0; i < b.length; i++) {
    const start = b.start(i);
    const end = b.end(i);
    if (start <= ct + 0.01 && ct < end) {
      if (!force && end - ct > lookaheadS) return undefined;
      return i + 1 < b.length ? b.start(i + 1) : undefined;
    }
    if (start > ct) return start;
  }
  return undefined;
}

/** A user's move in time: where playback goes, and whether that is the live edge again. */
export interface SeekPlan {
  timeS: number;
  live: boolean;
}

/**
 * Where a seek of `deltaS` from `ct` lands: never before the oldest media held (plus a margin, as
 * eviction may be under way), and back at live, `liveBehindS` behind the newest data, when it
 * would come within `snapToLiveS` of it. Undefined when nothing is buffered.
 */
export function planSeek(b: Ranges, ct: number, deltaS: number, liveBehindS: number, snapToLiveS: number): SeekPlan | undefined {
  const oldest = oldestStart(b);
  if (oldest === undefined) return undefined;
  const live = newestEnd(b) - liveBehindS;
  const target = ct + deltaS;
  if (target >= live - snapToLiveS) return { timeS: live, live: true };
  return { timeS: Math.max(oldest + 0.5, target), live: false };
}

/**
 * Where eviction may cut: everything more than `backBufferS` behind the newest data goes, in steps
 * of at least `stepS` (a removal costs the SourceBuffer a pass); undefined when nothing is due.
 */
export function evictionEnd(b: Ranges, backBufferS: number, stepS: number): number | undefined {
  const oldest = oldestStart(b);
  if (oldest === undefined) return undefined;
  const end = newestEnd(b) - backBufferS;
  return end - oldest > stepS ? end : undefined;
}

/** The badge: "LIVE" at the live edge, else how far behind it, as "-m:ss" (or "-h:mm:ss"). */
export function timeshiftLabel(atLive: boolean, behindS: number): string {
  if (atLive) return 'LIVE';
  const total = Math.max(0, Math.round(behindS));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `-${h}:${String(m).padStart(2, '0')}:${s}` : `-${m}:${s}`;
}

/** What following the live edge asks of the player: jump to it, play faster, play at 1x, or nothing. */
export type LiveAction = 'seek' | 'catch-up' | 'normal' | 'keep';

/**
 * Following the live edge from `behindS` behind the newest data: far behind, a seek; somewhat
 * behind, faster playback, back to 1x once close. A player that has not yet been close since its
 * first frame (`settled` false) started on a backlog, typically the burst a channel sends as it
 * starts: it jumps anything over the catch-up threshold, since at 1.1x a 5 s backlog would take
 * 50 s to play off, and frames skipped before the viewer has settled in go unseen.
 */
export function liveAction(
  behindS: number,
  settled: boolean,
  c: { seekAboveS: number; catchUpAboveS: number; catchUpBelowS: number },
): LiveAction {
  if (behindS > (settled ? c.seekAboveS : c.catchUpAboveS)) return 'seek';
  if (behindS > c.catchUpAboveS) return 'catch-up';
  if (behindS < c.catchUpBelowS) return 'normal';
  return 'keep';
}
