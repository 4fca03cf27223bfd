// The browser-side verifier must agree with node's crypto on every input, valid or not.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import { nobleVerify } from '../../src/crypto/verify-noble.js';
import { signChunk, verifyChunk } from '../../src/protocol/chunk.js';
import { seededRandom } from '../../src/protocol/random.js';
import { tempDir } from '../helpers/processes.js';

test('noble and node crypto agree on genuine and tampered chunks', () => {
  const { key } = loadOrCreateKey(`${tempDir('noble')}/k.key`);
  const random = seededRandom(7);
  for (let i = 0; i < 40; i++) {
    const payload = new Uint8Array(1 + Math.floor(random() * 3000)).map(() => Math.floor(random() * 256));
    const chunk = signChunk(
      { channelKey: key.publicKey, seq: i, captureTimeMs: 1_700_000_000_000 + i, flags: i % 4 === 0 ? 1 : 0, payload },
      key.sign,
    );
    assert.equal(verifyChunk(chunk, nobleVerify), true);
    assert.equal(verifyChunk(chunk, nodeVerify), true);
    const tampered = { ...chunk, payload: chunk.payload.map((b, j) => (j === i % payload.length ? b ^ 1 : b)) };
    assert.equal(verifyChunk(tampered, nobleVerify), false);
    assert.equal(verifyChunk(tampered, nodeVerify), false);
    const badSig = { ...chunk, signature: chunk.signature.map((b, j) => (j === 5 ? b ^ 0x80 : b)) };
    assert.equal(verifyChunk(badSig, nobleVerify), verifyChunk(badSig, nodeVerify));
  }
  assert.equal(nobleVerify(new Uint8Array(31), new Uint8Array(1), new Uint8Array(64)), false);
  assert.equal(nobleVerify(new Uint8Array(32).fill(0xff), new Uint8Array(1), new Uint8Array(64)), false);
});
