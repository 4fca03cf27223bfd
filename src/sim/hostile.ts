// Hostile peers in the simulator: each runs the same transport model as an honest viewer (its
// host, links, latency) and a PeerCore for its links' bookkeeping, but sends what its attack
// says instead of what the core would. What honest peers make of them is the shipped code:
// their cores' budgets, strikes and idle rule, and Admission's bans (simulator.ts wires them
// as CoreDriver does). Pure functions of the attack and the stream's newest chunk.

import { FLAG_KEYFRAME } from '../protocol/chunk.js';
import { MsgType, makeBufferMap, type WireMessage } from '../protocol/codec.js';

/**
 * - slots: links to as many peers as it can (the broadcaster first), says it does not relay,
 *   and asks every 2 s for a chunk nobody holds: to keep honest newcomers out.
 * - liar: advertises every chunk around the live edge and a keyframe ahead of it, and refuses
 *   every request: to waste requests and park newcomers on chunks it does not have.
 * - flood: HAVEs and buffer maps as fast as its link goes: to keep cores busy.
 * - replay: offers chunks from a minute back as its newest: to start newcomers on stale media.
 */
export type AttackKind = 'slots' | 'liar' | 'flood' | 'replay';
export const ATTACKS: readonly AttackKind[] = ['slots', 'liar', 'flood', 'replay'];

/** How often a hostile peer acts on each of its links. */
export const HOSTILE_TICK_MS = 100;
/** Neighbours a hostile peer dials up to (an honest viewer dials 8). */
export const HOSTILE_DIAL_TARGET = 32;

/** Whether a message its own core queued goes out: a hostile peer says hello and little else. */
export function passesOwnMessage(kind: AttackKind, msg: WireMessage): boolean {
  if (msg.type === MsgType.Hello) return true;
  // Its refusals back up its lies (a liar "holds" what it advertised, then refuses it).
  return kind === 'liar' && msg.type === MsgType.Reject;
}

/** What it sends on a link that has just opened, after its hello. */
export function onLinkOpen(kind: AttackKind, newestSeq: number): WireMessage[] {
  switch (kind) {
    case 'liar':
      return [makeBufferMap(Math.max(0, newestSeq - 60), 100, () => true, newestSeq + 30)];
    case 'replay': {
      const old = Math.max(0, newestSeq - 600);
      return [makeBufferMap(old, 20, () => true, old)];
    }
    default:
      return [];
  }
}

/** What it sends on each link every HOSTILE_TICK_MS; `tick` counts its ticks. */
export function onTick(kind: AttackKind, tick: number, newestSeq: number): WireMessage[] {
  switch (kind) {
    case 'slots':
      return tick % 20 === 0 ? [{ type: MsgType.Request, seq: 0xfffffff0 }] : [];
    case 'liar':
      return [{ type: MsgType.Have, seq: newestSeq + 1 + (tick % 3), flags: tick % 10 === 0 ? FLAG_KEYFRAME : 0 }];
    case 'flood': {
      // About 12 kB/s per link, past every budget within a tick: HAVEs and a full buffer map.
      const out: WireMessage[] = [makeBufferMap(Math.max(0, newestSeq - 4000), 4096, () => true, newestSeq)];
      for (let i = 0; i < 400; i++) out.push({ type: MsgType.Have, seq: Math.max(0, newestSeq - (i % 100)), flags: 0 });
      return out;
    }
    case 'replay': {
      const old = Math.max(0, newestSeq - 600 + (tick % 20));
      return [{ type: MsgType.Have, seq: old, flags: tick % 10 === 0 ? FLAG_KEYFRAME : 0 }];
    }
  }
}
