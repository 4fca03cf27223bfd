// oEmbed (src/tracker/oembed.ts): only this tracker's own watch and embed URLs are described,
// the answer is a 16:9 iframe of the embed page within the consumer's bounds, and everything else
// is refused with the status oembed.com §2.3.5 asks for. The route is checked on a real tracker.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadOrCreateKey } from '../../src/crypto/keys.js';
import { signChannelRecord } from '../../src/protocol/channel-record.js';
import { HttpError } from '../../src/tracker/http.js';
import { answerOembed, oembedSize, ownHost, parseOembedUrl } from '../../src/tracker/oembed.js';
import { startTracker, type TrackerServer } from '../../src/tracker/server.js';
import { tempDir } from '../helpers/processes.js';

const ID = 'ab'.repeat(32);
const HOST = 'tv.example:8900';

function refused(fn: () => unknown, status: number, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof HttpError && err.status === status && pattern.test(err.message));
}

test('watch and embed URLs of this tracker are parsed; the scheme the consumer used is kept', () => {
  assert.deepEqual(parseOembedUrl(`http://${HOST}/watch/${ID}`, HOST), { origin: `http://${HOST}`, channelId: ID, noShare: false });
  assert.deepEqual(parseOembedUrl(`https://${HOST}/embed/${ID}/`, HOST), { origin: `https://${HOST}`, channelId: ID, noShare: false });
  assert.deepEqual(parseOembedUrl(`http://TV.example:8900/embed/${ID}?share=0`, HOST), {
    origin: `http://${HOST}`,
    channelId: ID,
    noShare: true,
  });
});

test('any other URL is refused with a reason', () => {
  refused(() => parseOembedUrl(null, HOST), 400, /url parameter required/);
  refused(() => parseOembedUrl(`/watch/${ID}`, HOST), 400, /not an absolute URL/);
  refused(() => parseOembedUrl(`javascript:alert(1)//${HOST}/watch/${ID}`, HOST), 400, /http or https/);
  refused(() => parseOembedUrl(`http://user:pw@${HOST}/watch/${ID}`, HOST), 400, /user name or password/);
  refused(() => parseOembedUrl(`http://evil.example/watch/${ID}`, HOST), 404, /not on this tracker/);
  refused(() => parseOembedUrl(`http://tv.example.evil.example:8900/watch/${ID}`, HOST), 404, /not on this tracker/);
  refused(() => parseOembedUrl(`http://tv.example:8901/watch/${ID}`, HOST), 404, /not on this tracker/);
  for (const path of [`/watch/${ID.toUpperCase()}`, `/watch/${ID}/x`, `/watch/${ID.slice(2)}`, '/', `/api/channels/${ID}`, `/watch//${ID}`])
    refused(() => parseOembedUrl(`http://${HOST}${path}`, HOST), 404, /not a channel page/);
  refused(() => parseOembedUrl(`http://${HOST}/watch/${ID}#x`, HOST), 400, /fragment/);
  refused(() => parseOembedUrl(`http://${HOST}/watch/${ID}?share=0`, HOST), 400, /no query but share/);
  refused(() => parseOembedUrl(`http://${HOST}/embed/${ID}?share=0&src=/feed`, HOST), 400, /no query but share/);
  refused(() => parseOembedUrl(`http://${HOST}/embed/${ID}?src=/feed`, HOST), 400, /no query but share/);
  refused(() => parseOembedUrl(`http://${HOST}/watch/${ID}`, undefined), 400, /Host header/);
});

test('only plain Host headers name this tracker', () => {
  assert.equal(ownHost('TV.Example:8900'), 'tv.example:8900');
  assert.equal(ownHost('[::1]:8900'), '[::1]:8900');
  assert.equal(ownHost('127.0.0.1'), '127.0.0.1');
  for (const bad of [undefined, '', 'a b', 'x"><script>', 'x/y', 'x:port', 'user@x', '-x'])
    assert.equal(ownHost(bad), undefined, String(bad));
});

test('the iframe is 16:9 within maxwidth and maxheight', () => {
  assert.deepEqual(oembedSize(null, null), { width: 640, height: 360 });
  assert.deepEqual(oembedSize('400', null), { width: 400, height: 225 });
  assert.deepEqual(oembedSize('1000', '180'), { width: 320, height: 180 });
  refused(() => oembedSize('-5', null), 400, /maxwidth must be a whole number/);
  refused(() => oembedSize(null, '1e3'), 400, /maxheight must be a whole number/);
  refused(() => oembedSize('100', null), 404, /less than 200 pixels/);
});

test('the answer is a video whose html frames the embed page, with the name escaped', () => {
  const params = new URLSearchParams({ url: `http://${HOST}/watch/${ID}`, format: 'json', maxwidth: '480' });
  const answer = answerOembed(params, HOST, (id) => (id === ID ? 'News "24" <b>&</b>' : undefined));
  assert.deepEqual(answer, {
    version: '1.0',
    type: 'video',
    title: 'News "24" <b>&</b>',
    provider_name: 'meshtv',
    provider_url: `http://${HOST}/`,
    html:
      `<iframe src="http://${HOST}/embed/${ID}" width="480" height="270" title="News &quot;24&quot; &lt;b&gt;&amp;&lt;/b&gt;" ` +
      'style="border:0" allow="autoplay; fullscreen" allowfullscreen></iframe>',
    width: 480,
    height: 270,
  });
  const noShare = answerOembed(new URLSearchParams({ url: `http://${HOST}/embed/${ID}?share=0` }), HOST, () => 'x');
  assert.match(String(noShare.html), new RegExp(`src="http://${HOST}/embed/${ID}\\?share=0"`));
  refused(() => answerOembed(new URLSearchParams({ url: `http://${HOST}/watch/${ID}` }), HOST, () => undefined), 404, /no such channel/);
  refused(() => answerOembed(new URLSearchParams({ url: `http://${HOST}/watch/${ID}`, format: 'xml' }), HOST, () => 'x'), 501, /only json/);
});

describe('GET /oembed on a tracker', () => {
  let tracker: TrackerServer;
  const { key } = loadOrCreateKey(`${tempDir('oembed')}/k.key`);
  before(async () => {
    tracker = await startTracker({ host: '127.0.0.1', port: 0 });
    const signed = signChannelRecord(
      { channelId: key.channelId, name: 'Test Pattern', issuedAtMs: Date.now(), bitrateBps: 500_000 },
      key.sign,
    );
    const res = await fetch(`${tracker.url}/api/channels`, { method: 'POST', body: JSON.stringify(signed) });
    assert.equal(res.status, 200, await res.text());
  });
  after(() => tracker.stop());

  const ask = (url: string, format = 'json') =>
    fetch(`${tracker.url}/oembed?url=${encodeURIComponent(url)}&format=${format}`, { headers: { accept: 'application/json' } });

  test('answers for a known channel, 404 for an unknown one, 501 for xml', async () => {
    const ok = await ask(`${tracker.url}/watch/${key.channelId}`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await ok.json()) as { type: string; title: string; html: string };
    assert.equal(body.type, 'video');
    assert.equal(body.title, 'Test Pattern');
    assert.match(body.html, new RegExp(`<iframe src="${tracker.url}/embed/${key.channelId}"`));
    assert.equal((await ask(`${tracker.url}/watch/${ID}`)).status, 404);
    assert.equal((await ask(`${tracker.url}/watch/${key.channelId}`, 'xml')).status, 501);
    assert.equal((await ask(`http://elsewhere.example/watch/${key.channelId}`)).status, 404);
  });
});
