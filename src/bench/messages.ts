// What the bench's child processes (`meshtv tracker`, `broadcast`, `bench-fanout`, `bench-host`)
// tell the bench, as structured messages over the Node IPC channel it spawns them with. Their
// log lines stay for people; the bench reads only these.

import type { HostReport } from './host.js';

export type BenchMessage =
  | { type: 'tracker-listening'; url: string }
  /** `statsUrl` is the broadcaster's stats.json, present when it serves HTTP (`--http-port`). */
  | { type: 'broadcasting'; uri: string; channelId: string; statsUrl: string | undefined }
  | { type: 'fanout-listening'; url: string }
  /** A bench host's measures, sent once it was told to stop (SIGTERM). */
  | { type: 'host-report'; report: HostReport };

export type BenchMessageType = BenchMessage['type'];
export type BenchMessageOf<T extends BenchMessageType> = Extract<BenchMessage, { type: T }>;

const TYPES: ReadonlySet<string> = new Set<BenchMessageType>(['tracker-listening', 'broadcasting', 'fanout-listening', 'host-report']);

export function isBenchMessage(m: unknown): m is BenchMessage {
  return typeof m === 'object' && m !== null && TYPES.has((m as { type?: unknown }).type as string);
}

/**
 * Sends `message` to the bench when this process has an IPC channel (it was started by the
 * bench), and resolves once it is written, so that exiting right after does not lose it.
 * Resolves with whether there was a bench to tell.
 */
export function tellBench(message: BenchMessage): Promise<boolean> {
  const send = process.send?.bind(process);
  if (send === undefined || !process.connected) return Promise.resolve(false);
  return new Promise((resolve) => {
    // A bench that went away is no error of this process: it only loses its reader.
    send(message, undefined, undefined, () => resolve(true));
  });
}
