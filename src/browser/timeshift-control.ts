/// <reference lib="dom" />
// The user's moves in time on the player's <video>: pause (leaving the live edge), seeks within
// the back buffer, and the way back to live. While the user is away from the live edge the
// player's catch-up (speed-up, seek) leaves playback alone; chunks keep coming and being relayed.

import type { MsePlayerConfig } from './player-config.js';
import { newestEnd, planSeek } from './timeshift.js';

export class TimeshiftControl {
  /** Playback follows the live edge; false once the user paused or moved back in time. */
  atLive = true;
  /** How far behind the newest data playback was when the user left the live edge: "-0:00" there. */
  private liveBehindS = 0;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly config: MsePlayerConfig,
    /** Plays the video (handling an autoplay refusal). */
    private readonly play: () => void,
  ) {}

  /** Pauses: playback stays where it is while media keeps coming. */
  pause(): void {
    this.leaveLive();
    this.video.pause();
  }

  /** Moves `deltaS` seconds in time within what is buffered; forward up to the live edge, which resumes following it. */
  seekBy(deltaS: number): void {
    const v = this.video;
    const plan = planSeek(v.buffered, v.currentTime, deltaS, this.config.seekToBehindS, this.config.snapToLiveS);
    if (plan === undefined) return;
    if (plan.live) {
      this.goLive();
      return;
    }
    this.leaveLive();
    v.playbackRate = 1;
    v.currentTime = plan.timeS;
  }

  /** Back to the live edge, playing. */
  goLive(): void {
    const v = this.video;
    this.atLive = true;
    v.playbackRate = 1;
    if (v.buffered.length > 0) v.currentTime = newestEnd(v.buffered) - this.config.seekToBehindS;
    if (v.paused) this.play();
  }

  /** Whether playback follows the live edge, and how far behind it the user is (0 when following). */
  state(): { atLive: boolean; behindS: number } {
    if (this.atLive) return { atLive: true, behindS: 0 };
    const behind = newestEnd(this.video.buffered) - this.video.currentTime - this.liveBehindS;
    return { atLive: false, behindS: Math.max(0, behind) };
  }

  private leaveLive(): void {
    if (!this.atLive) return;
    this.atLive = false;
    // A live viewer plays about this far behind the newest data: being there is "-0:00".
    this.liveBehindS = Math.max(0, Math.min(this.config.catchUpAboveS, newestEnd(this.video.buffered) - this.video.currentTime));
  }
}
