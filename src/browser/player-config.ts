// What MsePlayer can be tuned with (every knob with its unit and default) and the figures it
// reports. Types and defaults only.

/** Every tunable of the player, with its default in DEFAULT_PLAYER_CONFIG. */
export interface MsePlayerConfig {
  /** Media buffered ahead of the start position before the first play(). @default 0.5 */
  startBufferS: number;
  /** Start with whatever is buffered once the first data is this old. @default 1000 */
  startWaitMs: number;
  /** Behind the newest data by more than this, playback speeds up. @default 1.5 */
  catchUpAboveS: number;
  /** ...and returns to normal speed below this. @default 1.0 */
  catchUpBelowS: number;
  /** Playback rate while catching up (pitch is preserved). @default 1.1 */
  catchUpRate: number;
  /** Behind the newest data by more than this, the player seeks. @default 6 */
  seekAboveS: number;
  /** How far behind the newest data such a seek lands. @default 1.0 */
  seekToBehindS: number;
  /**
   * The back buffer: media older than this behind the newest data is evicted, oldest first; the
   * user can rewind this far (timeshift). Shrunk, down to MIN_BACK_BUFFER_S, when the browser's
   * quota is reached. Five minutes of a 2.5 Mbit/s stream is 94 MB, inside Chromium's 150 MB
   * video quota. @default 300
   */
  backBufferS: number;
  /** A seek forward that comes this close to the live edge goes back to following it. @default 2 */
  snapToLiveS: number;
  /** A gap closer than this ahead of currentTime is jumped over at once. @default 0.12 */
  gapLookaheadS: number;
  /** Period of the control loop. @default 100 */
  tickMs: number;
  /** No progress for this long while playing counts as a stall even without a 'waiting' event. @default 500 */
  frozenAfterMs: number;
  /** New MediaSources allowed per minute after media errors before giving up. @default 3 */
  maxRecoveriesPerMinute: number;
  /** Time-to-capture entries kept for the lag figure (older ones also go with the media they describe). @default 8192 */
  lagHistory: number;
}

export const DEFAULT_PLAYER_CONFIG: MsePlayerConfig = {
  startBufferS: 0.5,
  startWaitMs: 1000,
  catchUpAboveS: 1.5,
  catchUpBelowS: 1.0,
  catchUpRate: 1.1,
  seekAboveS: 6,
  seekToBehindS: 1.0,
  backBufferS: 300,
  snapToLiveS: 2,
  gapLookaheadS: 0.12,
  tickMs: 100,
  frozenAfterMs: 500,
  maxRecoveriesPerMinute: 3,
  lagHistory: 8192,
};

export interface MsePlayerStats {
  /** Seconds of media buffered contiguously ahead of currentTime. */
  bufferAheadS: number;
  /** Seconds from currentTime to the end of the newest appended media (the player's own delay). */
  behindNewestS: number;
  /** Seconds held behind currentTime: how far the user can rewind now. */
  bufferedBehindS: number;
  /** The back buffer's current bound (backBufferS, or less after the quota was reached). */
  backBufferS: number;
  /** Playback follows the live edge (false once the user paused or rewound). */
  atLive: boolean;
  /** How far behind live the user chose to be (0 at live): the "-2:30" on the badge. */
  timeshiftS: number;
  /** Stalls: playback should go on but the picture is frozen waiting for data. */
  stalls: number;
  /** Longest stall, including one still going on. */
  longestStallMs: number;
  totalStallMs: number;
  playing: boolean;
  currentTime: number;
  /** Wall time now minus the capture time of the frame shown (assumes the source's clock agrees with ours). */
  lagMs: number | undefined;
  /** First chunk given -> first frame shown. */
  startupMs: number | undefined;
  chunksAppended: number;
  chunksSkipped: number;
  gapJumps: number;
  liveSeeks: number;
  quotaEvictions: number;
  recoveries: number;
  droppedVideoFrames: number;
  /** The last error met (recovered from or not). */
  error: string | undefined;
  /** The source ended its broadcast (a chunk flagged end of stream) and playback reached the end. */
  ended: boolean;
  /** True once the player gave up (too many media errors, unsupported codec). */
  failed: boolean;
}
