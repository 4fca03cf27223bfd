// Every rule by which a core judges a neighbour, in one place (as h11 keeps every rule of its
// state machine in one file): the hello, the message budgets and the request-flood limit, the
// strikes for broken promises and replays, the chunks it must not send, and when it counts as
// idle. Each rule returns a typed Misbehaviour (./misbehaviour.ts) or a plain answer; what
// follows (dropping the peer, banning it) is the core's and the runtime's business.

import type { VerifyFn } from '../crypto/signatures.js';
import { CHUNK_MS, type Chunk, verifyChunk } from './chunk.js';
import { type HelloMsg, MsgType, messageBodyBytes, PROTOCOL_VERSION, type WireMessage } from './codec.js';
import type { PeerCoreConfig } from './core-types.js';
import type { Misbehaviour, MisbehaviourCode } from './misbehaviour.js';
import type { Neighbour } from './neighbour.js';

/**
 * A neighbour that has done nothing useful since it came may make room for a newcomer after
 * this, sooner than idleEvictMs: squatters take slots and do nothing (meshtv sim --attack
 * slots, 10%: honest continuity p5 0.988 -> 0.991; without attackers p5 0.992 -> 0.993).
 */
const NEVER_ACTIVE_EVICT_MS = 3000;

/** The first unrequested copy of one of the newest chunks from a neighbour is a crossed push, not a replay. */
const FRESH_PUSH_TOLERANCE_CHUNKS = 2000 / CHUNK_MS;

/** Before any message is handled: a hello comes first, and every kind stays within its budget. */
export function admitMessage(n: Neighbour, nowMs: number, msg: WireMessage): Misbehaviour | undefined {
  if (n.role === undefined && msg.type !== MsgType.Hello) return { code: 'message-before-hello' };
  const flood = n.budget.charge(nowMs, msg, msg.type === MsgType.ChunkData ? 0 : messageBodyBytes(msg));
  return flood === undefined ? undefined : { code: flood };
}

/** One hello per link, in our protocol version, for our channel. */
export function checkHello(n: Neighbour, msg: HelloMsg, channelKey: Uint8Array): Misbehaviour | undefined {
  if (n.role !== undefined) return { code: 'second-hello' };
  if (msg.version !== PROTOCOL_VERSION) return { code: 'wrong-version', detail: String(msg.version) };
  if (!equalBytes(msg.channelKey, channelKey)) return { code: 'wrong-channel' };
  return undefined;
}

/** A neighbour that sent no hello within helloTimeoutMs of connecting. */
export function helloOverdue(n: Neighbour, nowMs: number, config: PeerCoreConfig): Misbehaviour | undefined {
  return n.role === undefined && nowMs - n.connectedAtMs > config.helloTimeoutMs ? { code: 'hello-timeout' } : undefined;
}

/** Takes one request from the neighbour's token bucket (requestRatePerS, requestBurst); empty is a flood. */
export function takeRequest(n: Neighbour, nowMs: number, config: PeerCoreConfig): Misbehaviour | undefined {
  const rate = config.requestRatePerS / 1000;
  n.requestTokens = Math.min(config.requestBurst, n.requestTokens + (nowMs - n.tokensAtMs) * rate);
  n.tokensAtMs = nowMs;
  if (n.requestTokens < 1) return { code: 'flood-requests' };
  n.requestTokens -= 1;
  return undefined;
}

/** A request unanswered for requestTimeoutMs: given up, and a strike against the neighbour. */
export function requestOverdue(askedAtMs: number, nowMs: number, config: PeerCoreConfig): boolean {
  return nowMs - askedAtMs > config.requestTimeoutMs;
}

/**
 * Counts a broken promise (a chunk advertised then refused or never sent, an unrequested
 * replay); the neighbour's maxStrikes-th in a row is misbehaviour.
 */
export function strike(n: Neighbour, code: MisbehaviourCode, config: PeerCoreConfig): Misbehaviour | undefined {
  n.strikes++;
  return n.strikes < config.maxStrikes ? undefined : { code };
}

/** A new verified chunk from it: its strikes were a bad patch, not a pattern. */
export function forgiveStrikes(n: Neighbour): void {
  n.strikes = 0;
}

/**
 * Whether a copy of a chunk we hold already is a replay worth a strike: not asked for, not a
 * request we took back (its copy may still come), and not the first copy of one of the newest
 * chunks from a neighbour not known to hold it (a push that crossed our request elsewhere).
 * Forgets the taken-back request.
 */
export function isReplay(n: Neighbour, seq: number, requested: boolean, newestSeq: number): boolean {
  const crossedPush = !n.holds.has(seq) && seq + FRESH_PUSH_TOLERANCE_CHUNKS >= newestSeq;
  const wasCancelled = n.cancelled.delete(seq);
  return !requested && !crossedPush && !wasCancelled;
}

/** A chunk of another channel: its sender relays a stream we did not ask for. */
export function foreignChunk(chunk: Chunk, channelKey: Uint8Array): Misbehaviour | undefined {
  return equalBytes(chunk.channelKey, channelKey) ? undefined : { code: 'foreign-chunk' };
}

/** A chunk whose signature is not the channel's: a forgery (checked only for chunks we keep). */
export function forgedChunk(chunk: Chunk, verify: VerifyFn): Misbehaviour | undefined {
  return verifyChunk(chunk, verify) ? undefined : { code: 'bad-signature', detail: String(chunk.seq) };
}

/**
 * When full: the neighbour that has exchanged nothing useful for longest, if that is over
 * idleEvictMs (NEVER_ACTIVE_EVICT_MS for one never active since it came).
 */
export function idleVictim(neighbours: readonly Neighbour[], nowMs: number, config: PeerCoreConfig): Neighbour | undefined {
  let victim: Neighbour | undefined;
  for (const n of neighbours) {
    const limit = n.lastActiveMs === n.connectedAtMs ? Math.min(config.idleEvictMs, NEVER_ACTIVE_EVICT_MS) : config.idleEvictMs;
    if (n.closing || nowMs - n.lastActiveMs < limit) continue;
    if (victim === undefined || n.lastActiveMs < victim.lastActiveMs) victim = n;
  }
  return victim;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
