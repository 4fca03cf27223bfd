/// <reference lib="dom" />
// The player's own controls over the video: play/pause, 10 s back and forward, the live badge
// ("LIVE", or "-2:30" behind live: a click goes back to live), one sound button (Play while the
// browser blocks autoplay, Unmute while muted, Mute) and full screen (the button, or a double
// click on the video). The player owns the playback state; these only show it and pass the
// user's clicks on.

import { timeshiftLabel } from '../timeshift.js';
import type { TimeshiftControl } from '../timeshift-control.js';
import { icon } from './icons.js';

/** What the -10 s / +10 s buttons move. */
const SEEK_STEP_S = 10;

export interface PlayerControlsHooks {
  /** Playback waits for a click (autoplay refused). */
  blocked(): boolean;
  /** The user clicked while playback was blocked: try to play now. */
  resume(): void;
  /** The user's moves in time. */
  timeshift(): TimeshiftControl;
  /** Adds an event listener the player removes when it is destroyed. */
  listen<K extends keyof HTMLElementEventMap>(target: HTMLElement, type: K, fn: (e: HTMLElementEventMap[K]) => void): void;
}

export class PlayerControls {
  readonly element: HTMLDivElement;
  private readonly soundButton: HTMLButtonElement;
  private readonly playButton: HTMLButtonElement;
  private readonly forwardButton: HTMLButtonElement;
  private readonly liveButton: HTMLButtonElement;

  /** Builds the controls inside `container`, over `video`. */
  constructor(
    private readonly video: HTMLVideoElement,
    private readonly container: HTMLElement,
    private readonly hooks: PlayerControlsHooks,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'mtv-controls';
    const time = document.createElement('div');
    time.className = 'mtv-time';
    this.playButton = button('mtv-playpause', 'Pause');
    const back = button('mtv-back', `Back ${SEEK_STEP_S} seconds`, `−${SEEK_STEP_S}`);
    this.forwardButton = button('mtv-forward', `Forward ${SEEK_STEP_S} seconds`, `+${SEEK_STEP_S}`);
    this.liveButton = button('mtv-live', 'Playing live');
    time.append(this.playButton, back, this.forwardButton, this.liveButton);
    this.soundButton = button('mtv-sound', '');
    const fullscreen = button('mtv-fullscreen', 'Full screen');
    fullscreen.append(icon('fullscreen'));
    this.element.append(time, this.soundButton, fullscreen);
    hooks.listen(this.playButton, 'click', () => this.onPlayButton());
    hooks.listen(back, 'click', () => hooks.timeshift().seekBy(-SEEK_STEP_S));
    hooks.listen(this.forwardButton, 'click', () => hooks.timeshift().seekBy(SEEK_STEP_S));
    hooks.listen(this.liveButton, 'click', () => hooks.timeshift().goLive());
    hooks.listen(this.soundButton, 'click', () => this.onSoundButton());
    hooks.listen(fullscreen, 'click', () => this.toggleFullscreen());
    hooks.listen(video, 'dblclick', () => this.toggleFullscreen());
    hooks.listen(video, 'volumechange', () => this.render());
    this.render();
    this.renderTime();
  }

  /** Shows play/pause and the live badge (called by the player's control loop: cheap when nothing changed). */
  renderTime(): void {
    const playing = !this.video.paused && !this.hooks.blocked();
    const p = this.playButton;
    if (p.dataset.state !== (playing ? 'playing' : 'paused')) {
      p.dataset.state = playing ? 'playing' : 'paused';
      const label = playing ? 'Pause' : 'Play';
      p.title = label;
      p.setAttribute('aria-label', label);
      p.replaceChildren(icon(playing ? 'pause' : 'play'));
    }
    const shift = this.hooks.timeshift().state();
    const text = timeshiftLabel(shift.atLive, shift.behindS);
    const live = this.liveButton;
    if (live.textContent === text) return;
    live.textContent = text;
    live.classList.toggle('mtv-at-live', shift.atLive);
    const label = shift.atLive ? 'Playing live' : `${text.slice(1)} behind live: go to live`;
    live.title = label;
    live.setAttribute('aria-label', label);
    this.forwardButton.disabled = shift.atLive;
  }

  /** Shows the current state on the sound button (cheap when nothing changed). */
  render(): void {
    const b = this.soundButton;
    const state = this.hooks.blocked() ? 'play' : this.video.muted ? 'muted' : 'sound';
    if (b.dataset.state === state) return;
    b.dataset.state = state;
    const label = state === 'play' ? 'Play' : state === 'muted' ? 'Unmute' : 'Mute';
    b.title = label;
    b.setAttribute('aria-label', label);
    b.replaceChildren(icon(state));
    // Muted (or blocked) is the state to get out of: say so in words, not only with an icon.
    if (state !== 'sound') b.append(` ${label}`);
    b.classList.toggle('mtv-prominent', state !== 'sound');
  }

  private onPlayButton(): void {
    if (this.hooks.blocked() || this.video.paused) this.hooks.resume();
    else this.hooks.timeshift().pause();
    this.renderTime();
  }

  private onSoundButton(): void {
    const v = this.video;
    if (this.hooks.blocked()) this.hooks.resume();
    if (v.muted) {
      v.muted = false;
      if (v.volume === 0) v.volume = 1;
    } else {
      v.muted = true;
    }
    this.render();
  }

  private toggleFullscreen(): void {
    if (document.fullscreenElement !== null) void document.exitFullscreen().catch(() => undefined);
    else void this.container.requestFullscreen?.().catch(() => undefined);
  }
}

function button(className: string, label: string, text?: string): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  if (label !== '') {
    b.title = label;
    b.setAttribute('aria-label', label);
  }
  if (text !== undefined) b.textContent = text;
  return b;
}
