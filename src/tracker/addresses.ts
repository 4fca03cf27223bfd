// Which address a request comes from, and which addresses the tracker may hand to other peers.
// An address in an answer is one the whole swarm will dial, so the tracker lists only what it
// saw a request come from, unless the operator says it sits behind a proxy it trusts or runs
// on a private network (a LAN, the lab, tests); see docs/security.md.

import type http from 'node:http';
import net from 'node:net';
import { isPublicIp } from '../protocol/ip-ranges.js';
import { normalizeAddress } from '../transport/tcp.js';

/**
 * An IP address in its one canonical spelling (IPv6 compressed and lower-case, IPv4-mapped as
 * IPv4), so that one address cannot pass for many; undefined when it is not an IP address.
 */
export function canonicalIp(address: string): string | undefined {
  const a = address.trim();
  if (net.isIPv4(a)) return a;
  if (!net.isIPv6(a)) return undefined;
  const v6 = new URL(`http://[${a}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (mapped === null) return v6;
  const [hi, lo] = [Number.parseInt(mapped[1] as string, 16), Number.parseInt(mapped[2] as string, 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Whether `address` is an IP address that peers anywhere could be asked to dial. */
export function isPublicAddress(address: string): boolean {
  const a = normalizeAddress(address);
  return net.isIP(a) !== 0 && isPublicIp(a);
}

/** Whether an address is one of the trusted reverse proxies. */
export type ProxyCheck = (address: string) => boolean;

/** Checked addresses remembered by a ProxyCheck (a BlockList lookup costs microseconds per request). */
const PROXY_CHECK_CACHE = 4096;

/**
 * Parsed `--trust-proxy` entries (addresses or CIDR ranges of reverse proxies in front of the
 * tracker); undefined when there are none.
 */
export function trustedProxies(entries: readonly string[]): ProxyCheck | undefined {
  if (entries.length === 0) return undefined;
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = net.isIP(address);
    if (family === 0) throw new Error(`"${entry}" is not an IP address or CIDR range`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, type);
    else {
      const n = Number(bits);
      if (!/^\d+$/.test(bits) || n > (family === 4 ? 32 : 128)) throw new Error(`"${entry}" has a bad prefix length`);
      list.addSubnet(address, n, type);
    }
  }
  const known = new Map<string, boolean>();
  return (address) => {
    let trusted = known.get(address);
    if (trusted === undefined) {
      const family = net.isIP(address);
      trusted = family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
      if (known.size >= PROXY_CHECK_CACHE) known.clear();
      known.set(address, trusted);
    }
    return trusted;
  };
}

/**
 * The address a request comes from. From a trusted proxy, the nearest hop of its
 * X-Forwarded-For that is not itself a trusted proxy (a hop further out could have been
 * written by the client); the header the common proxies append to. From anyone else, the
 * socket's own address: headers are the client's to forge.
 */
export function clientAddress(req: http.IncomingMessage, proxies: ProxyCheck | undefined): string {
  const seen = normalizeAddress(req.socket?.remoteAddress ?? '');
  if (proxies === undefined || !proxies(seen)) return seen;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(bareAddress((hops[i] as string).trim()));
    if (hop === '') continue;
    if (net.isIP(hop) === 0) return seen;
    if (!proxies(hop)) return hop;
  }
  return seen;
}

/** An address without the port or brackets a proxy may write with it ("[2001:db8::1]:443", "192.0.2.1:443"). */
function bareAddress(hop: string): string {
  if (hop.startsWith('[')) return hop.slice(1, hop.indexOf(']') < 0 ? undefined : hop.indexOf(']'));
  const colons = hop.split(':').length - 1;
  return colons === 1 ? (hop.split(':')[0] as string) : hop;
}
