// The STUN/TURN servers the tracker hands to peers (GET /api/network), with time-limited TURN
// credentials when it shares a secret with the TURN server.

import { createHmac } from 'node:crypto';
import { type IceServer, isTurnServer, turnRestCredentials } from '../transport/ice.js';

const DEFAULT_TURN_TTL_S = 3600;

export interface TrackerIceConfig {
  servers: IceServer[];
  /** Shared with the TURN server (coturn's static-auth-secret): TURN entries get fresh credentials. */
  turnSecret?: string;
  /**
   * Lifetime of those credentials, seconds. Short, since anyone may ask for them (within the
   * rate limit); a TURN server also checks them when an allocation is refreshed, so a relayed
   * link lives this long after its page asked. @default 3600
   */
  turnTtlS?: number;
}

/** The ICE servers for one viewer: TURN entries without a password get time-limited ones. */
export async function iceServersFor(ice: TrackerIceConfig | undefined, nowMs: number): Promise<IceServer[]> {
  if (ice === undefined) return [];
  const secret = ice.turnSecret;
  return Promise.all(
    ice.servers.map(async (s) =>
      secret === undefined || s.username !== undefined || !isTurnServer(s)
        ? s
        : {
            urls: s.urls,
            ...(await turnRestCredentials(secret, nowMs, ice.turnTtlS ?? DEFAULT_TURN_TTL_S, (k, d) =>
              createHmac('sha1', k).update(d).digest(),
            )),
          },
    ),
  );
}
