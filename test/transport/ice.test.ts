import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { checkIceServers, forNodeDataChannel, linkPathOf, parseIceServer, turnRestCredentials } from '../../src/transport/ice.js';

test('STUN and TURN flags parse into RTCIceServer entries', () => {
  assert.deepEqual(parseIceServer('stun', 'stun:10.0.0.1:3478'), { urls: ['stun:10.0.0.1:3478'] });
  assert.deepEqual(parseIceServer('stun', 'stun.example.org'), { urls: ['stun:stun.example.org'] });
  assert.deepEqual(parseIceServer('turn', 'turn:alice:s3cr%40t@turn.example.org:3478?transport=tcp'), {
    urls: ['turn:turn.example.org:3478?transport=tcp'],
    username: 'alice',
    credential: 's3cr@t',
  });
  assert.deepEqual(parseIceServer('turn', 'turns:[::1]:5349'), { urls: ['turns:[::1]:5349'] });
});

test('malformed STUN and TURN values are refused with a reason', () => {
  assert.throws(() => parseIceServer('stun', 'stun:u:p@host'), /takes no credentials/);
  assert.throws(() => parseIceServer('turn', 'turn:alice@host'), /user:password@/);
  assert.throws(() => parseIceServer('turn', 'turn:host:99999'), /must look like turn:host:port/);
  assert.throws(() => parseIceServer('turn', 'turn:ho st'), /must look like/);
  assert.throws(() => parseIceServer('turn', 'turn:host:3478?transport=sctp'), /transport=udp/);
  assert.throws(() => parseIceServer('turn', 'turn:al%ZZice:pw@host:3478'), /%-escape in the credentials is malformed/);
});

test('ICE servers from a tracker are checked: TURN without credentials and junk are dropped', () => {
  const given: unknown = [
    { urls: 'stun:a:3478' },
    { urls: ['turn:b:3478'], username: 'u', credential: 'p' },
    { urls: ['turn:c:3478'] },
    { urls: ['http://evil'] },
    'junk',
    null,
    { urls: 'x'.repeat(300) },
  ];
  assert.deepEqual(checkIceServers(given), [{ urls: ['stun:a:3478'] }, { urls: ['turn:b:3478'], username: 'u', credential: 'p' }]);
  assert.deepEqual(checkIceServers({ not: 'a list' }), []);
});

test('TURN REST credentials: the name is the expiry, the password the HMAC-SHA1 of it under the shared secret', async () => {
  const c = await turnRestCredentials('north', 1_700_000_000_500, 3600, (k, d) => createHmac('sha1', k).update(d).digest());
  assert.equal(c.username, '1700003600');
  assert.equal(c.credential, createHmac('sha1', 'north').update('1700003600').digest('base64'));
  // For node-datachannel, which splices them into a URL, they are escaped.
  const [forNode] = forNodeDataChannel([{ urls: ['turn:h:1'], username: 'a:b', credential: 'x/y+z=' }]);
  assert.deepEqual(forNode, { urls: ['turn:h:1'], username: 'a%3Ab', credential: 'x%2Fy%2Bz%3D' });
});

test('the link path comes from the selected candidate pair', async () => {
  const report = (local: string, remote: string, viaTransport: boolean) => {
    const entries: Record<string, unknown>[] = [
      { id: 'L', type: 'local-candidate', candidateType: local },
      { id: 'R', type: 'remote-candidate', candidateType: remote },
      { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', state: 'succeeded', nominated: !viaTransport },
    ];
    if (viaTransport) entries.push({ id: 'T', type: 'transport', selectedCandidatePairId: 'P' });
    return {
      getStats: async () => ({
        forEach: (cb: (v: Record<string, unknown>) => void) => {
          for (const e of entries) cb(e);
        },
      }),
    };
  };
  assert.equal(await linkPathOf(report('host', 'host', true)), 'direct');
  assert.equal(await linkPathOf(report('srflx', 'host', false)), 'reflexive');
  assert.equal(await linkPathOf(report('prflx', 'srflx', true)), 'reflexive');
  assert.equal(await linkPathOf(report('host', 'relay', true)), 'relayed');
  assert.equal(await linkPathOf({ getStats: async () => ({ forEach: () => {} }) }), undefined);
});
