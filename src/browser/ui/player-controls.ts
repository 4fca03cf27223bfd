/// <reference lib="dom" />
// The player's own controls over the video: one sound button (Play while the browser blocks
// autoplay, Unmute while muted, Mute) and full screen (the button, or a double click on the
// video). The player owns the playback state; these only show it and pass the user's clicks on.

import { icon } from './icons.js';

export interface PlayerControlsHooks {
  /** Playback waits for a click (autoplay refused). */
  blocked(): boolean;
  /** The user clicked while playback was blocked: try to play now. */
  resume(): void;
  /** Adds an event listener the player removes when it is destroyed. */
  listen<K extends keyof HTMLElementEventMap>(target: HTMLElement, type: K, fn: (e: HTMLElementEventMap[K]) => void): void;
}

export class PlayerControls {
  readonly element: HTMLDivElement;
  private readonly soundButton: HTMLButtonElement;

  /** Builds the controls inside `container`, over `video`. */
  constructor(
    private readonly video: HTMLVideoElement,
    private readonly container: HTMLElement,
    private readonly hooks: PlayerControlsHooks,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'mtv-controls';
    this.soundButton = document.createElement('button');
    this.soundButton.type = 'button';
    this.soundButton.className = 'mtv-sound';
    const fullscreen = document.createElement('button');
    fullscreen.type = 'button';
    fullscreen.className = 'mtv-fullscreen';
    fullscreen.title = 'Full screen';
    fullscreen.setAttribute('aria-label', 'Full screen');
    fullscreen.append(icon('fullscreen'));
    this.element.append(this.soundButton, fullscreen);
    hooks.listen(this.soundButton, 'click', () => this.onSoundButton());
    hooks.listen(fullscreen, 'click', () => this.toggleFullscreen());
    hooks.listen(video, 'dblclick', () => this.toggleFullscreen());
    hooks.listen(video, 'volumechange', () => this.render());
    this.render();
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
