// ICE configuration shared by browser and native viewers: STUN and TURN servers given by flag or
// handed out by the tracker, and the path a connected WebRTC link took through the network
// (direct host-to-host, reflexive through a NAT's mapping, or relayed by a TURN server).
// Nothing public is used by default: an operator names the servers.

/** One entry of RTCConfiguration.iceServers. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/** How a link reaches its peer: TCP and host candidates are direct. */
export type LinkPath = 'direct' | 'reflexive' | 'relayed';

/**
 * Parses a `--stun` or `--turn` value. STUN: `stun:host[:port]` or `host[:port]`. TURN:
 * `turn:user:password@host[:port][?transport=udp|tcp]` (or `turns:`), or the same without
 * credentials when the tracker mints them (see turnRestCredentials). Throws an Error that says
 * what is wrong.
 */
export function parseIceServer(kind: 'stun' | 'turn', text: string): IceServer {
  const schemes = kind === 'stun' ? ['stun:', 'stuns:'] : ['turn:', 'turns:'];
  const withScheme = schemes.some((s) => text.startsWith(s)) ? text : `${kind}:${text}`;
  const scheme = withScheme.slice(0, withScheme.indexOf(':') + 1);
  let rest = withScheme.slice(scheme.length).replace(/^\/\//, '');
  let username: string | undefined;
  let credential: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    if (kind === 'stun') throw new Error(`STUN server ${JSON.stringify(text)} takes no credentials`);
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon <= 0 || colon === userinfo.length - 1)
      throw new Error(`TURN server ${JSON.stringify(text)}: credentials must be user:password@ before the host`);
    try {
      username = decodeURIComponent(userinfo.slice(0, colon));
      credential = decodeURIComponent(userinfo.slice(colon + 1));
    } catch {
      throw new Error(`TURN server ${JSON.stringify(text)}: a %-escape in the credentials is malformed`);
    }
    rest = rest.slice(at + 1);
  }
  const [hostPort = '', query] = rest.split('?', 2);
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(hostPort);
  const port = m?.[2] === undefined ? undefined : Number(m[2]);
  if (!m || (port !== undefined && (port < 1 || port > 65535)))
    throw new Error(`${kind.toUpperCase()} server ${JSON.stringify(text)} must look like ${kind}:host:port`);
  if (query !== undefined && !/^transport=(udp|tcp)$/.test(query))
    throw new Error(`${kind.toUpperCase()} server ${JSON.stringify(text)}: the only option is ?transport=udp or ?transport=tcp`);
  const url = `${scheme}${hostPort}${query === undefined ? '' : `?${query}`}`;
  return { urls: [url], ...(username !== undefined ? { username, credential } : {}) };
}

/**
 * Time-limited TURN credentials in the scheme coturn calls the "TURN REST API"
 * (`use-auth-secret`): the user name is the expiry time in Unix seconds, the password is the
 * base64 HMAC-SHA1 of that name keyed with a secret the tracker shares with the TURN server.
 * Handing out the secret's product instead of a fixed password means a leaked credential stops
 * working by itself.
 */
export async function turnRestCredentials(
  secret: string,
  nowMs: number,
  ttlS: number,
  hmacSha1: (key: string, data: string) => Promise<Uint8Array> | Uint8Array,
): Promise<{ username: string; credential: string }> {
  const username = String(Math.floor(nowMs / 1000) + ttlS);
  const mac = await hmacSha1(secret, username);
  return { username, credential: base64(mac) };
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/**
 * What a tracker tells peers about reaching each other (GET /api/network): STUN/TURN servers,
 * and the WebTorrent-protocol trackers to signal through (empty: the tracker's own /announce).
 */
export interface NetworkConfig {
  iceServers: IceServer[];
  signaling: string[];
}

/** A TURN entry (turn: or turns:), the kind that needs credentials. */
export function isTurnServer(s: { urls: readonly string[] }): boolean {
  return s.urls.some((u) => u.startsWith('turn'));
}

/** A WebTorrent tracker's signalling URL: ws:// or wss://, a host, no spaces, under 256 characters. */
export function isSignalingUrl(u: string): boolean {
  return u.length < 256 && /^wss?:\/\/[^\s/]+\S*$/.test(u);
}

/** Checks a tracker's /api/network answer (untrusted): keeps the well-formed parts. */
export function checkNetworkConfig(body: unknown): NetworkConfig {
  const o = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const signaling = (Array.isArray(o.signaling) ? o.signaling : [])
    .slice(0, 8)
    .filter((u): u is string => typeof u === 'string' && isSignalingUrl(u));
  return { iceServers: checkIceServers(o.iceServers), signaling };
}

/** Checks a list of ICE servers received from a tracker (untrusted) and keeps the well-formed ones. */
export function checkIceServers(value: unknown): IceServer[] {
  if (!Array.isArray(value)) return [];
  const out: IceServer[] = [];
  for (const v of value.slice(0, 8)) {
    if (typeof v !== 'object' || v === null) continue;
    const { urls, username, credential } = v as Record<string, unknown>;
    const list = (Array.isArray(urls) ? urls : [urls]).filter(
      (u): u is string => typeof u === 'string' && u.length < 256 && /^(stun|stuns|turn|turns):/.test(u),
    );
    if (list.length === 0) continue;
    const isTurn = isTurnServer({ urls: list });
    if (isTurn && (typeof username !== 'string' || typeof credential !== 'string')) continue;
    out.push({ urls: list, ...(isTurn ? { username: username as string, credential: credential as string } : {}) });
  }
  return out;
}

/**
 * The configuration node-datachannel's polyfill needs: it splices user name and password into a
 * `turn:user:pass@host` URL without escaping, and libdatachannel URL-decodes them, so they are
 * escaped here (a REST user name may hold a colon, a base64 password a slash or a plus).
 */
export function forNodeDataChannel(servers: readonly IceServer[]): IceServer[] {
  return servers.map((s) =>
    s.username === undefined
      ? s
      : { urls: s.urls, username: encodeURIComponent(s.username), credential: encodeURIComponent(s.credential ?? '') },
  );
}

export interface StatsLike {
  forEach(cb: (value: Record<string, unknown>) => void): void;
}

/**
 * The path of a connected peer connection, from its selected candidate pair (W3C getStats,
 * which Chromium and node-datachannel both implement); undefined when not known yet.
 */
export async function linkPathOf(pc: { getStats(): Promise<StatsLike> }): Promise<LinkPath | undefined> {
  const byId = new Map<string, Record<string, unknown>>();
  let selectedPairId: string | undefined;
  (await pc.getStats()).forEach((r) => {
    byId.set(String(r.id), r);
    if (r.type === 'transport' && typeof r.selectedCandidatePairId === 'string') selectedPairId = r.selectedCandidatePairId;
  });
  let pair = selectedPairId === undefined ? undefined : byId.get(selectedPairId);
  if (pair === undefined)
    for (const r of byId.values()) if (r.type === 'candidate-pair' && r.state === 'succeeded' && r.nominated === true) pair = r;
  if (pair === undefined) return undefined;
  const types = [byId.get(String(pair.localCandidateId))?.candidateType, byId.get(String(pair.remoteCandidateId))?.candidateType];
  if (types.includes('relay')) return 'relayed';
  if (types.includes('srflx') || types.includes('prflx')) return 'reflexive';
  return types.every((t) => t === 'host') ? 'direct' : undefined;
}

/** A short printable id for logs. */
export function describeIceServers(servers: readonly IceServer[]): string {
  return servers.length === 0 ? 'none' : servers.flatMap((s) => s.urls).join(', ');
}
