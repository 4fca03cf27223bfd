// A browser without WebRTC plays from the broadcaster's HTTP origin, which every broadcast
// serves by default: Chromium with RTCPeerConnection removed must play >= 8 s of video in 10 s,
// every chunk checked as ever, the bytes counted in the broadcaster's S, and say where its
// stream comes from. A second tab, with WebRTC, then finds peers (here the broadcaster itself,
// the only peer that uploads) and takes its stream from them. The origin's budget is
// checked in test/native/origin.test.ts.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { PageStats } from '../../src/browser/ui/playback-notice.js';
import type { BroadcastStats } from '../../src/native/broadcaster.js';
import { browserSkipReason, collectPageErrors, launchBrowser, saveScreenshot } from '../helpers/browser.js';
import { getJson, startChannel, stopAll, waitUntil } from '../helpers/processes.js';

after(stopAll);

const figures = (page: Page) => page.evaluate(() => (window as unknown as { meshtv: { stats(): PageStats } }).meshtv.stats());
const notice = (page: Page) => page.evaluate(() => (document.getElementById('notice') as HTMLElement).textContent);

test('a browser without WebRTC plays from the HTTP origin; one with it then finds peers', {
  timeout: 90_000,
  skip: browserSkipReason(),
}, async (t) => {
  const { trackerUrl, channelId, source } = await startChannel('no webrtc');
  const statsUrl = (await source.waitFor(/stats: (\S+\/stats\.json)/, 'stderr'))[1] as string;
  const browser = await launchBrowser();
  t.after(() => browser.close());

  const peerless = await browser.newPage();
  // As in a browser built without WebRTC (Debian's WebKitGTK): the constructor is not there.
  await peerless.addInitScript(() => {
    delete (window as { RTCPeerConnection?: unknown }).RTCPeerConnection;
  });
  const errors = collectPageErrors(peerless);
  await peerless.goto(`${trackerUrl}/watch/${channelId}`);
  await waitUntil('the page without WebRTC plays', async () => (await figures(peerless)).player.currentTime > 0.5, 20_000);
  const start = await figures(peerless);
  await new Promise((r) => setTimeout(r, 10_000));
  const end = await figures(peerless);
  const played = end.player.currentTime - start.player.currentTime;
  const said = await notice(peerless);
  const shot = await saveScreenshot(peerless, 'http-fallback');
  t.diagnostic(
    `without WebRTC: +${played.toFixed(1)} s in 10 s, longest stall ${end.player.longestStallMs} ms, ` +
      `${end.mediaBytesFromOrigin} bytes from the origin, lag ${end.player.lagMs} ms, notice "${said}"; screenshot ${shot}`,
  );
  assert.ok(played >= 8, `played only ${played.toFixed(2)} s in 10 s`);
  assert.equal(end.webrtc, false);
  assert.equal(end.origin, 'streaming');
  assert.ok(end.mediaBytesFromOrigin > 0 && end.mediaBytesFromOrigin === end.mediaBytesIn, 'every byte came from the origin');
  assert.equal(said, 'Playing from the broadcaster: no peers reachable (this browser has no WebRTC)');
  assert.deepEqual(errors, []);
  const s = await getJson<BroadcastStats>(statsUrl);
  assert.ok(s.originBytesSent >= end.mediaBytesFromOrigin, `the broadcaster counted ${s.originBytesSent} origin bytes in S`);

  const withPeers = await browser.newPage();
  await withPeers.goto(`${trackerUrl}/watch/${channelId}`);
  await waitUntil(
    'the tab with WebRTC plays from peers',
    async () => {
      const f = await figures(withPeers);
      return f.peers > 0 && f.player.currentTime > 2 && f.mediaBytesFromOrigin < f.mediaBytesIn / 2;
    },
    30_000,
  );
  const f = await figures(withPeers);
  t.diagnostic(`with WebRTC: ${f.peers} peers, ${f.mediaBytesFromOrigin} of ${f.mediaBytesIn} bytes from the origin, origin ${f.origin}`);
});
