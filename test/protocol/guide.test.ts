// The signed guide and logo: only the channel key signs them, no other kind of signature by that
// key (record, thumbnail) passes for them, and the now/next choice.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bytesToHex } from '../../src/common/hex.js';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import { signChannelRecord } from '../../src/protocol/channel-record.js';
import { type ChannelGuide, checkSignedGuide, nowAndNext, signGuide } from '../../src/protocol/guide.js';
import { logoType, signLogo, verifyLogo } from '../../src/protocol/logo.js';
import { signThumbnail } from '../../src/protocol/thumbnail.js';
import { tempDir } from '../helpers/processes.js';

const dir = tempDir('guide');
const { key } = loadOrCreateKey(`${dir}/a.key`);
const { key: other } = loadOrCreateKey(`${dir}/b.key`);
const guide = (programmes: ChannelGuide['programmes'] = []): ChannelGuide => ({
  channelId: key.channelId,
  issuedAtMs: 1_800_000_000_000,
  category: 'News',
  language: 'pt-BR',
  programmes,
});
const hour = 3600_000;
const news = { startMs: 0, stopMs: hour, title: 'News' };
const weather = { startMs: hour, stopMs: 2 * hour, title: 'Weather', description: 'Rain' };

describe('signed guide', () => {
  test('a guide signed by the channel key passes; any change to it does not', () => {
    const signed = signGuide(guide([news, weather]), key.sign);
    assert.equal(checkSignedGuide(signed, nodeVerify), undefined);
    const changed = { ...signed, guide: { ...signed.guide, programmes: [news, { ...weather, title: 'Sun' }] } };
    assert.equal(checkSignedGuide(changed, nodeVerify), 'signature does not match the channel key');
    const dropped = { ...signed, guide: { ...signed.guide, category: undefined } };
    assert.equal(checkSignedGuide(dropped, nodeVerify), 'signature does not match the channel key');
  });

  test('signed by another key, or a record or thumbnail signature replayed as a guide: refused', () => {
    const forged = signGuide(guide(), other.sign);
    assert.equal(checkSignedGuide(forged, nodeVerify), 'signature does not match the channel key');
    const record = signChannelRecord({ channelId: key.channelId, name: 'News', bitrateBps: 0, issuedAtMs: 1_800_000_000_000 }, key.sign);
    assert.equal(checkSignedGuide({ guide: guide(), signature: record.signature }, nodeVerify), 'signature does not match the channel key');
    const thumb = bytesToHex(signThumbnail(1_800_000_000_000, new Uint8Array([0xff, 0xd8, 0xff, 0]), key.sign));
    assert.equal(checkSignedGuide({ guide: guide(), signature: thumb }, nodeVerify), 'signature does not match the channel key');
  });

  test('shape and limits are checked before the signature', () => {
    const check = (g: unknown) => checkSignedGuide({ guide: g, signature: '0'.repeat(128) }, nodeVerify);
    assert.match(check({ ...guide(), language: 'english!' }) ?? '', /language must be a BCP 47 tag/);
    assert.match(check(guide([weather, news])) ?? '', /programme 2: programmes must be listed in order of start/);
    assert.match(check(guide([news, { ...weather, startMs: hour / 2 }])) ?? '', /programme 2: overlaps/);
    assert.match(check(guide([{ ...news, title: 'a\u202Eb' }])) ?? '', /programme 1: title must not hold control or invisible characters/);
    assert.match(check({ ...guide(), programmes: Array(501).fill(news) }) ?? '', /too many programmes/);
    assert.match(check({ ...guide(), channelId: 'x' }) ?? '', /channelId/);
    // Safe integers, but past what a Date (and XMLTV's four-digit years) can hold: one such
    // programme made every /epg.xml throw.
    assert.match(
      check(guide([{ ...news, startMs: 8.7e15, stopMs: 8.8e15 }])) ?? '',
      /programme 1: start and stop must be times from 1970 to 9999/,
    );
    assert.match(check(guide([{ ...news, startMs: -hour }])) ?? '', /from 1970/);
  });

  test('now and next', () => {
    assert.deepEqual(nowAndNext([news, weather], hour / 2), { now: news, next: weather });
    assert.deepEqual(nowAndNext([news, weather], hour), { now: weather });
    assert.deepEqual(nowAndNext([weather], 0), { next: weather });
    assert.deepEqual(nowAndNext([news], 2 * hour), {});
  });
});

describe('signed logo', () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  test('the type is read from the magic bytes', () => {
    assert.equal(logoType(png), 'image/png');
    assert.equal(logoType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), 'image/jpeg');
    assert.equal(logoType(new TextEncoder().encode('<svg onload=alert(1)>')), undefined);
    assert.equal(logoType(png.slice(0, 8)), undefined);
  });

  test('a thumbnail signature over the same bytes is not a logo signature', () => {
    const sig = signLogo(5, png, key.sign);
    assert.ok(verifyLogo(key.publicKey, 5, png, sig, nodeVerify));
    assert.ok(!verifyLogo(key.publicKey, 6, png, sig, nodeVerify));
    assert.ok(!verifyLogo(key.publicKey, 5, png, signThumbnail(5, png, key.sign), nodeVerify));
  });
});
