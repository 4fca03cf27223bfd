// Who may hold a link to this node: bans by node key and by address, and a cap on links from
// one address, so that one host can neither fill a node's neighbour slots nor come back under
// a fresh key once it was caught. Sans I/O like the core: time is an argument, nothing here
// reads a clock, and it keeps no sockets, only counts.
//
// Addresses are grouped as an attacker's supply of them is: an IPv4 address alone, an IPv6
// address by its /64 (one subscriber's prefix, which holds endless addresses). The machine's
// own loopback (127.0.0.1, ::1) belongs to local processes (the demo, several viewers side by
// side) and is never capped or banned; other 127.x addresses count as hosts of their own,
// which is how tests play remote hosts. A link whose address says nothing of its peer (a
// TURN-relayed WebRTC link, whose address is the relay's) is never counted or banned by it.

/** The settings of Admission, each with its unit and reason. */
export interface AdmissionConfig {
  /**
   * Links from one address group at most. Carrier-grade NAT and campuses put hundreds of
   * honest viewers behind one IPv4 address; they reach each other through their own slots, and
   * a quarter of one node's 32 slots leaves the other three quarters to the rest of the world.
   * @default 8
   */
  maxLinksPerAddress: number;
  /** How long a node key that broke the protocol is refused. @default 10 minutes */
  keyBanMs: number;
  /**
   * How long an address that a banned key came from is refused, the first time; doubled for
   * each further offence while banned, up to keyBanMs. Short, since honest viewers may share
   * the address. @default 2 minutes
   */
  addressBanMs: number;
  /** Bans remembered at most (each kind): the oldest are forgotten first. @default 10,000 */
  maxBans: number;
}

export const DEFAULT_ADMISSION_CONFIG: AdmissionConfig = {
  maxLinksPerAddress: 8,
  keyBanMs: 10 * 60_000,
  addressBanMs: 2 * 60_000,
  maxBans: 10_000,
};

/** The address group a link is limited and banned by; undefined: none (local, unknown or relayed). */
export function addressGroup(address: string | undefined, relayed = false): string | undefined {
  if (address === undefined || relayed || address === '' || address === 'webrtc') return undefined;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (a === '127.0.0.1' || a === '::1' || a === 'localhost') return undefined;
  return hostGroup(a);
}

/**
 * The group an address counts against, with no exemption: an IPv4 address alone, an IPv6
 * address by its /64. The tracker limits its clients by it too.
 */
export function hostGroup(address: string): string {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a.includes(':') ? `${ipv6Prefix64(a)}::/64` : a;
}

/** The first four groups of an IPv6 address (its /64), written out in full. */
function ipv6Prefix64(address: string): string {
  const bare = address.split('%')[0] as string;
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...new Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups
    .slice(0, 4)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(':');
}

interface Ban {
  untilMs: number;
  offences: number;
}

export class Admission {
  private readonly config: AdmissionConfig;
  private readonly keyBans = new Map<string, Ban>();
  private readonly addressBans = new Map<string, Ban>();
  private readonly linksByGroup = new Map<string, number>();

  constructor(config: Partial<AdmissionConfig> = {}) {
    this.config = { ...DEFAULT_ADMISSION_CONFIG, ...config };
  }

  /** Why a link from `group` (or proven to be `peerId`) is refused now; undefined: it may come in. */
  refusal(nowMs: number, group: string | undefined, peerId?: string): string | undefined {
    if (peerId !== undefined && this.active(this.keyBans, peerId, nowMs)) return 'its key is banned';
    if (group !== undefined && this.active(this.addressBans, group, nowMs)) return `its address ${group} is banned`;
    return undefined;
  }

  /** Whether one more link from `group` stays within the cap per address. */
  roomFor(group: string | undefined): boolean {
    return group === undefined || (this.linksByGroup.get(group) ?? 0) < this.config.maxLinksPerAddress;
  }

  linkUp(group: string | undefined): void {
    if (group !== undefined) this.linksByGroup.set(group, (this.linksByGroup.get(group) ?? 0) + 1);
  }

  linkDown(group: string | undefined): void {
    if (group === undefined) return;
    const n = (this.linksByGroup.get(group) ?? 0) - 1;
    if (n > 0) this.linksByGroup.set(group, n);
    else this.linksByGroup.delete(group);
  }

  /**
   * A peer broke the protocol. Its proven key is refused for keyBanMs; its address group for
   * addressBanMs, doubling while it offends again, so a host that comes back under a fresh
   * key is refused too, and a shared address is not refused for long.
   */
  ban(nowMs: number, group: string | undefined, peerId: string | undefined): void {
    if (peerId !== undefined) this.add(this.keyBans, peerId, nowMs, this.config.keyBanMs);
    if (group !== undefined) {
      const offences = this.active(this.addressBans, group, nowMs) ? (this.addressBans.get(group) as Ban).offences + 1 : 1;
      const ms = Math.min(this.config.keyBanMs, this.config.addressBanMs * 2 ** (offences - 1));
      this.add(this.addressBans, group, nowMs, ms, offences);
    }
  }

  /** Bans in force (keys, addresses), for stats. */
  banCounts(nowMs: number): { keys: number; addresses: number } {
    let keys = 0;
    let addresses = 0;
    for (const b of this.keyBans.values()) if (b.untilMs > nowMs) keys++;
    for (const b of this.addressBans.values()) if (b.untilMs > nowMs) addresses++;
    return { keys, addresses };
  }

  private active(bans: Map<string, Ban>, key: string, nowMs: number): boolean {
    const b = bans.get(key);
    if (b === undefined) return false;
    if (b.untilMs > nowMs) return true;
    bans.delete(key);
    return false;
  }

  private add(bans: Map<string, Ban>, key: string, nowMs: number, ms: number, offences = 1): void {
    bans.delete(key);
    bans.set(key, { untilMs: nowMs + ms, offences });
    if (bans.size > this.config.maxBans) bans.delete(bans.keys().next().value as string);
  }
}
