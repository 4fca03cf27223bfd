// The channel's programme guide and logo in the trackers' directory: signed with the channel key
// and posted to every tracker at start, on every change of the schedule file, and again every
// minute (a restarted tracker forgets them). The schedule file is watched: editing it (a title
// changed, a programme added) is how the guide changes while live; a bad edit is logged with its
// line and the last good schedule stays. Failures only log: a guide never stops a channel.

import fs from 'node:fs';
import { MAX_SCHEDULE_FILE_BYTES, parseSchedule, ScheduleError } from '../api/schedule-file.js';
import { UserError } from '../common/errors.js';
import { bytesToHex } from '../common/hex.js';
import type { Logger } from '../common/log.js';
import type { ChannelKey } from '../crypto/keys.js';
import { type ChannelGuide, MAX_GUIDE_BYTES, type Programme, signGuide } from '../protocol/guide.js';
import { signLogo } from '../protocol/logo.js';

const GUIDE_REFRESH_MS = 60_000;
/** How often the schedule file's modification time is looked at (polling survives editors that replace the file). */
const SCHEDULE_POLL_MS = 1000;
const REQUEST_TIMEOUT_MS = 5000;

/** What the broadcaster says about its channel (checked by the CLI). */
export interface GuideOptions {
  category?: string;
  language?: string;
  description?: string;
  /** A checked PNG or JPEG. */
  logo?: Uint8Array;
  scheduleFile?: string;
  /** The schedule file's programmes as read at start. */
  programmes?: Programme[];
}

/** The programmes of a schedule file, or a UserError naming the file, the line and the reason. */
export function readScheduleFile(file: string): Programme[] {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_SCHEDULE_FILE_BYTES) throw new UserError(`${file}: ${size} bytes is too large (at most ${MAX_SCHEDULE_FILE_BYTES})`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parseSchedule(text);
  } catch (err) {
    if (err instanceof ScheduleError) throw new UserError(`${file}${err.line !== undefined ? `, line ${err.line}` : ''}: ${err.reason}`);
    throw err;
  }
}

/** The guide to publish at `nowMs`: the programmes not yet over, as many as fit MAX_GUIDE_BYTES once signed. */
export function currentGuide(channelId: string, o: GuideOptions, programmes: readonly Programme[], nowMs: number): ChannelGuide {
  const left = programmes.filter((p) => p.stopMs > nowMs);
  return {
    channelId,
    issuedAtMs: nowMs,
    ...(o.category !== undefined ? { category: o.category } : {}),
    ...(o.language !== undefined ? { language: o.language } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
    programmes: left,
  };
}

/** The signed guide's size as a tracker reads it: what must stay under MAX_GUIDE_BYTES. */
export function signedGuideBytes(guide: ChannelGuide): number {
  // A signature is 128 hex digits whatever it signs.
  return Buffer.byteLength(JSON.stringify({ guide, signature: '0'.repeat(128) }));
}

export function guideTooLarge(guide: ChannelGuide): string | undefined {
  const size = signedGuideBytes(guide);
  return size > MAX_GUIDE_BYTES
    ? `the guide is ${size} bytes once signed (at most ${MAX_GUIDE_BYTES}): list fewer programmes or shorten their descriptions`
    : undefined;
}

export class GuidePublisher {
  private programmes: Programme[];
  private timer: NodeJS.Timeout | undefined;
  private readonly onScheduleChange = (now: fs.Stats, before: fs.Stats) => {
    if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) this.reread();
  };

  constructor(
    private readonly o: {
      key: ChannelKey;
      trackers: readonly string[];
      guide: GuideOptions;
      /** Settles once a tracker holds the channel record (it refuses a guide before). */
      recordPublished: (trackerUrl: string) => Promise<unknown> | undefined;
      log: Logger;
    },
  ) {
    this.programmes = o.guide.programmes ?? [];
  }

  start(): void {
    this.publishSoon();
    this.timer = setInterval(() => this.publishSoon(), GUIDE_REFRESH_MS);
    this.timer.unref();
    if (this.o.guide.scheduleFile !== undefined)
      fs.watchFile(this.o.guide.scheduleFile, { interval: SCHEDULE_POLL_MS }, this.onScheduleChange);
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.o.guide.scheduleFile !== undefined) fs.unwatchFile(this.o.guide.scheduleFile, this.onScheduleChange);
  }

  private reread(): void {
    const file = this.o.guide.scheduleFile as string;
    try {
      const programmes = readScheduleFile(file);
      const tooLarge = guideTooLarge(currentGuide(this.o.key.channelId, this.o.guide, programmes, Date.now()));
      if (tooLarge !== undefined) throw new UserError(`${file}: ${tooLarge}`);
      this.programmes = programmes;
      this.o.log.info(`schedule ${file} changed: ${programmes.length} programmes, publishing the guide again`);
      this.publishSoon();
    } catch (err) {
      this.o.log.warn(`${(err as Error).message}; the guide keeps the last good schedule`);
    }
  }

  private publishSoon(): void {
    const now = Date.now();
    const signed = JSON.stringify(signGuide(currentGuide(this.o.key.channelId, this.o.guide, this.programmes, now), this.o.key.sign));
    const logo = this.o.guide.logo;
    const logoSignature = logo !== undefined ? bytesToHex(signLogo(now, logo, this.o.key.sign)) : undefined;
    for (const t of this.o.trackers) {
      void Promise.resolve(this.o.recordPublished(t)).then(async () => {
        await this.post(t, 'guide', { 'content-type': 'application/json' }, signed);
        if (logo !== undefined && logoSignature !== undefined)
          await this.post(
            t,
            'logo',
            { 'content-type': 'application/octet-stream', 'x-meshtv-issued-at': String(now), 'x-meshtv-signature': logoSignature },
            Buffer.from(logo),
          );
      });
    }
  }

  private async post(trackerUrl: string, what: string, headers: Record<string, string>, body: string | Buffer<ArrayBuffer>): Promise<void> {
    try {
      const res = await fetch(new URL(`/api/channels/${this.o.key.channelId}/${what}`, trackerUrl), {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      if (!res.ok) this.o.log.warn(`tracker ${trackerUrl} refused the channel's ${what}: ${text.slice(0, 200)}`);
    } catch (err) {
      this.o.log.debug(`${what} to ${trackerUrl}: ${(err as Error).message}`);
    }
  }
}
