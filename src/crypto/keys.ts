// The channel key on disk: an Ed25519 private key in PKCS#8 PEM, created on first broadcast
// with mode 0600 and reused, so a channel keeps its id (the hex of its public key) for ever.

import { createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, type KeyObject, sign, verify } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../common/errors.js';
import { bytesToHex } from '../common/hex.js';
import type { NodeIdentity } from './signatures.js';

export interface ChannelKey {
  readonly privateKey: KeyObject;
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** Channel id: lowercase hex of the public key. */
  readonly channelId: string;
  sign(message: Uint8Array): Uint8Array;
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw key follows. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Loads the key in `file`, or creates it (mode 0600). `exposed` says why an existing file is
 * unsafe (readable or writable by others: anyone who reads it can broadcast as the channel).
 */
export function loadOrCreateKey(file: string): { key: ChannelKey; created: boolean; exposed?: string } {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`cannot read key file ${file}: ${(err as Error).message}`);
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      throw new UserError(`cannot create key file ${file}: ${(e as Error).message}`);
    }
    return { key: wrap(privateKey), created: true };
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new UserError(
      `key file ${file} is not a valid private key (corrupt?); restore it from a backup, or pass --key with a new path to start a new channel`,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new UserError(`key file ${file} holds a ${privateKey.asymmetricKeyType} key, not Ed25519`);
  const exposed = exposure(file);
  return { key: wrap(privateKey), created: false, ...(exposed !== undefined ? { exposed } : {}) };
}

/** Why a key file is readable or writable by other users (undefined: it is not). */
function exposure(file: string): string | undefined {
  let mode: number;
  try {
    mode = fs.statSync(file).mode;
  } catch {
    return undefined;
  }
  if (process.platform === 'win32' || (mode & 0o077) === 0) return undefined;
  return `key file ${file} can be read or written by other users (mode ${(mode & 0o777).toString(8)}): anyone who reads it can broadcast as this channel; run chmod 600 ${file}`;
}

/** DER prefix of an Ed25519 PKCS#8 private key (RFC 8410); the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The key of one rendition of a channel, derived from the channel key (HKDF-SHA256 over its
 * seed, the rendition's name as info): the same channel key and name always give the same
 * rendition key, so a restarted broadcaster keeps every rendition's swarm, and nothing more
 * has to be stored or backed up.
 */
export function deriveRenditionKey(channel: ChannelKey, name: string): ChannelKey {
  const seed = Buffer.from(hkdfSync('sha256', seedOf(channel), 'meshtv-rendition-v1', name, 32));
  return wrap(createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }));
}

function wrap(privateKey: KeyObject): ChannelKey {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(ED25519_SPKI_PREFIX.length));
  return {
    privateKey,
    publicKey,
    channelId: bytesToHex(publicKey),
    sign: (message) => new Uint8Array(sign(null, message, privateKey)),
  };
}

/**
 * A node key: who a node is on its peer links (its peer id is the first 16 bytes of the public
 * key, src/runtime/link-auth.ts). `keyPair` is the same key in libsodium's form, for the Noise
 * handshake of TCP links.
 */
export interface NodeKey extends NodeIdentity {
  readonly keyPair: { publicKey: Buffer; secretKey: Buffer };
}

/**
 * A fresh node key, for one run of a viewer: several viewers on one machine stay distinct, and
 * a viewer cannot be followed from channel to channel by its id.
 */
export function newNodeKey(): NodeKey {
  return nodeKeyOf(wrap(generateKeyPairSync('ed25519').privateKey));
}

/**
 * A broadcaster's node key, kept beside its channel key (`<key>.node`, mode 0600): its peer id
 * stays the same across restarts, which viewers' bans and duplicate checks rely on.
 */
export function loadOrCreateNodeKey(channelKeyFile: string): NodeKey {
  return nodeKeyOf(loadOrCreateKey(`${channelKeyFile}.node`).key);
}

function nodeKeyOf(key: ChannelKey): NodeKey {
  const publicKey = Buffer.from(key.publicKey);
  return { publicKey: key.publicKey, sign: key.sign, keyPair: { publicKey, secretKey: Buffer.concat([seedOf(key), publicKey]) } };
}

/** The 32-byte Ed25519 seed of a key (its private part). */
function seedOf(key: ChannelKey): Buffer {
  const d = key.privateKey.export({ format: 'jwk' }).d;
  if (d === undefined) throw new Error('key has no private part');
  return Buffer.from(d, 'base64url');
}

const keyCache = new Map<string, KeyObject>();

/** Ed25519 verification with node's crypto, taking a raw 32-byte public key. */
export function nodeVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const id = bytesToHex(publicKey);
    let key = keyCache.get(id);
    if (key === undefined) {
      key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
      if (keyCache.size >= 64) keyCache.clear();
      keyCache.set(id, key);
    }
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
