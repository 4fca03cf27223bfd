// Which address a request comes from (the socket's, or the client a trusted proxy names), which
// addresses may be handed to a swarm, and how a claimed address is proven without turning the
// tracker into a door-knocker.

import assert from 'node:assert/strict';
import type http from 'node:http';
import { test } from 'node:test';
import { hostGroup } from '../../src/protocol/admission.js';
import { AddressProver } from '../../src/tracker/address-proof.js';
import { canonicalIp, clientAddress, isPublicAddress, trustedProxies } from '../../src/tracker/addresses.js';

const request = (remoteAddress: string, headers: Record<string, string> = {}) =>
  ({ socket: { remoteAddress }, headers }) as unknown as http.IncomingMessage;

test('public addresses are IP addresses outside private, loopback, link-local, shared, documentation and multicast ranges', () => {
  for (const a of ['8.8.8.8', '1.1.1.1', '2a00:1450:4001:81a::200e', '::ffff:8.8.4.4']) assert.equal(isPublicAddress(a), true, a);
  for (const a of [
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.20',
    '127.0.0.1',
    '127.9.9.9',
    '169.254.1.1',
    '100.64.0.1',
    '0.0.0.0',
    '203.0.113.7',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    '2001:db8::1',
    'ff02::1',
    'localhost',
    'victim.example',
    '',
  ])
    assert.equal(isPublicAddress(a), false, a);
});

test('a claimed address is judged in its one canonical spelling', () => {
  assert.equal(canonicalIp('::FFFF:8.8.8.8'), '8.8.8.8');
  assert.equal(canonicalIp('::ffff:0a00:1'), '10.0.0.1');
  assert.equal(canonicalIp('2A00:1450:0000:0000::0001'), '2a00:1450::1');
  assert.equal(canonicalIp('01.2.3.4'), undefined);
  assert.equal(canonicalIp('victim.example'), undefined);
  for (const a of ['2002:a00:1::1', '2001:0:1::1', '3fff::1', '::ffff:0:102:304']) assert.equal(isPublicAddress(a), false, a);
});

test('clients are limited per IPv4 address and per IPv6 /64', () => {
  assert.equal(hostGroup('198.51.100.7'), '198.51.100.7');
  assert.equal(hostGroup('::ffff:198.51.100.7'), '198.51.100.7');
  assert.equal(hostGroup('2001:db8:1:2::1'), hostGroup('2001:db8:1:2:ffff::9'));
  assert.notEqual(hostGroup('2001:db8:1:2::1'), hostGroup('2001:db8:1:3::1'));
});

test('X-Forwarded-For is believed only from a trusted proxy, and only up to the first hop it did not add', () => {
  const proxies = trustedProxies(['127.0.0.1', '10.0.0.0/8']);
  assert.equal(
    clientAddress(request('198.51.100.7', { 'x-forwarded-for': '1.2.3.4' }), proxies),
    '198.51.100.7',
    'not a proxy: the socket',
  );
  assert.equal(clientAddress(request('127.0.0.1', { 'x-forwarded-for': '1.2.3.4' }), proxies), '1.2.3.4');
  assert.equal(
    clientAddress(request('127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 1.2.3.4, 10.0.0.5' }), proxies),
    '1.2.3.4',
    'the nearest untrusted hop: what the client wrote before it is not believed',
  );
  assert.equal(
    clientAddress(request('::ffff:127.0.0.1', { 'x-forwarded-for': '192.0.2.60:4711' }), proxies),
    '192.0.2.60',
    'a hop with its port',
  );
  assert.equal(clientAddress(request('127.0.0.1', { 'x-forwarded-for': '[2001:db8:cafe::17]:4711' }), proxies), '2001:db8:cafe::17');
  assert.equal(clientAddress(request('127.0.0.1', { 'x-forwarded-for': '2001:db8:cafe::18' }), proxies), '2001:db8:cafe::18');
  assert.equal(
    clientAddress(request('127.0.0.1', { 'x-forwarded-for': '1.2.3.4', forwarded: 'for=6.6.6.6' }), proxies),
    '1.2.3.4',
    'Forwarded passes through common proxies untouched: the client wrote it',
  );
  assert.equal(clientAddress(request('127.0.0.1', { 'x-forwarded-for': 'not-an-address' }), proxies), '127.0.0.1');
  assert.equal(clientAddress(request('127.0.0.1'), proxies), '127.0.0.1', 'no header: the proxy itself');
  assert.equal(clientAddress(request('127.0.0.1', { 'x-forwarded-for': '1.2.3.4' }), undefined), '127.0.0.1', 'no proxy trusted');
  assert.throws(() => trustedProxies(['proxy.example']), /not an IP address/);
  assert.throws(() => trustedProxies(['10.0.0.0/33']), /prefix length/);
});

test('a claimed address is proven once, at a bounded rate per address, and its result remembered', async () => {
  let now = 0;
  const asked: string[] = [];
  const answers = new Map<string, string>([['198.51.100.7:4000', 'p1']]);
  const prover = new AddressProver(
    async (address, port) => {
      asked.push(`${address}:${port}`);
      const id = answers.get(`${address}:${port}`);
      if (id === undefined) throw new Error('refused');
      return id;
    },
    { maxPerAddressPerMinute: 2 },
    () => now,
  );
  assert.equal(prover.state('p1', '198.51.100.7', 4000), 'pending');
  assert.equal(prover.state('p1', '198.51.100.7', 4000), 'pending', 'one probe at a time');
  await new Promise((r) => setImmediate(r));
  assert.equal(prover.state('p1', '198.51.100.7', 4000), 'proven');
  assert.equal(prover.state('p2', '198.51.100.7', 4000), 'pending', 'another peer id at the same door');
  await new Promise((r) => setImmediate(r));
  assert.equal(prover.state('p2', '198.51.100.7', 4000), 'failed', 'the key there is not p2');
  // A flood of claims on one victim address, port after port: two probes a minute at most.
  for (let port = 1; port <= 100; port++) prover.state('attacker', '192.0.2.1', port);
  await new Promise((r) => setImmediate(r));
  assert.equal(asked.filter((a) => a.startsWith('192.0.2.1:')).length, 2);
  now += 60_000;
  prover.state('attacker', '192.0.2.1', 101);
  assert.equal(asked.filter((a) => a.startsWith('192.0.2.1:')).length, 3, 'a new minute, a new probe');
  assert.equal(asked.filter((a) => a === '198.51.100.7:4000').length, 2);
});
