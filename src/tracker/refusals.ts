// What the tracker refuses: the HTTP status of each directory refusal, and the count and log of
// every refusal by reason (HTTP and signalling alike).

import { Counter, type Registry } from 'prom-client';
import type { Refusal } from './directory.js';
import { HttpError } from './http.js';
import type { SignalingRefusal } from './signaling.js';

/** The HTTP status each directory refusal is answered with. */
const REFUSAL_STATUS: Record<Refusal['code'], number> = {
  'too-many-channels': 503,
  'too-many-channels-from-address': 429,
  'directory-full': 503,
  'swarm-full': 503,
  'id-in-use': 409,
  'address-cap': 429,
  'too-many-sources': 409,
  'stale-record': 409,
  'stale-thumbnail': 409,
  'stale-guide': 409,
  'unknown-channel': 409,
};

export function refused(r: Refusal): HttpError {
  return new HttpError(REFUSAL_STATUS[r.code], r.message, r.code);
}

/** What each signalling refusal means, for the log. */
export const SIGNALING_REFUSALS: Record<SignalingRefusal, string> = {
  'socket-cap': 'too many signalling sockets from one address',
  'slow-reader': 'a signalling socket that did not read what it was sent was closed',
  'bad-message': 'a signalling socket sent garbage and was closed',
  'id-in-use': 'a signalling socket announced a peer id another socket holds',
};

/** A refusal reason is logged at most this often, with the count since its last line. */
const REFUSAL_LOG_MS = 60_000;

/** Counts refusals by reason (meshtv_tracker_refused_total) and logs each reason at most once a minute. */
export class RefusalLog {
  /** Refusals counted since start. */
  count = 0;
  private readonly counter: Counter<'reason'>;
  private readonly lastLogged = new Map<string, { atMs: number; since: number }>();

  constructor(
    registry: Registry,
    private readonly log: { warn(message: string): void } | undefined,
  ) {
    this.counter = new Counter({
      name: 'meshtv_tracker_refused_total',
      help: 'Requests refused, by reason (rate-limit, address-cap, unproven-source, spoofed-address, ...)',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  refused(reason: string, message: string, client: string): void {
    this.count++;
    this.counter.inc({ reason });
    if (this.log === undefined) return;
    const now = Date.now();
    const seen = this.lastLogged.get(reason);
    if (seen !== undefined && now - seen.atMs < REFUSAL_LOG_MS) {
      seen.since++;
      return;
    }
    const more = seen !== undefined && seen.since > 0 ? ` (and ${seen.since} more since the last line)` : '';
    this.lastLogged.set(reason, { atMs: now, since: 0 });
    this.log.warn(`refused ${reason}: ${message}; last from ${client}${more}`);
  }
}
