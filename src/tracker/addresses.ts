// Which address a request comes from, and which addresses the tracker may hand to other peers.
// An address in an answer is one the whole swarm will dial, so the tracker lists only what it
// saw a request come from, unless the operator says it sits behind a proxy it trusts or runs
// on a private network (a LAN, the lab, tests); see docs/security.md.

import type http from 'node:http';
import net from 'node:net';
import { ipv6Prefix64 } from '../protocol/admission.js';
import { isPublicIp } from '../protocol/ip-ranges.js';
import { normalizeAddress } from '../transport/tcp.js';

/** Whether `address` is an IP address that peers anywhere could be asked to dial. */
export function isPublicAddress(address: string): boolean {
  const a = normalizeAddress(address);
  return net.isIP(a) !== 0 && isPublicIp(a);
}

/**
 * The group a client is limited by: an IPv4 address alone, an IPv6 address by its /64 (one
 * subscriber's prefix holds endless addresses).
 */
export function clientGroup(address: string): string {
  const a = normalizeAddress(address);
  return a.includes(':') ? `${ipv6Prefix64(a)}::/64` : a;
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
 * The address a request comes from. From a trusted proxy, the nearest hop it names that is not
 * itself a trusted proxy (X-Forwarded-For, or RFC 7239 Forwarded); a hop further out could
 * have been written by the client. From anyone else, the socket's own address: headers are
 * the client's to forge.
 */
export function clientAddress(req: http.IncomingMessage, proxies: ProxyCheck | undefined): string {
  const seen = normalizeAddress(req.socket?.remoteAddress ?? '');
  if (proxies === undefined || !proxies(seen)) return seen;
  const hops = forwardedHops(req);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i] as string);
    if (net.isIP(hop) === 0) return seen;
    if (!proxies(hop)) return hop;
  }
  return seen;
}

/** The client addresses a request's proxies recorded, farthest first. */
function forwardedHops(req: http.IncomingMessage): string[] {
  const forwarded = req.headers.forwarded;
  if (typeof forwarded === 'string' && forwarded !== '') {
    const hops: string[] = [];
    for (const element of forwarded.split(','))
      for (const pair of element.split(';')) {
        const [name = '', value = ''] = pair.split('=', 2);
        if (name.trim().toLowerCase() !== 'for') continue;
        let v = value.trim().replace(/^"|"$/g, '');
        // "[2001:db8::1]:4711" or "192.0.2.1:4711": the address without its port.
        if (v.startsWith('[')) v = v.slice(1, v.indexOf(']'));
        else if (v.split(':').length === 2) v = v.split(':')[0] as string;
        hops.push(v);
      }
    return hops;
  }
  const xff = req.headers['x-forwarded-for'];
  const text = Array.isArray(xff) ? xff.join(',') : (xff ?? '');
  return text
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
}
