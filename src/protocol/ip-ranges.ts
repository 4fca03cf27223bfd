// Whether an IP address is one that anybody on the Internet could be asked to reach: not
// private, shared (carrier-grade NAT), loopback, link-local, documentation, benchmark,
// multicast or reserved (the special-purpose registries of RFC 6890). The tracker lists only
// such addresses for peers it has not proven elsewhere, and a web page fetches from such
// addresses only, unless it is itself served from a private one. Pure code: browsers use it too.

type Range = readonly [prefix: readonly number[], bits: number];

/** IPv4 ranges, as four octets and a prefix length. */
const V4: readonly Range[] = [
  [[0, 0, 0, 0], 8],
  [[10, 0, 0, 0], 8],
  [[100, 64, 0, 0], 10],
  [[127, 0, 0, 0], 8],
  [[169, 254, 0, 0], 16],
  [[172, 16, 0, 0], 12],
  [[192, 0, 0, 0], 24],
  [[192, 0, 2, 0], 24],
  [[192, 168, 0, 0], 16],
  [[198, 18, 0, 0], 15],
  [[198, 51, 100, 0], 24],
  [[203, 0, 113, 0], 24],
  [[224, 0, 0, 0], 4],
  [[240, 0, 0, 0], 4],
];

/** IPv6 ranges, as eight 16-bit groups and a prefix length. */
const V6: readonly Range[] = [
  [[0, 0, 0, 0, 0, 0, 0, 0], 96], // unspecified, loopback, IPv4-compatible
  [[0, 0, 0, 0, 0, 0xffff, 0, 0], 96], // IPv4-mapped: judged as IPv4 by callers that unwrap it
  [[0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96],
  [[0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48],
  [[0, 0, 0, 0, 0xffff, 0, 0, 0], 96], // IPv4-translated
  [[0x100, 0, 0, 0, 0, 0, 0, 0], 64],
  [[0x2001, 0, 0, 0, 0, 0, 0, 0], 32], // Teredo: a relay's address, with an IPv4 one inside
  [[0x2001, 2, 0, 0, 0, 0, 0, 0], 48],
  [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32],
  [[0x2002, 0, 0, 0, 0, 0, 0, 0], 16], // 6to4: may embed a private IPv4 address
  [[0x3fff, 0, 0, 0, 0, 0, 0, 0], 20],
  [[0xfc00, 0, 0, 0, 0, 0, 0, 0], 7],
  [[0xfe80, 0, 0, 0, 0, 0, 0, 0], 10],
  [[0xff00, 0, 0, 0, 0, 0, 0, 0], 8],
];

/** The four octets of a dotted IPv4 address; undefined if it is not one. */
export function parseIpv4(address: string): number[] | undefined {
  // A loop, not split and regexes: the tracker asks this of every address it answers with.
  const out = [0, 0, 0, 0];
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part === 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // No leading zeros ("01" could be read as octal elsewhere).
      if (digits > 0 && value === 0) return undefined;
      value = value * 10 + c - 48;
      digits++;
      if (value > 255) return undefined;
    } else return undefined;
  }
  if (digits === 0 || part !== 3) return undefined;
  out[3] = value;
  return out;
}

/** The eight 16-bit groups of an IPv6 address (brackets and zone allowed); undefined if it is not one. */
export function parseIpv6(address: string): number[] | undefined {
  let a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  a = a.split('%')[0] as string;
  if (!a.includes(':')) return undefined;
  const halves = a.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (text: string): number[] | undefined => {
    if (text === '') return [];
    const out: number[] = [];
    const pieces = text.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i] as string;
      if (i === pieces.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(Number.parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groupsOf(halves[0] as string);
  const tail = halves.length === 2 ? groupsOf(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const fill = 8 - head.length - tail.length;
  return fill >= 1 ? [...head, ...new Array<number>(fill).fill(0), ...tail] : undefined;
}

function inRange(parts: readonly number[], width: number, [prefix, bits]: Range): boolean {
  let left = bits;
  for (let i = 0; left > 0; i++, left -= width) {
    const take = Math.min(width, left);
    const mask = ((1 << take) - 1) << (width - take);
    if (((parts[i] as number) & mask) !== ((prefix[i] as number) & mask)) return false;
  }
  return true;
}

/** Whether `address` (an IP literal; an IPv4-mapped IPv6 address is judged as its IPv4) is publicly routable. */
export function isPublicIp(address: string): boolean {
  const mapped = /^(?:\[)?::ffff:(\d+\.\d+\.\d+\.\d+)(?:\])?$/i.exec(address);
  const v4 = parseIpv4(mapped?.[1] ?? address);
  if (v4 !== undefined) return !V4.some((r) => inRange(v4, 8, r));
  const v6 = parseIpv6(address);
  if (v6 === undefined) return false;
  return !V6.some((r) => inRange(v6, 16, r));
}

/** Whether a host (a name, or an IP literal with or without brackets) is this machine's loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.startsWith('127.')) return parseIpv4(h) !== undefined;
  if (h === '::1') return true;
  const lower = h.toLowerCase();
  if (lower === 'localhost' || lower.endsWith('.localhost')) return true;
  return lower.startsWith('::ffff:127.') && parseIpv4(lower.slice(7)) !== undefined;
}
