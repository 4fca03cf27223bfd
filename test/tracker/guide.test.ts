// The tracker's guide routes: a channel's signed guide and logo are kept only from its key and
// only when newer, served as signed, summarised as now/next in the listing and rendered as
// XMLTV that Debian's tv_validate_file accepts; guides and logos stay in bounded memory.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parseChannelList } from '../../src/api/tracker-api.js';
import { renderXmltv } from '../../src/api/xmltv.js';
import { bytesToHex } from '../../src/common/hex.js';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import { fetchChannelGuide } from '../../src/native/tracker-client.js';
import { signChannelRecord } from '../../src/protocol/channel-record.js';
import { type ChannelGuide, checkSignedGuide, signGuide } from '../../src/protocol/guide.js';
import { signLogo } from '../../src/protocol/logo.js';
import { signSourceProof } from '../../src/protocol/source-proof.js';
import { GuideStore } from '../../src/tracker/guide-store.js';
import { startTracker, type TrackerServer } from '../../src/tracker/server.js';
import { tempDir } from '../helpers/processes.js';
import { tvValidate } from '../helpers/xmltv.js';

describe('tracker guide routes', () => {
  let tracker: TrackerServer;
  const dir = tempDir('tracker-guide');
  const { key } = loadOrCreateKey(`${dir}/a.key`);
  const { key: other } = loadOrCreateKey(`${dir}/b.key`);
  const now = Date.now();
  const hour = 3600_000;
  const guide = (issuedAtMs: number, title = 'Evening <news> & "more"'): ChannelGuide => ({
    channelId: key.channelId,
    issuedAtMs,
    category: 'News',
    language: 'en',
    description: 'All day',
    programmes: [
      { startMs: now - hour, stopMs: now + hour, title, description: 'Headlines' },
      { startMs: now + hour, stopMs: now + 2 * hour, title: 'Weather', category: 'Science' },
    ],
  });
  const post = (
    path: string,
    body: string | Buffer<ArrayBuffer>,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ) => fetch(`${tracker.url}${path}`, { method: 'POST', headers, body });
  const expectError = async (res: Response, status: number, pattern: RegExp) => {
    assert.equal(res.status, status);
    assert.match(((await res.json()) as { error: string }).error, pattern);
  };

  before(async () => {
    tracker = await startTracker({ host: '127.0.0.1', port: 0, rateLimit: { ratePerS: 0 } });
    const record = signChannelRecord({ channelId: key.channelId, name: 'Mine & <yours>', bitrateBps: 1e6, issuedAtMs: now }, key.sign);
    assert.equal((await post('/api/channels', JSON.stringify(record))).status, 200);
    const peerId = 'cd'.repeat(16);
    const announce = {
      channelId: key.channelId,
      peerId,
      port: 4000,
      role: 'source',
      sourceProof: signSourceProof(key.channelId, peerId, now, key.sign),
    };
    assert.equal((await post('/api/announce', JSON.stringify(announce))).status, 200);
  });
  after(() => tracker.stop());

  test('a guide signed by the channel key is kept and served still signed', async () => {
    const signed = signGuide(guide(now), key.sign);
    assert.equal((await post(`/api/channels/${key.channelId}/guide`, JSON.stringify(signed))).status, 200);
    const served = await (await fetch(`${tracker.url}/api/channels/${key.channelId}/guide`)).json();
    assert.equal(checkSignedGuide(served, nodeVerify), undefined);
    assert.deepEqual(served, signed);
  });

  test('forged, replayed, foreign, far-dated and record-less guides are refused', async () => {
    const url = `/api/channels/${key.channelId}/guide`;
    await expectError(await post(url, JSON.stringify(signGuide(guide(now + 1, 'Forged'), other.sign))), 400, /signature does not match/);
    // The first guide again, or an older one: a replay cannot undo a change.
    await expectError(await post(url, JSON.stringify(signGuide(guide(now - 1000, 'Old'), key.sign))), 409, /older guide/);
    const foreign = signGuide({ ...guide(now + 1), channelId: other.channelId }, other.sign);
    await expectError(await post(url, JSON.stringify(foreign)), 400, /another channel/);
    await expectError(await post(`/api/channels/${other.channelId}/guide`, JSON.stringify(foreign)), 409, /publish its record first/);
    await expectError(await post(url, JSON.stringify(signGuide(guide(now + 365 * 86_400_000), key.sign))), 400, /from the tracker's clock/);
    await expectError(await post(url, JSON.stringify({ pad: 'x'.repeat(200_000) })), 413, /larger than/);
    const served = (await (await fetch(`${tracker.url}${url}`)).json()) as { guide: ChannelGuide };
    assert.equal(served.guide.issuedAtMs, now, 'a refused guide replaced the kept one');
  });

  test('logos: PNG or JPEG signed by the channel key, served with their type', async () => {
    const url = `/api/channels/${key.channelId}/logo`;
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7, 7]);
    const headers = (at: number, signature: string) => ({ 'x-meshtv-issued-at': String(at), 'x-meshtv-signature': signature });
    await expectError(await post(url, Buffer.from(png), headers(now, bytesToHex(signLogo(now, png, other.sign)))), 400, /signature/);
    const html = new TextEncoder().encode('<html><script>alert(1)</script>');
    await expectError(await post(url, Buffer.from(html), headers(now, bytesToHex(signLogo(now, html, key.sign)))), 400, /PNG or JPEG/);
    assert.equal((await post(url, Buffer.from(png), headers(now, bytesToHex(signLogo(now, png, key.sign))))).status, 200);
    const served = await fetch(`${tracker.url}${url}`);
    assert.equal(served.headers.get('content-type'), 'image/png');
    assert.deepEqual(new Uint8Array(await served.arrayBuffer()), png);
  });

  test('the listing shows category, language, now, next and the logo', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // the listing is rebuilt at most once a second
    const list = parseChannelList(await (await fetch(`${tracker.url}/api/channels`)).json());
    const c = list?.find((x) => x.id === key.channelId);
    assert.deepEqual(
      { category: c?.category, language: c?.language, now: c?.now, next: c?.next, hasLogo: c?.hasLogo },
      {
        category: 'News',
        language: 'en',
        now: { title: 'Evening <news> & "more"', start: now - hour, stop: now + hour },
        next: { title: 'Weather', start: now + hour, stop: now + 2 * hour },
        hasLogo: true,
      },
    );
  });

  test('a native client reads the guide only when the channel key signed it', async () => {
    const g = await fetchChannelGuide(tracker.url, key.channelId, nodeVerify);
    assert.equal(g?.programmes[0]?.title, 'Evening <news> & "more"');
    assert.equal(await fetchChannelGuide(tracker.url, 'ef'.repeat(32), nodeVerify), undefined);
    // A tracker that serves another key's guide under this channel's id is caught.
    const liar = http.createServer((_req, res) => res.end(JSON.stringify(signGuide(guide(now), other.sign))));
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`;
      await assert.rejects(fetchChannelGuide(url, key.channelId, nodeVerify), /fails its check \(signature does not match/);
    } finally {
      liar.close();
    }
  });

  test('/epg.xml is XMLTV that tv_validate_file accepts, with the logo URL on the asked host', async () => {
    const res = await fetch(`${tracker.url}/epg.xml`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/xml/);
    const xml = await res.text();
    assert.ok(xml.includes(`<display-name lang="en">Mine &amp; &lt;yours&gt;</display-name>`), xml);
    assert.ok(xml.includes(`<icon src="${tracker.url}/api/channels/${key.channelId}/logo"/>`), xml);
    assert.ok(xml.includes('<title lang="en">Evening &lt;news&gt; &amp; &quot;more&quot;</title>'), xml);
    const checked = tvValidate(xml);
    assert.ok(checked.ok, checked.output);
  });
});

describe('XMLTV rendering', () => {
  test('hostile names and titles cannot break the document or carry control characters', () => {
    const id = 'ab'.repeat(32);
    const hostile = 'x\u0000\u0007\u001b[31m\u202E</title><script>&amp;\uFFFE\uD800';
    const xml = renderXmltv(
      [
        {
          id,
          name: hostile,
          guide: { channelId: id, issuedAtMs: 0, programmes: [{ startMs: 0, stopMs: 60_000, title: hostile, description: hostile }] },
        },
      ],
      0,
    );
    const forbidden = [...xml].filter((c) => {
      const n = c.codePointAt(0) as number;
      return (n < 0x20 && c !== '\n') || n === 0x202e || n === 0xfffe || (n >= 0xd800 && n <= 0xdfff);
    });
    assert.deepEqual(forbidden, []);
    assert.doesNotMatch(xml, /<script/);
    assert.ok(xml.includes('<title>x[31m&lt;/title&gt;&lt;script&gt;&amp;amp;</title>'), xml);
    const checked = tvValidate(xml);
    assert.ok(checked.ok, checked.output);
  });

  test('a channel without programmes gets a stand-in of its name, so the guide shows it and validates', () => {
    const xml = renderXmltv([{ id: 'cd'.repeat(32), name: 'Plain' }], Date.UTC(2026, 11, 7, 19, 40));
    assert.ok(xml.includes('<programme start="20261207190000 +0000" stop="20261208190000 +0000"'), xml);
    assert.ok(tvValidate(xml).ok);
  });
});

describe('guide store memory', () => {
  test('past the totals, channels without peers lose their guides and logos first, then the oldest', () => {
    const withPeers = new Set(['busy']);
    const store = new GuideStore((id) => withPeers.has(id), { guideBytes: 1000, logoBytes: 500 });
    const put = (id: string, at: number, size: number) =>
      store.putGuide({ guide: { channelId: id, issuedAtMs: at, programmes: [] }, signature: '' }, size);
    put('busy', 1, 400);
    put('quiet', 2, 400);
    put('newer', 3, 400);
    assert.deepEqual(store.totals().guides, 2);
    assert.ok(store.guide('busy') !== undefined && store.guide('newer') !== undefined && store.guide('quiet') === undefined);
    for (let i = 0; i < 100; i++) store.putLogo(`c${i}`, i, new Uint8Array(100), 'image/png');
    assert.ok(store.totals().logoBytes <= 500);
    assert.ok(store.logo('c99') !== undefined && store.logo('c0') === undefined);
    assert.equal(put('newer', 2, 10), false, 'an older guide replaced a newer one');
  });
});
