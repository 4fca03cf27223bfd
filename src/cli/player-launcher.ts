// `meshtv watch --player vlc|mpv|ffplay`: finds the player, starts it on the viewer's stream
// and reports when it exits (the viewer then stops). Its output is kept out of the terminal,
// which belongs to the status line; the last lines are kept to explain a failure.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../common/errors.js';
import { findOnPath } from '../media/ffmpeg.js';

export const PLAYERS = ['vlc', 'mpv', 'ffplay'] as const;
export type PlayerName = (typeof PLAYERS)[number];

export interface PlayerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** How long the player ran. */
  ranMs: number;
  /** Its last line of output, if any. */
  lastLine: string | undefined;
}

export interface PlayerProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<PlayerExit>;
  /** Asks the player to quit (SIGTERM, then SIGKILL) and waits for it. */
  stop(): Promise<void>;
}

const INSTALL_HINTS: Record<PlayerName, string> = {
  vlc: 'https://www.videolan.org/vlc/ or apt-get install vlc',
  mpv: 'https://mpv.io/installation/ or apt-get install mpv',
  ffplay: 'it comes with ffmpeg: https://ffmpeg.org/download.html or apt-get install ffmpeg',
};
export const KILL_AFTER_MS = 3000;

/** The time and the one timer a player process uses; tests pass virtual ones. */
export interface PlayerClock {
  now(): number;
  /** Runs `fn` after `ms`; returns how to cancel it. */
  after(ms: number, fn: () => void): () => void;
}

const realClock: PlayerClock = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export function parsePlayer(value: string): PlayerName {
  const name = value.trim().toLowerCase();
  if (!(PLAYERS as readonly string[]).includes(name)) throw new UserError(`--player must be ${PLAYERS.join(', ')}; got "${value}"`);
  return name as PlayerName;
}

/** The player's executable: on PATH, else where its installer puts it (macOS, Windows). */
export function findPlayer(name: PlayerName, env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const onPath = findOnPath(name, env);
  if (onPath !== undefined) return onPath;
  for (const candidate of knownLocations(name, env, platform)) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not installed there
    }
  }
  throw new UserError(`${name} is not installed (not found on PATH); install it (${INSTALL_HINTS[name]}) or choose another --player`);
}

function knownLocations(name: PlayerName, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  if (platform === 'darwin') {
    if (name === 'vlc') return ['/Applications/VLC.app/Contents/MacOS/VLC'];
    if (name === 'mpv') return ['/Applications/mpv.app/Contents/MacOS/mpv', '/opt/homebrew/bin/mpv', '/usr/local/bin/mpv'];
  }
  if (platform === 'win32' && name === 'vlc') {
    return [env.ProgramFiles, env['ProgramFiles(x86)']]
      .filter((d) => d !== undefined)
      .map((d) => path.join(d, 'VideoLAN', 'VLC', 'vlc.exe'));
  }
  return [];
}

/** No graphical display: on Linux and the BSDs, neither X11 nor Wayland is reachable. */
export function isHeadless(env: NodeJS.ProcessEnv = process.env, platform = process.platform): boolean {
  if (platform === 'darwin' || platform === 'win32') return false;
  return !env.DISPLAY && !env.WAYLAND_DISPLAY;
}

/**
 * Arguments for each player on a live MPEG-TS URL. None is told to quit at the end of input
 * (ffplay's -autoexit): the viewer decides when the channel is over and stops the player.
 * VLC is told to quit when its playlist ends, so closing the stream does not leave it idle.
 */
export function playerArgs(name: PlayerName, url: string, o: { title: string; headless: boolean }): string[] {
  switch (name) {
    case 'vlc':
      return ['--play-and-exit', `--meta-title=${o.title}`, url];
    case 'mpv':
      return [`--title=${o.title}`, '--force-window=immediate', url];
    case 'ffplay':
      // Without a display SDL cannot open a window: play the sound only (-nodisp). ffplay sets
      // scan_all_pmts, with which it reads 5 s of stream before its first frame (4.97 s cold,
      // bench/watch-start.ts); our stream has one program, so the scan can stop once it is found
      // (1.98 s), without adding lag.
      return [
        '-hide_banner',
        '-loglevel',
        'warning',
        '-scan_all_pmts',
        '0',
        '-window_title',
        o.title,
        ...(o.headless ? ['-nodisp'] : []),
        url,
      ];
  }
}

export function startPlayer(command: string, args: string[], clock: PlayerClock = realClock): PlayerProcess {
  const startedAt = clock.now();
  let tail = '';
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-2000);
  });
  const exited = new Promise<PlayerExit>((resolve) => {
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, err?: Error) => {
      if (done) return;
      done = true;
      const lastLine = err?.message ?? tail.trim().split(/\r?\n/).pop();
      resolve({ code, signal, ranMs: clock.now() - startedAt, lastLine: lastLine === '' ? undefined : lastLine });
    };
    child.on('error', (err) => {
      if (child.pid === undefined) finish(null, null, err);
    });
    child.on('close', (code, signal) => finish(code, signal));
  });
  return {
    pid: child.pid,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const cancel = clock.after(KILL_AFTER_MS, () => child.kill('SIGKILL'));
      await exited;
      cancel();
    },
  };
}
