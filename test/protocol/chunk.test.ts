// Chunk signatures with a real Ed25519 key, and the channel key file that holds it
// (src/crypto/keys.ts): any change to any signed field must make verification fail.

import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../../src/common/errors.js';
import { bytesToHex } from '../../src/common/hex.js';
import { type ChannelKey, loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import {
  type Chunk,
  decodeChunk,
  encodeChunkInto,
  encodedChunkBytes,
  FLAG_END_OF_STREAM,
  FLAG_KEYFRAME,
  SIGNATURE_BYTES,
  signChunk,
  signedBytes,
  type UnsignedChunk,
  verifyChunk,
} from '../../src/protocol/chunk.js';

let dir: string;
let key: ChannelKey;
let otherKey: ChannelKey;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-chunk-test-'));
  key = loadOrCreateKey(path.join(dir, 'a.key')).key;
  otherKey = loadOrCreateKey(path.join(dir, 'b.key')).key;
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function unsigned(): UnsignedChunk {
  const payload = new Uint8Array(500);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  return { channelKey: key.publicKey, seq: 42, captureTimeMs: 1_700_000_000_000, flags: FLAG_KEYFRAME, payload };
}

describe('chunk signing', () => {
  test('a signed chunk verifies, also after an encode/decode round trip', () => {
    const c = signChunk(unsigned(), key.sign);
    assert.equal(c.signature.length, SIGNATURE_BYTES);
    assert.equal(verifyChunk(c, nodeVerify), true);
    const wire = new Uint8Array(encodedChunkBytes(c));
    assert.equal(encodeChunkInto(wire, 0, c), wire.length);
    const back = decodeChunk(wire);
    assert.deepEqual(back, c);
    assert.equal(verifyChunk(back, nodeVerify), true);
  });

  test('Ed25519 signatures are deterministic', () => {
    assert.deepEqual(signChunk(unsigned(), key.sign).signature, signChunk(unsigned(), key.sign).signature);
  });

  test('changing any single signed field breaks the signature', () => {
    const c = signChunk(unsigned(), key.sign);
    const flippedPayload = c.payload.slice();
    flippedPayload[123] = (flippedPayload[123] as number) ^ 0x01;
    const flippedKey = c.channelKey.slice();
    flippedKey[0] = (flippedKey[0] as number) ^ 0x80;
    const tampered: [string, Chunk][] = [
      ['seq + 1', { ...c, seq: c.seq + 1 }],
      ['seq - 1', { ...c, seq: c.seq - 1 }],
      ['captureTimeMs + 1', { ...c, captureTimeMs: c.captureTimeMs + 1 }],
      ['flags cleared', { ...c, flags: 0 }],
      ['flags with end of stream', { ...c, flags: c.flags | FLAG_END_OF_STREAM }],
      ['one payload bit', { ...c, payload: flippedPayload }],
      ['payload truncated', { ...c, payload: c.payload.subarray(0, c.payload.length - 1) }],
      ['payload empty', { ...c, payload: new Uint8Array(0) }],
      ['one channel key bit', { ...c, channelKey: flippedKey }],
      ['another channel key', { ...c, channelKey: otherKey.publicKey }],
    ];
    for (const [what, t] of tampered) assert.equal(verifyChunk(t, nodeVerify), false, what);
  });

  test('a chunk of another channel verifies only under its own key', () => {
    const c = signChunk({ ...unsigned(), channelKey: otherKey.publicKey }, otherKey.sign);
    assert.equal(verifyChunk(c, nodeVerify), true);
    assert.equal(verifyChunk({ ...c, channelKey: key.publicKey }, nodeVerify), false);
    // Signed by one key while claiming the other.
    const forged = signChunk(unsigned(), otherKey.sign);
    assert.equal(verifyChunk(forged, nodeVerify), false);
  });

  test('a damaged or mis-sized signature fails without throwing', () => {
    const c = signChunk(unsigned(), key.sign);
    for (let i = 0; i < SIGNATURE_BYTES; i += 7) {
      const sig = c.signature.slice();
      sig[i] = (sig[i] as number) ^ 0x04;
      assert.equal(verifyChunk({ ...c, signature: sig }, nodeVerify), false, `signature byte ${i}`);
    }
    assert.equal(verifyChunk({ ...c, signature: c.signature.subarray(0, 63) }, nodeVerify), false);
    assert.equal(verifyChunk({ ...c, signature: new Uint8Array(65) }, nodeVerify), false);
    assert.equal(verifyChunk({ ...c, signature: new Uint8Array(64) }, nodeVerify), false);
  });

  test('signedBytes covers the whole header and payload', () => {
    const u = unsigned();
    const base = signedBytes(u);
    assert.equal(base.length, 1 + 32 + 4 + 8 + 1 + 4 + u.payload.length);
    for (const changed of [
      { ...u, seq: 43 },
      { ...u, captureTimeMs: u.captureTimeMs + 0.5 },
      { ...u, flags: 0 },
    ]) {
      assert.notDeepEqual(signedBytes(changed), base);
    }
  });
});

describe('nodeVerify', () => {
  test('refuses keys and signatures of the wrong size, and invalid key bytes, without throwing', () => {
    const msg = new Uint8Array([1, 2, 3]);
    const sig = key.sign(msg);
    assert.equal(nodeVerify(key.publicKey, msg, sig), true);
    assert.equal(nodeVerify(key.publicKey.subarray(0, 31), msg, sig), false);
    assert.equal(nodeVerify(key.publicKey, msg, sig.subarray(0, 63)), false);
    assert.equal(nodeVerify(new Uint8Array(32).fill(0xff), msg, sig), false);
    assert.equal(nodeVerify(otherKey.publicKey, msg, sig), false);
  });
});

describe('channel key file', () => {
  test('is created with mode 0600 and reloads to the same channel', () => {
    const file = path.join(dir, 'nested', 'deeper', 'channel.key');
    const first = loadOrCreateKey(file);
    assert.equal(first.created, true);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o077, 0, 'key directory is private');
    const second = loadOrCreateKey(file);
    assert.equal(second.created, false);
    assert.equal(second.key.channelId, first.key.channelId);
    assert.deepEqual(second.key.publicKey, first.key.publicKey);
    // A chunk signed before the reload verifies with the reloaded key's id.
    const c = signChunk({ ...unsigned(), channelKey: first.key.publicKey }, first.key.sign);
    assert.equal(verifyChunk({ ...c, channelKey: second.key.publicKey }, nodeVerify), true);
  });

  test('the channel id is the hex of the raw 32-byte public key', () => {
    assert.equal(key.publicKey.length, 32);
    assert.match(key.channelId, /^[0-9a-f]{64}$/);
    assert.equal(key.channelId, bytesToHex(key.publicKey));
    const jwk = createPublicKey(key.privateKey).export({ format: 'jwk' });
    assert.equal(Buffer.from(key.publicKey).toString('base64url'), jwk.x);
  });

  test('two new key files hold two different channels', () => {
    assert.notEqual(key.channelId, otherKey.channelId);
  });

  test('a corrupt key file is a UserError, and is left as it was', () => {
    const file = path.join(dir, 'corrupt.key');
    const text = '-----BEGIN PRIVATE KEY-----\nnot really a key\n-----END PRIVATE KEY-----\n';
    fs.writeFileSync(file, text, { mode: 0o600 });
    assert.throws(() => loadOrCreateKey(file), UserError);
    fs.writeFileSync(file, 'garbage');
    assert.throws(() => loadOrCreateKey(file), UserError);
    assert.equal(fs.readFileSync(file, 'utf8'), 'garbage');
  });

  test('a valid key of another type is a UserError', () => {
    const file = path.join(dir, 'x25519.key');
    const { privateKey } = generateKeyPairSync('x25519');
    fs.writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    assert.throws(
      () => loadOrCreateKey(file),
      (err: unknown) => err instanceof UserError && /not Ed25519/.test(err.message),
    );
  });

  test('an unreadable key path is a UserError', () => {
    const file = path.join(dir, 'a-directory.key');
    fs.mkdirSync(file);
    assert.throws(() => loadOrCreateKey(file), UserError);
  });
});
