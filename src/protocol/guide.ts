// A channel's programme guide: category, language, description and programmes, signed with the
// channel key beside the channel record (which is re-signed every 10 s and stays small). The
// signed bytes sit behind their own domain tag, so no record, chunk or thumbnail signature can
// pass for a guide's. Pure: no I/O, no clock.

import { bytesToHex, hexToBytes } from '../common/hex.js';
import type { SignFn, VerifyFn } from '../crypto/signatures.js';
import { hiddenCharacterProblem } from './channel-record.js';

export interface Programme {
  startMs: number;
  stopMs: number;
  title: string;
  description?: string;
  category?: string;
}

export interface ChannelGuide {
  /** Hex of the channel's public key. */
  channelId: string;
  /** When the broadcaster signed it; a tracker keeps only the newest per channel. */
  issuedAtMs: number;
  category?: string;
  /** A BCP 47 language tag (en, pt-BR, deu). */
  language?: string;
  description?: string;
  /** Sorted by start, none overlapping. */
  programmes: Programme[];
}

export interface SignedChannelGuide {
  guide: ChannelGuide;
  /** Hex Ed25519 signature over guideBytes. */
  signature: string;
}

/** A week of programmes every 20 minutes. */
export const MAX_PROGRAMMES = 500;
export const MAX_TITLE_LENGTH = 120;
export const MAX_DESCRIPTION_LENGTH = 1000;
export const MAX_CATEGORY_LENGTH = 40;
/** The signed guide as JSON: what a tracker reads and keeps per channel at most. */
export const MAX_GUIDE_BYTES = 128 * 1024;

/** ISO 639 language (2-3 letters) with optional BCP 47 subtags: en, pt-BR, zh-Hant-TW. */
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}$/;

/** Why a language tag is refused (undefined: fine). */
export function languageProblem(tag: string): string | undefined {
  return LANGUAGE_TAG.test(tag) ? undefined : `language must be a BCP 47 tag such as en, fr or pt-BR, got "${tag.slice(0, 40)}"`;
}

/** Why a piece of guide text is refused: too long, or with control or invisible characters. */
export function guideTextProblem(what: string, text: string, maxLength: number, required = false): string | undefined {
  if (required && text.trim().length === 0) return `${what} must not be empty`;
  if (text.length > maxLength) return `${what} is ${text.length} characters long (at most ${maxLength})`;
  return hiddenCharacterProblem(what, text);
}

/**
 * Why a list of programmes is refused, and which one (its index) caused it: each must stop
 * after it starts, none may overlap the one before (they are sorted by start here).
 */
export function programmesProblem(list: readonly Programme[]): { index: number; problem: string } | undefined {
  if (list.length > MAX_PROGRAMMES)
    return { index: MAX_PROGRAMMES, problem: `too many programmes (${list.length}; at most ${MAX_PROGRAMMES})` };
  for (const [index, p] of list.entries()) {
    const problem = programmeProblem(p);
    if (problem !== undefined) return { index, problem };
    const before = list[index - 1];
    if (before !== undefined && p.startMs < before.startMs) return { index, problem: 'programmes must be listed in order of start' };
    if (before !== undefined && p.startMs < before.stopMs) return { index, problem: `overlaps the programme before ("${before.title}")` };
  }
  return undefined;
}

/** The last instant of year 9999: guides speak of times XMLTV can write (four-digit years), never before 1970. */
const LAST_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function programmeProblem(p: Programme): string | undefined {
  const time = (ms: number) => Number.isSafeInteger(ms) && ms >= 0 && ms <= LAST_TIME_MS;
  if (!time(p.startMs) || !time(p.stopMs)) return 'start and stop must be times from 1970 to 9999';
  if (p.stopMs <= p.startMs) return 'stops before it starts';
  return (
    guideTextProblem('title', p.title, MAX_TITLE_LENGTH, true) ??
    (p.description !== undefined ? guideTextProblem('description', p.description, MAX_DESCRIPTION_LENGTH) : undefined) ??
    (p.category !== undefined ? guideTextProblem('category', p.category, MAX_CATEGORY_LENGTH) : undefined)
  );
}

function guideBytes(g: ChannelGuide): Uint8Array {
  const fields = [
    g.channelId,
    g.issuedAtMs,
    g.category ?? null,
    g.language ?? null,
    g.description ?? null,
    g.programmes.map((p) => [p.startMs, p.stopMs, p.title, p.description ?? null, p.category ?? null]),
  ];
  return new TextEncoder().encode(`meshtv-guide-v1\n${JSON.stringify(fields)}`);
}

export function signGuide(guide: ChannelGuide, sign: SignFn): SignedChannelGuide {
  return { guide, signature: bytesToHex(sign(guideBytes(guide))) };
}

/** The guide with exactly the signed fields: what a checked guide is stored and passed on as. */
export function canonicalGuide(g: ChannelGuide): ChannelGuide {
  return {
    channelId: g.channelId,
    issuedAtMs: g.issuedAtMs,
    ...(g.category !== undefined ? { category: g.category } : {}),
    ...(g.language !== undefined ? { language: g.language } : {}),
    ...(g.description !== undefined ? { description: g.description } : {}),
    programmes: g.programmes.map((p) => ({
      startMs: p.startMs,
      stopMs: p.stopMs,
      title: p.title,
      ...(p.description !== undefined ? { description: p.description } : {}),
      ...(p.category !== undefined ? { category: p.category } : {}),
    })),
  };
}

/** Why the guide's own fields (not its programmes) are refused. */
export function guideFieldsProblem(g: Pick<ChannelGuide, 'category' | 'language' | 'description'>): string | undefined {
  if (g.category !== undefined) {
    const p = guideTextProblem('category', g.category, MAX_CATEGORY_LENGTH, true);
    if (p !== undefined) return p;
  }
  if (g.language !== undefined) {
    const p = languageProblem(g.language);
    if (p !== undefined) return p;
  }
  return g.description !== undefined ? guideTextProblem('description', g.description, MAX_DESCRIPTION_LENGTH) : undefined;
}

/** Checks shape, limits and signature of an untrusted signed guide; the reason it is refused, or undefined. */
export function checkSignedGuide(input: unknown, verify: VerifyFn): string | undefined {
  if (typeof input !== 'object' || input === null) return 'body must be an object';
  const { guide, signature } = input as Record<string, unknown>;
  if (typeof guide !== 'object' || guide === null) return 'guide missing';
  const g = guide as Record<string, unknown>;
  if (typeof g.channelId !== 'string' || !/^[0-9a-f]{64}$/.test(g.channelId)) return 'channelId must be 64 lowercase hex digits';
  if (typeof g.issuedAtMs !== 'number' || !Number.isSafeInteger(g.issuedAtMs)) return 'issuedAtMs must be a whole number';
  for (const f of ['category', 'language', 'description'])
    if (g[f] !== undefined && typeof g[f] !== 'string') return `${f} must be a string`;
  const fields = guideFieldsProblem(g as Partial<ChannelGuide>);
  if (fields !== undefined) return fields;
  if (!Array.isArray(g.programmes)) return 'programmes must be a list';
  if (g.programmes.length > MAX_PROGRAMMES) return `too many programmes (at most ${MAX_PROGRAMMES})`;
  for (const p of g.programmes as unknown[]) {
    if (typeof p !== 'object' || p === null) return 'each programme must be an object';
    const q = p as Record<string, unknown>;
    if (typeof q.startMs !== 'number' || typeof q.stopMs !== 'number' || typeof q.title !== 'string')
      return 'programme needs startMs, stopMs and title';
    if ((q.description !== undefined && typeof q.description !== 'string') || (q.category !== undefined && typeof q.category !== 'string'))
      return 'programme description and category must be strings';
  }
  const bad = programmesProblem(g.programmes as Programme[]);
  if (bad !== undefined) return `programme ${bad.index + 1}: ${bad.problem}`;
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature)) return 'signature must be 128 hex digits';
  const ok = verify(hexToBytes(g.channelId), guideBytes(g as unknown as ChannelGuide), hexToBytes(signature));
  return ok ? undefined : 'signature does not match the channel key';
}

/** The programme on now and the one after it, at `nowMs`. */
export function nowAndNext(programmes: readonly Programme[], nowMs: number): { now?: Programme; next?: Programme } {
  const i = programmes.findIndex((p) => p.stopMs > nowMs);
  if (i < 0) return {};
  const first = programmes[i] as Programme;
  if (first.startMs > nowMs) return { next: first };
  const next = programmes[i + 1];
  return next !== undefined ? { now: first, next } : { now: first };
}
