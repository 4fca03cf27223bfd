// POST /api/announce: a peer joins (or leaves) a channel's swarm and gets peers to dial.

import type http from 'node:http';
import type { AnnounceAnswer, AnnounceRequest } from '../api/tracker-api.js';
import { nodeVerify } from '../crypto/keys.js';
import { isLoopbackHost } from '../protocol/ip-ranges.js';
import { checkSourceProof } from '../protocol/source-proof.js';
import { normalizeAddress } from '../transport/tcp.js';
import type { AddressProver } from './address-proof.js';
import { canonicalIp, isPublicAddress } from './addresses.js';
import { type Directory, Refusal } from './directory.js';
import { HttpError, readJson } from './http.js';
import { refused } from './refusals.js';

export interface AnnounceContext {
  directory: Directory;
  prover: AddressProver;
  options: { privateNetwork?: boolean };
}

/** Answers an announce from `client` (the address it comes from), `group` its rate-limit group. */
export async function answerAnnounce(
  ctx: AnnounceContext,
  req: http.IncomingMessage,
  client: string,
  group: string,
  now: number,
): Promise<AnnounceAnswer> {
  const { directory } = ctx;
  const a = checkAnnounce(await readJson(req));
  if (a.event === 'stopped') {
    const proven = a.role === 'source' && checkSourceProof(a.sourceProof, a.channelId, a.peerId, now, nodeVerify) === undefined;
    directory.leave(a.channelId, a.peerId, client, proven);
    return { intervalMs: directory.config.announceIntervalMs, yourAddress: client, peers: [] };
  }
  if (a.role === 'source') {
    const problem = checkSourceProof(a.sourceProof, a.channelId, a.peerId, now, nodeVerify);
    if (problem !== undefined) throw new HttpError(403, problem, 'unproven-source');
  }
  const peers = directory.announce(
    now,
    a.channelId,
    { peerId: a.peerId, address: listedAddress(ctx, a, client), port: a.port, role: a.role, seenFrom: client, group },
    a.numWant,
  );
  if (peers instanceof Refusal) throw refused(peers);
  const local = normalizeAddress(req.socket?.localAddress ?? '');
  // Asked once per answer, not once per peer in it.
  const remoteAsker = local !== '' && !isLoopbackHost(client);
  return {
    intervalMs: directory.config.announceIntervalMs,
    yourAddress: client,
    peers: peers.map((p) => ({
      peerId: p.peerId,
      address: remoteAsker ? reachableAddress(p.address, client, local) : p.address,
      port: p.port,
      role: p.role,
    })),
  };
}

/**
 * The address an announce is listed at: the one the tracker sees, unless the peer names
 * another. On a private network that one is taken as given; on the Internet it must be a public
 * IP address, and it is listed once a handshake there proved the peer's key (until then, and
 * if that fails, the address the tracker sees).
 */
function listedAddress(ctx: AnnounceContext, a: AnnounceRequest, client: string): string {
  if (a.address === undefined) return client;
  if (ctx.options.privateNetwork === true) return normalizeAddress(a.address);
  const claimed = canonicalIp(a.address);
  if (claimed === client) return claimed;
  if (claimed === undefined || !isPublicAddress(claimed))
    throw new HttpError(
      400,
      `address ${a.address} is not a public IP address; this tracker lists peers at the address it sees them at (${client}) unless it runs with --private-network`,
      'spoofed-address',
    );
  return ctx.prover.state(a.peerId, claimed, a.port) === 'proven' ? claimed : client;
}

/**
 * A peer that announced from this machine's loopback is on the tracker's host: to a remote
 * requester it is reachable at the address the requester used for the tracker, never 127.0.0.1.
 */
export function reachableAddress(peerAddress: string, requester: string, trackerLocal: string): string {
  if (isLoopbackHost(peerAddress) && !isLoopbackHost(requester) && trackerLocal !== '') return trackerLocal;
  return peerAddress;
}

function checkAnnounce(body: unknown): AnnounceRequest {
  if (typeof body !== 'object' || body === null) throw new HttpError(400, 'announce body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.channelId !== 'string' || !/^[0-9a-f]{64}$/.test(b.channelId))
    throw new HttpError(400, 'channelId must be 64 lowercase hex digits');
  if (typeof b.peerId !== 'string' || !/^[0-9a-f]{32}$/.test(b.peerId)) throw new HttpError(400, 'peerId must be 32 lowercase hex digits');
  if (typeof b.port !== 'number' || !Number.isInteger(b.port) || b.port < 1 || b.port > 65535)
    throw new HttpError(400, 'port must be 1-65535');
  if (b.role !== 'source' && b.role !== 'viewer') throw new HttpError(400, 'role must be "source" or "viewer"');
  if (b.address !== undefined && (typeof b.address !== 'string' || !/^[0-9a-zA-Z.:-]{1,253}$/.test(b.address))) {
    throw new HttpError(400, 'address must be a host name or IP address');
  }
  if (b.event !== undefined && b.event !== 'stopped') throw new HttpError(400, 'event must be "stopped" when given');
  if (b.numWant !== undefined && (typeof b.numWant !== 'number' || !Number.isInteger(b.numWant) || b.numWant < 0))
    throw new HttpError(400, 'numWant must be a whole number of peers, 0 or more');
  return b as unknown as AnnounceRequest;
}
