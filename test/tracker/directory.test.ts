// Tracker state without HTTP: channel listing, peer expiry, announce answers, record
// replacement; the signed channel record check; and the address a peer is offered at.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bytesToHex } from '../../src/common/hex.js';
import { type ChannelKey, deriveRenditionKey, loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import {
  type ChannelRecord,
  canonicalRecord,
  checkSignedChannelRecord,
  MAX_CHANNEL_NAME_LENGTH,
  type RenditionEntry,
  renditionProofBytes,
  type SignedChannelRecord,
  signChannelRecord,
} from '../../src/protocol/channel-record.js';
import { seededRandom } from '../../src/protocol/random.js';
import { reachableAddress } from '../../src/tracker/announce-route.js';
import { DEFAULT_DIRECTORY_CONFIG, Directory, type DirectoryConfig, type PeerEntry, Refusal } from '../../src/tracker/directory.js';

const CH_A = 'a'.repeat(64);
const CH_B = 'b'.repeat(64);
const TTL = 15_000;

function directory(config: Partial<DirectoryConfig> = {}): Directory {
  return new Directory({ ...DEFAULT_DIRECTORY_CONFIG, peerTtlMs: TTL, listingCacheMs: 0, ...config }, seededRandom(3));
}

function record(channelId: string, name = 'News', issuedAtMs = 1000, bitrateBps = 1_000_000): ChannelRecord {
  return { channelId, name, bitrateBps, issuedAtMs };
}

function peer(n: number, role: 'source' | 'viewer' = 'viewer'): Omit<PeerEntry, 'lastSeenMs'> {
  return { peerId: n.toString(16).padStart(32, '0'), address: `10.0.0.${n % 250}`, port: 7000 + n, role };
}

function refusalOf(answer: PeerEntry[] | Refusal): string {
  return answer instanceof Refusal ? answer.message : 'not refused';
}

function announced(answer: PeerEntry[] | Refusal): PeerEntry[] {
  assert.ok(Array.isArray(answer), `announce refused: ${answer instanceof Refusal ? answer.message : ''}`);
  return answer;
}

describe('Directory listing', () => {
  test('a channel is listed only with both a record and a live source', () => {
    const d = directory();
    assert.deepEqual(d.liveChannels(0), []);
    assert.equal(d.putRecord(record(CH_A)), undefined);
    assert.deepEqual(d.liveChannels(0), [], 'record but nobody announced');
    announced(d.announce(0, CH_A, peer(1)));
    assert.deepEqual(d.liveChannels(0), [], 'viewers but no source');
    announced(d.announce(0, CH_A, peer(2, 'source')));
    assert.deepEqual(d.liveChannels(0), [{ id: CH_A, name: 'News', bitrateBps: 1_000_000, viewers: 1, sameNameAs: [], sameNameCount: 0 }]);
    // A source without a record is not listed either.
    announced(d.announce(0, CH_B, peer(3, 'source')));
    assert.deepEqual(
      d.liveChannels(0).map((c) => c.id),
      [CH_A],
    );
  });

  test('viewers are counted, the source is not', () => {
    const d = directory();
    d.putRecord(record(CH_A));
    announced(d.announce(0, CH_A, peer(100, 'source')));
    for (let i = 1; i <= 7; i++) announced(d.announce(0, CH_A, peer(i)));
    announced(d.announce(0, CH_A, peer(3)));
    assert.equal(d.liveChannels(0)[0]?.viewers, 7, 'a re-announce is not a new viewer');
    d.leave(CH_A, peer(3).peerId);
    assert.equal(d.liveChannels(0)[0]?.viewers, 6);
  });

  test('channels are sorted by viewers, then name', () => {
    const d = directory();
    const ids = ['1', '2', '3'].map((c) => c.repeat(64));
    d.putRecord(record(ids[0] as string, 'Zed'));
    d.putRecord(record(ids[1] as string, 'Alpha'));
    d.putRecord(record(ids[2] as string, 'Mid'));
    for (const [i, id] of ids.entries()) announced(d.announce(0, id, peer(50 + i, 'source')));
    announced(d.announce(0, ids[2] as string, peer(1)));
    assert.deepEqual(
      d.liveChannels(0).map((c) => c.name),
      ['Mid', 'Alpha', 'Zed'],
    );
  });

  test('two channels with the same name are both listed, each naming the other', () => {
    const d = directory();
    d.putRecord(record(CH_A, 'News'));
    d.putRecord(record(CH_B, 'News'));
    d.putRecord(record('c'.repeat(64), 'Sport'));
    announced(d.announce(0, CH_A, peer(1, 'source')));
    announced(d.announce(0, CH_B, peer(2, 'source')));
    announced(d.announce(0, 'c'.repeat(64), peer(3, 'source')));
    const live = d.liveChannels(0);
    assert.equal(live.length, 3);
    const byId = new Map(live.map((c) => [c.id, c]));
    assert.deepEqual(byId.get(CH_A)?.sameNameAs, [CH_B]);
    assert.deepEqual(byId.get(CH_B)?.sameNameAs, [CH_A]);
    assert.deepEqual(byId.get('c'.repeat(64))?.sameNameAs, []);
  });

  test('an older record cannot replace a newer one; a newer one renames the channel', () => {
    const d = directory();
    assert.equal(d.putRecord(record(CH_A, 'New name', 2000)), undefined);
    assert.match(d.putRecord(record(CH_A, 'Old name', 1999))?.message ?? '', /older/);
    announced(d.announce(0, CH_A, peer(1, 'source')));
    assert.equal(d.liveChannels(0)[0]?.name, 'New name');
    assert.equal(d.putRecord(record(CH_A, 'Newer name', 2001)), undefined);
    assert.equal(d.liveChannels(0)[0]?.name, 'Newer name');
  });

  test('maxChannels bounds the records kept', () => {
    const d = directory({ maxChannels: 2 });
    assert.equal(d.putRecord(record(CH_A)), undefined);
    assert.equal(d.putRecord(record(CH_B)), undefined);
    assert.match(d.putRecord(record('c'.repeat(64)))?.message ?? '', /full/);
    assert.equal(d.putRecord(record(CH_A, 'Renamed', 5000)), undefined, 'a known channel can still be updated');
  });

  test('records of channels that are gone do not keep new channels out for ever', () => {
    const d = directory({ maxChannels: 2 });
    d.putRecord(record(CH_A));
    d.putRecord(record(CH_B));
    announced(d.announce(0, CH_A, peer(1, 'source')));
    announced(d.announce(0, CH_B, peer(2, 'source')));
    // Both sources stop; long after their peers have expired, a new channel registers.
    assert.deepEqual(d.liveChannels(10 * TTL), []);
    assert.equal(d.putRecord(record('c'.repeat(64)), 10 * TTL), undefined);
  });
});

describe('Directory peers', () => {
  test('peers expire after peerTtlMs, expiry running at most once per second', () => {
    const d = directory();
    d.putRecord(record(CH_A));
    announced(d.announce(0, CH_A, peer(1, 'source')));
    announced(d.announce(0, CH_A, peer(2)));
    assert.equal(d.liveChannels(TTL)[0]?.viewers, 1, 'still within the TTL');
    // Expiry ran at TTL: 1 ms later it does not run again, so the peers are still there.
    assert.equal(d.liveChannels(TTL + 1).length, 1);
    assert.deepEqual(d.liveChannels(TTL + 1000), [], 'expired once expiry runs again');
  });

  test('announcing again keeps a peer alive', () => {
    const d = directory();
    d.putRecord(record(CH_A));
    announced(d.announce(0, CH_A, peer(1, 'source')));
    announced(d.announce(0, CH_A, peer(2)));
    announced(d.announce(10_000, CH_A, peer(1, 'source')));
    const live = d.liveChannels(20_000);
    assert.equal(live.length, 1, 'the source re-announced at 10 s');
    assert.equal(live[0]?.viewers, 0, 'the viewer did not');
    assert.deepEqual(d.liveChannels(10_000 + TTL + 1000), []);
  });

  test('announce never returns the requester and always includes the source', () => {
    const d = directory({ maxPeersPerAnswer: 5 });
    d.putRecord(record(CH_A));
    announced(d.announce(0, CH_A, peer(1000, 'source')));
    for (let i = 1; i <= 40; i++) announced(d.announce(0, CH_A, peer(i)));
    for (let i = 1; i <= 40; i++) {
      const answer = announced(d.announce(1, CH_A, peer(i)));
      assert.equal(answer.length, 5);
      assert.ok(!answer.some((p) => p.peerId === peer(i).peerId), `peer ${i} was offered itself`);
      assert.equal(answer[0]?.role, 'source', 'the source comes first');
      assert.equal(answer[0]?.peerId, peer(1000).peerId);
      assert.equal(new Set(answer.map((p) => p.peerId)).size, answer.length, 'no duplicates');
    }
    const sourceAnswer = announced(d.announce(1, CH_A, peer(1000, 'source')));
    assert.ok(sourceAnswer.every((p) => p.role === 'viewer'));
  });

  test('numWant bounds the answer: none for a peer with all its neighbours, which is still listed', () => {
    const d = directory({ maxPeersPerAnswer: 5 });
    d.putRecord(record(CH_A));
    announced(d.announce(0, CH_A, peer(1000, 'source')));
    for (let i = 1; i <= 10; i++) announced(d.announce(0, CH_A, peer(i)));
    assert.deepEqual(announced(d.announce(1, CH_A, peer(11), 0)), []);
    const two = announced(d.announce(1, CH_A, peer(12), 2));
    assert.equal(two.length, 2);
    assert.equal(two[0]?.role, 'source', 'the source still comes first');
    assert.equal(announced(d.announce(1, CH_A, peer(13), 500)).length, 5, 'more than maxPeersPerAnswer is the most');
    // Peer 11 asked for nobody but is offered to others like any viewer.
    const offered = new Set<string>();
    for (let k = 0; k < 30; k++) for (const p of announced(d.announce(1, CH_A, peer(1)))) offered.add(p.peerId);
    assert.ok(offered.has(peer(11).peerId), 'a peer that wanted no peers was not listed');
  });

  test('the first peer of a swarm gets an empty answer', () => {
    const d = directory();
    d.putRecord(record(CH_A));
    assert.deepEqual(announced(d.announce(0, CH_A, peer(1, 'source'))), []);
  });

  test('announce answers are a random sample of the viewers', () => {
    const d = directory({ maxPeersPerAnswer: 3 });
    d.putRecord(record(CH_A));
    for (let i = 1; i <= 20; i++) announced(d.announce(0, CH_A, peer(i)));
    const seen = new Set<string>();
    for (let k = 0; k < 30; k++) for (const p of announced(d.announce(1, CH_A, peer(1)))) seen.add(p.peerId);
    assert.ok(seen.size >= 12, `only ${seen.size} of 19 peers ever offered`);
  });

  test('maxPeersPerChannel bounds a swarm, but known peers may re-announce', () => {
    const d = directory({ maxPeersPerChannel: 3 });
    d.putRecord(record(CH_A));
    d.putRecord(record(CH_B));
    for (let i = 1; i <= 3; i++) announced(d.announce(0, CH_A, peer(i)));
    assert.match(refusalOf(d.announce(0, CH_A, peer(4))), /full/);
    assert.equal(announced(d.announce(0, CH_A, peer(2))).length, 2);
    // Another channel has its own bound.
    announced(d.announce(0, CH_B, peer(4)));
    // Room again once a peer leaves.
    d.leave(CH_A, peer(1).peerId);
    assert.equal(announced(d.announce(0, CH_A, peer(4))).length, 2);
  });
});

describe('checkSignedChannelRecord', () => {
  let dir: string;
  let key: ChannelKey;
  let otherKey: ChannelKey;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-directory-test-'));
    key = loadOrCreateKey(path.join(dir, 'a.key')).key;
    otherKey = loadOrCreateKey(path.join(dir, 'b.key')).key;
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function signed(overrides: Partial<ChannelRecord> = {}): SignedChannelRecord {
    return signChannelRecord(
      { channelId: key.channelId, name: 'Channel 1', bitrateBps: 900_000, issuedAtMs: 1_700_000_000_000, ...overrides },
      key.sign,
    );
  }

  /** Round-trips through JSON, as a tracker receives it. */
  function check(body: unknown): string | undefined {
    return checkSignedChannelRecord(JSON.parse(JSON.stringify(body)), nodeVerify);
  }

  test('a valid record is accepted', () => {
    assert.equal(check(signed()), undefined);
    assert.equal(check(signed({ name: 'x'.repeat(MAX_CHANNEL_NAME_LENGTH), bitrateBps: 0 })), undefined);
  });

  test('a tampered name, bitrate, time or channel is refused', () => {
    const good = signed();
    for (const change of [
      { name: 'Channel 2' },
      { bitrateBps: 900_001 },
      { issuedAtMs: good.record.issuedAtMs + 1 },
      { channelId: otherKey.channelId },
    ]) {
      assert.equal(
        check({ ...good, record: { ...good.record, ...change } }),
        'signature does not match the channel key',
        JSON.stringify(change),
      );
    }
  });

  test('a record signed with another key is refused', () => {
    const forged = signChannelRecord(signed().record, otherKey.sign);
    assert.equal(check(forged), 'signature does not match the channel key');
  });

  test('a signature over a record cannot be replayed as another record', () => {
    const a = signed({ name: 'A' });
    const b = signed({ name: 'B' });
    assert.equal(check({ record: a.record, signature: b.signature }), 'signature does not match the channel key');
  });

  test('malformed shapes are refused with a reason', () => {
    const good = signed();
    const withRecord = (r: Record<string, unknown>) => ({ ...good, record: { ...good.record, ...r } });
    const cases: [unknown, RegExp][] = [
      [null, /object/],
      ['text', /object/],
      [42, /object/],
      [{}, /record missing/],
      [{ signature: good.signature }, /record missing/],
      [{ record: null, signature: good.signature }, /record missing/],
      [withRecord({ channelId: key.channelId.toUpperCase() }), /channelId/],
      [withRecord({ channelId: key.channelId.slice(2) }), /channelId/],
      [withRecord({ channelId: 7 }), /channelId/],
      [withRecord({ name: '' }), /name/],
      [withRecord({ name: '   ' }), /name/],
      [withRecord({ name: 'x'.repeat(MAX_CHANNEL_NAME_LENGTH + 1) }), /name/],
      [withRecord({ name: 5 }), /name/],
      [withRecord({ bitrateBps: -1 }), /bitrateBps/],
      [withRecord({ bitrateBps: '1000' }), /bitrateBps/],
      [withRecord({ bitrateBps: null }), /bitrateBps/],
      [withRecord({ issuedAtMs: '1' }), /issuedAtMs/],
      [withRecord({ issuedAtMs: undefined }), /issuedAtMs/],
      [{ record: good.record }, /signature/],
      [{ ...good, signature: good.signature.slice(2) }, /signature must be/],
      [{ ...good, signature: good.signature.toUpperCase() }, /signature must be/],
      [{ ...good, signature: 12 }, /signature must be/],
    ];
    for (const [body, reason] of cases) {
      const problem = check(body);
      assert.equal(typeof problem, 'string', `accepted ${JSON.stringify(body)}`);
      assert.match(problem as string, reason, JSON.stringify(body));
    }
  });

  describe('renditions', () => {
    let high: ChannelKey;
    before(() => {
      high = deriveRenditionKey(key, 'high');
    });
    const entry = (k: ChannelKey, name: string, bitrateBps: number, signer = k): RenditionEntry => ({
      name,
      channelId: k.channelId,
      height: name === 'low' ? 360 : 720,
      bitrateBps,
      proof: bytesToHex(signer.sign(renditionProofBytes(key.channelId, name))),
    });
    const ladder = (...entries: RenditionEntry[]) => signed({ renditions: entries });

    test('rendition keys are derived from the channel key: the same name gives the same key after a restart', () => {
      const reloaded = loadOrCreateKey(path.join(dir, 'a.key')).key;
      assert.equal(deriveRenditionKey(reloaded, 'high').channelId, high.channelId);
      assert.notEqual(deriveRenditionKey(key, 'hd').channelId, high.channelId);
      assert.notEqual(deriveRenditionKey(otherKey, 'high').channelId, high.channelId);
    });

    test('a ladder whose keys each signed for the channel is accepted, and kept whole by canonicalRecord', () => {
      const good = ladder(entry(key, 'low', 900_000), entry(high, 'high', 2_600_000));
      assert.equal(check(good), undefined);
      const stored = canonicalRecord(JSON.parse(JSON.stringify({ ...good.record, extra: 'dropped' })) as ChannelRecord);
      assert.deepEqual(stored, good.record);
      assert.equal(checkSignedChannelRecord({ record: stored, signature: good.signature }, nodeVerify), undefined);
    });

    test("another channel's swarm cannot be listed as a rendition", () => {
      // otherKey never signed for this channel: its proof is made with our key.
      assert.match(
        check(ladder(entry(key, 'low', 900_000), entry(otherKey, 'high', 2_600_000, key))) ?? '',
        /did not sign for this channel/,
      );
      // A proof made for another channel does not carry over.
      const foreign = { ...entry(high, 'high', 2_600_000), proof: bytesToHex(high.sign(renditionProofBytes(otherKey.channelId, 'high'))) };
      assert.match(check(ladder(entry(key, 'low', 900_000), foreign)) ?? '', /did not sign for this channel/);
    });

    test('bad ladders are refused with a reason', () => {
      const low = entry(key, 'low', 900_000);
      const hi = entry(high, 'high', 2_600_000);
      const cases: [RenditionEntry[], RegExp][] = [
        [[low], /2-6 entries/],
        [[hi, low], /lowest rate first|first rendition/],
        [[low, { ...hi, bitrateBps: 900_000 }], /lowest rate first/],
        [[low, { ...hi, bitrateBps: 2e9 }], /bitrateBps must be/],
        [[entry(high, 'low', 900_000), hi], /first rendition must be the channel key|distinct/],
        [[low, { ...hi, name: 'low' }], /did not sign|distinct/],
        [[low, { ...hi, proof: 'ab' }], /proof must be/],
        [[low, { ...hi, height: 7 }], /height/],
      ];
      for (const [entries, reason] of cases) {
        const problem = check(ladder(...entries));
        assert.equal(typeof problem, 'string', `accepted ${JSON.stringify(entries.map((e) => [e.name, e.bitrateBps]))}`);
        assert.match(problem as string, reason);
      }
    });
  });

  test('non-finite numbers are refused even when not coming from JSON', () => {
    const good = signed();
    for (const r of [{ bitrateBps: Number.NaN }, { bitrateBps: Number.POSITIVE_INFINITY }, { issuedAtMs: Number.NaN }]) {
      const problem = checkSignedChannelRecord({ ...good, record: { ...good.record, ...r } }, nodeVerify);
      assert.match(problem ?? '', /must be/);
    }
  });
});

describe('reachableAddress', () => {
  test('a loopback peer is offered to a remote requester at the tracker address it used', () => {
    assert.equal(reachableAddress('127.0.0.1', '192.168.1.20', '192.168.1.5'), '192.168.1.5');
    assert.equal(reachableAddress('127.0.1.1', '203.0.113.9', '198.51.100.2'), '198.51.100.2');
    assert.equal(reachableAddress('::1', '192.168.1.20', '192.168.1.5'), '192.168.1.5');
    assert.equal(reachableAddress('localhost', '2001:db8::7', '2001:db8::1'), '2001:db8::1');
  });

  test('a loopback peer stays on loopback for a local requester', () => {
    assert.equal(reachableAddress('127.0.0.1', '127.0.0.1', '127.0.0.1'), '127.0.0.1');
    assert.equal(reachableAddress('127.0.0.1', '::1', '::1'), '127.0.0.1');
  });

  test('other peers are offered at their own address', () => {
    assert.equal(reachableAddress('10.0.0.7', '192.168.1.20', '192.168.1.5'), '10.0.0.7');
    assert.equal(reachableAddress('10.0.0.7', '127.0.0.1', '127.0.0.1'), '10.0.0.7');
    assert.equal(reachableAddress('2001:db8::9', '192.168.1.20', '192.168.1.5'), '2001:db8::9');
  });

  test('without a known tracker address the peer address is kept', () => {
    assert.equal(reachableAddress('127.0.0.1', '192.168.1.20', ''), '127.0.0.1');
  });
});

describe('Directory entries belong to the address that made them', () => {
  test("another address can neither take over nor remove a viewer's entry", () => {
    const d = directory();
    d.putRecord(record(CH_A));
    announced(d.announce(0, CH_A, { ...peer(9, 'source'), seenFrom: '10.0.0.9' }));
    announced(d.announce(0, CH_A, { ...peer(1), seenFrom: '10.0.0.1' }));
    assert.match(refusalOf(d.announce(1, CH_A, { ...peer(1), address: '6.6.6.6', seenFrom: '6.6.6.6' })), /another address/);
    d.leave(CH_A, peer(1).peerId, '6.6.6.6');
    assert.equal(d.liveChannels(2)[0]?.viewers, 1, 'a stranger removed the viewer');
    d.leave(CH_A, peer(1).peerId, '10.0.0.1');
    assert.equal(d.liveChannels(3)[0]?.viewers, 0);
  });
});

describe('Directory under a flood', () => {
  const id = (n: number) => n.toString(16).padStart(64, '0');

  test('a peer of a channel nobody published is answered with nobody and not stored', () => {
    const d = directory();
    assert.deepEqual(announced(d.announce(0, CH_A, peer(1))), []);
    // A proven source too: keys cost nothing, and each would be a swarm.
    assert.deepEqual(announced(d.announce(0, CH_A, peer(2, 'source'))), []);
    assert.equal(d.counts().swarms, 0, 'random channel ids must not fill the directory');
    assert.equal(d.counts().peers, 0);
    d.putRecord(record(CH_A));
    announced(d.announce(0, CH_A, peer(2, 'source')));
    assert.equal(announced(d.announce(0, CH_A, peer(1)))[0]?.peerId, peer(2).peerId);
    d.putRecord({ ...record(CH_B), renditions: [{ name: 'low', channelId: id(7), height: 240, bitrateBps: 300_000, proof: '' }] });
    announced(d.announce(0, CH_B, peer(3)));
    announced(d.announce(0, id(7), peer(3)));
    assert.equal(d.counts().peers, 4, "viewers of a published channel and of its renditions' swarms are stored");
  });

  test('one address holds at most maxPeersPerAddress entries of a channel; others are not held back', () => {
    const d = directory({ maxPeersPerAddress: 3 });
    d.putRecord(record(CH_A));
    d.putRecord(record(CH_B));
    const from = (n: number, group: string) => ({ ...peer(n), seenFrom: group, group });
    for (let i = 1; i <= 3; i++) announced(d.announce(0, CH_A, from(i, '198.51.100.7')));
    const refused = d.announce(0, CH_A, from(4, '198.51.100.7'));
    assert.ok(refused instanceof Refusal && refused.code === 'address-cap');
    announced(d.announce(0, CH_A, from(2, '198.51.100.7')));
    announced(d.announce(0, CH_A, from(5, '198.51.100.8')));
    announced(d.announce(0, CH_B, from(6, '198.51.100.7')));
    d.leave(CH_A, peer(1).peerId, '198.51.100.7');
    announced(d.announce(0, CH_A, from(4, '198.51.100.7')));
  });

  test('a channel lists at most maxSourcesPerChannel sources', () => {
    const d = directory({ maxSourcesPerChannel: 2 });
    d.putRecord(record(CH_A));
    announced(d.announce(0, CH_A, peer(1, 'source')));
    announced(d.announce(0, CH_A, peer(2, 'source')));
    const third = d.announce(0, CH_A, peer(3, 'source'));
    assert.ok(third instanceof Refusal && third.code === 'too-many-sources');
    announced(d.announce(1, CH_A, peer(2, 'source')));
  });

  test('one address publishes at most maxChannelsPerAddress records', () => {
    const d = directory({ maxChannelsPerAddress: 2 });
    assert.equal(d.putRecord(record(id(1)), 0, undefined, '198.51.100.7'), undefined);
    assert.equal(d.putRecord(record(id(2)), 0, undefined, '198.51.100.7'), undefined);
    assert.equal(d.putRecord(record(id(3)), 0, undefined, '198.51.100.7')?.code, 'too-many-channels-from-address');
    assert.equal(d.putRecord(record(id(2), 'Renamed', 2000), 0, undefined, '198.51.100.7'), undefined, 'its own channels it may update');
    assert.equal(d.putRecord(record(id(3)), 0, undefined, '198.51.100.8'), undefined);
  });

  test('names that look alike are the same name; the listing names a few twins and counts them all', () => {
    const d = directory();
    const names = ['News 24', 'Nеws 24', 'NEWS  24', '𝐍𝐞𝐰𝐬 24', 'Ne\u200bws 24', 'News 42'];
    names.forEach((name, i) => {
      d.putRecord(record(id(i + 1), name));
      announced(d.announce(0, id(i + 1), peer(i + 1, 'source')));
    });
    const byId = new Map(d.liveChannels(0).map((c) => [c.id, c]));
    for (let i = 1; i <= 5; i++) {
      const c = byId.get(id(i));
      assert.equal(c?.sameNameCount, 4, `${names[i - 1]} looks like four others`);
      assert.equal(c?.sameNameAs.length, 3, 'at most three ids');
      assert.ok(!c?.sameNameAs.includes(id(i)), 'never itself');
    }
    assert.equal(byId.get(id(6))?.sameNameCount, 0);
  });

  test('the listing of 10,000 channels of one name grows linearly (figures printed, not asserted)', (t) => {
    const sizes: number[] = [];
    for (const n of [1000, 10_000]) {
      const d = directory();
      for (let i = 1; i <= n; i++) {
        d.putRecord(record(id(i), 'Same'));
        announced(d.announce(0, id(i), peer(i, 'source')));
      }
      const t0 = performance.now();
      const text = JSON.stringify(d.liveChannels(0));
      t.diagnostic(`${n} channels of one name: ${(text.length / 1e6).toFixed(2)} MB, built in ${(performance.now() - t0).toFixed(0)} ms`);
      sizes.push(text.length / n);
    }
    const [small = 0, large = 0] = sizes;
    assert.ok(large < small * 1.1, `bytes per channel grew from ${small.toFixed(0)} to ${large.toFixed(0)}`);
  });

  test('a listing is built at most once per listingCacheMs', () => {
    const d = directory({ listingCacheMs: 1000 });
    d.putRecord(record(CH_A));
    announced(d.announce(0, CH_A, peer(1, 'source')));
    const first = d.liveChannels(0);
    announced(d.announce(10, CH_A, peer(2)));
    assert.equal(d.liveChannels(500), first, 'the cached listing');
    assert.equal(d.liveChannels(1000)[0]?.viewers, 1, 'built again after a second');
  });
});

describe("a source's peer id", () => {
  test('cannot be taken or removed without the proof, and a proven source takes it back from a squatter', () => {
    const d = directory();
    d.putRecord(record(CH_A));
    const source = { ...peer(1, 'source'), seenFrom: '198.51.100.1', group: '198.51.100.1' };
    announced(d.announce(0, CH_A, source));
    // Someone behind the same address (carrier-grade NAT) announces the source's id as a viewer.
    const squat = { ...peer(1), seenFrom: '198.51.100.1', group: '198.51.100.1' };
    assert.equal((d.announce(1, CH_A, squat) as Refusal).code, 'id-in-use');
    d.leave(CH_A, source.peerId, '198.51.100.1');
    assert.equal(d.liveChannels(2).length, 1, 'an unproven stop removed the source');
    d.leave(CH_A, source.peerId, '198.51.100.1', true);
    assert.equal(d.liveChannels(3).length, 0, 'the broadcaster stopped');
    // While it restarts, the squatter takes the id from elsewhere; the proven source gets it back.
    announced(d.announce(4, CH_A, { ...peer(1), seenFrom: '203.0.114.66', group: '203.0.114.66' }));
    announced(d.announce(5, CH_A, source));
    assert.equal(d.liveChannels(6).length, 1);
  });
});
