// Admission: address groups (IPv4 alone, IPv6 by /64, the machine's loopback and relayed links
// never), the cap of links per group, and bans by key and by address that expire, double for
// repeat offences, and stay bounded in number.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Admission, addressGroup } from '../../src/protocol/admission.js';

test('address groups: an IPv4 address, an IPv6 /64, and nothing for loopback, relays or unknown addresses', () => {
  assert.equal(addressGroup('203.0.113.7'), '203.0.113.7');
  assert.equal(addressGroup('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(addressGroup('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressGroup('2001:db8:1:2::99'), '2001:db8:1:2::/64', 'one subscriber prefix, endless addresses');
  assert.equal(addressGroup('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  assert.notEqual(addressGroup('2001:db8:1:3::1'), addressGroup('2001:db8:1:2::1'));
  assert.equal(addressGroup('::'), '0:0:0:0::/64');
  assert.equal(addressGroup('127.0.0.1'), undefined);
  assert.equal(addressGroup('::1'), undefined);
  assert.equal(addressGroup('127.0.0.9'), '127.0.0.9', 'other loopback addresses play remote hosts in tests');
  assert.equal(addressGroup('198.51.100.1', true), undefined, "a TURN relay's address says nothing of its peer");
  assert.equal(addressGroup('webrtc'), undefined);
});

test('links from one address group are capped; others and local ones are not', () => {
  const a = new Admission({ maxLinksPerAddress: 3 });
  for (let i = 0; i < 3; i++) {
    assert.equal(a.roomFor('2001:db8::/64'), true);
    a.linkUp('2001:db8::/64');
  }
  assert.equal(a.roomFor('2001:db8::/64'), false);
  assert.equal(a.roomFor('203.0.113.7'), true);
  assert.equal(a.roomFor(undefined), true);
  a.linkDown('2001:db8::/64');
  assert.equal(a.roomFor('2001:db8::/64'), true);
});

test('bans: a key for keyBanMs, its address shortly, doubling while it offends again', () => {
  const a = new Admission({ keyBanMs: 600_000, addressBanMs: 60_000 });
  a.ban(0, '203.0.113.7', 'k1');
  assert.match(a.refusal(1, undefined, 'k1') ?? '', /key is banned/);
  assert.match(a.refusal(1, '203.0.113.7', 'k2') ?? '', /address 203.0.113.7 is banned/, 'a fresh key from the same address');
  assert.equal(a.refusal(1, '198.51.100.1', 'k2'), undefined);
  assert.equal(a.refusal(60_001, '203.0.113.7', 'k2'), undefined, 'a shared address is not refused for long');
  assert.notEqual(a.refusal(60_001, undefined, 'k1'), undefined);
  a.ban(70_000, '203.0.113.7', 'k2');
  a.ban(80_000, '203.0.113.7', 'k3');
  assert.notEqual(a.refusal(80_000 + 119_000, '203.0.113.7'), undefined, 'a second offence while banned doubles the ban');
  assert.equal(a.refusal(80_000 + 121_000, '203.0.113.7'), undefined);
  assert.equal(a.refusal(600_001, undefined, 'k1'), undefined, 'key bans expire');
  assert.deepEqual(a.banCounts(600_001), { keys: 2, addresses: 0 });
});

test('bans stay bounded under a stream of fresh keys', () => {
  const a = new Admission({ maxBans: 100 });
  for (let i = 0; i < 10_000; i++) a.ban(i, `198.51.${i >> 8}.${i & 255}`, `key${i}`);
  const counts = a.banCounts(10_000);
  assert.ok(counts.keys <= 100 && counts.addresses <= 100, JSON.stringify(counts));
  assert.notEqual(a.refusal(10_000, undefined, 'key9999'), undefined, 'the newest are kept');
});
