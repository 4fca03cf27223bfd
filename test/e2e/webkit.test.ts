// The watch page in real WebKit (Debian's WebKitGTK MiniBrowser through WebKitWebDriver, on its
// own Xvfb display). Debian builds WebKitGTK without WebRTC, so the page can reach no peer: it
// must play from the broadcaster's HTTP origin (at least 8 s of video in 10 s), say so, and
// throw nothing. The harness itself (the page loads, its figures and errors are read, the
// version is recorded) must work whatever the page does.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { PageStats } from '../../src/browser/ui/playback-notice.js';
import { startChannel, stopAll, waitUntil } from '../helpers/processes.js';
import { launchWebKit, noticeText, openRecordingErrors, pageErrors, webkitPageStats, webkitSkipReason } from '../helpers/webkit.js';

after(stopAll);

const WINDOW_MS = 10_000;

test('WebKitGTK plays the watch page from the broadcaster', { timeout: 60_000, skip: webkitSkipReason() }, async (t) => {
  const { trackerUrl, channelId } = await startChannel('webkit test');
  const webkit = await launchWebKit();
  t.after(() => webkit.close());
  const { driver } = webkit;
  t.diagnostic(`browser: WebKitGTK ${webkit.version}`);
  await openRecordingErrors(driver, `${trackerUrl}/watch/${channelId}`);

  await t.test('the page runs and its figures can be read', async () => {
    const has = await driver.executeScript<Record<string, boolean>>(`return {
      mediaSource: 'MediaSource' in window,
      managedMediaSource: 'ManagedMediaSource' in window,
      webrtc: 'RTCPeerConnection' in window,
    };`);
    t.diagnostic(`MediaSource ${has.mediaSource}, ManagedMediaSource ${has.managedMediaSource}, RTCPeerConnection ${has.webrtc}`);
    const s = await webkitPageStats(driver);
    assert.equal(typeof s.player.currentTime, 'number');
    assert.equal(typeof s.peers, 'number');
    assert.ok(Array.isArray(await pageErrors(driver)), 'the error recorder is not in the page');
  });

  await t.test('it plays >= 8 s in 10 s from HTTP and says why', async () => {
    // The fallback starts "within a few seconds" of finding no peer; then the window is measured.
    // (The player seeks to the live edge before its first frame, so currentTime alone says nothing.)
    await waitUntil('the first frame', async () => (await webkitPageStats(driver)).player.startupMs != null, 20_000);
    const start: PageStats = await webkitPageStats(driver);
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const end: PageStats = await webkitPageStats(driver);
    const played = end.player.currentTime - start.player.currentTime;
    const notice = await noticeText(driver);
    t.diagnostic(
      `played ${played.toFixed(1)} s in ${WINDOW_MS / 1000} s, peers ${end.peers}, ` +
        `from the origin ${end.mediaBytesFromOrigin} bytes, notice ${JSON.stringify(notice)}`,
    );
    assert.ok(played >= 8, `WebKit played only ${played.toFixed(2)} s in ${WINDOW_MS / 1000} s`);
    assert.equal(notice, 'Playing from the broadcaster: no peers reachable (this browser has no WebRTC)');
    assert.equal(end.origin, 'streaming');
    assert.deepEqual(await pageErrors(driver), [], 'the page threw');
  });
});
