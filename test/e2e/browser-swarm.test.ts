// Browsers and native nodes in one swarm, for real: a tracker serving the WebTV page, a
// broadcaster, one native viewer, and three Chromium pages that join over WebRTC, verify every
// chunk and play through Media Source Extensions. Each page must play 10 s of video within 12 s
// of wall time with no stall over 1 s, and at least two of them must get most of their bytes
// from peers rather than from the broadcaster. A screenshot of a playing page is kept.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { BroadcastStats } from '../../src/native/broadcaster.js';
import { browserSkipReason, collectPageErrors, launchBrowser, saveScreenshot } from '../helpers/browser.js';
import { getJson, meshtv, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

interface PageFigures {
  peers: number;
  shareFromPeers: number;
  mediaBytesIn: number;
  mediaBytesFromOrigin: number;
  lagMs: number | undefined;
  player: { currentTime: number; longestStallMs: number; stalls: number; lagMs: number | undefined; playing: boolean };
}

const figures = (page: Page) => page.evaluate(() => (window as unknown as { meshtv: { stats(): PageFigures } }).meshtv.stats());

test('three browser pages and a native viewer share one swarm', { timeout: 150_000, skip: browserSkipReason() }, async (t) => {
  const dir = tempDir('browsers');
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const source = meshtv([
    'broadcast',
    '--tracker',
    trackerUrl,
    '--name',
    'browser test',
    '--key',
    path.join(dir, 'k.key'),
    '--http-port',
    '0',
  ]);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const sourceStats = `${(await source.waitFor(/stats: (\S+)\/stats\.json/, 'stderr'))[1]}/stats.json`;
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
  const native = meshtv(['watch', uri, '--http-port', '0']);
  await native.waitFor(/^(http:\S+)\/stream\.ts$/m);

  const browser: Browser = await launchBrowser();
  t.after(() => browser.close());
  const pages: Page[] = [];
  const errors: string[][] = [];
  for (let i = 0; i < 3; i++) {
    const page = await browser.newPage();
    errors.push(collectPageErrors(page));
    await page.goto(`${trackerUrl}/watch/${channelId}`);
    pages.push(page);
  }
  await waitUntil(
    'every page plays',
    async () => (await Promise.all(pages.map(figures))).every((f) => f.player.playing && f.player.currentTime > 0.5),
    30_000,
  );

  const start = await Promise.all(pages.map(figures));
  await new Promise((r) => setTimeout(r, 12_000));
  const end = await Promise.all(pages.map(figures));
  const shot = await saveScreenshot(pages[0] as Page, 'browser-swarm');
  const s = await getJson<BroadcastStats>(sourceStats);

  end.forEach((f, i) => {
    const advanced = f.player.currentTime - (start[i] as PageFigures).player.currentTime;
    t.diagnostic(
      `page ${i + 1}: +${advanced.toFixed(1)} s played in 12 s, longest stall ${f.player.longestStallMs} ms, peers ${f.peers}, ` +
        `from peers ${(f.shareFromPeers * 100).toFixed(0)}%, lag ${f.player.lagMs} ms (capture -> screen)`,
    );
    assert.ok(advanced >= 10, `page ${i + 1} played only ${advanced.toFixed(2)} s in 12 s`);
    assert.ok(f.player.longestStallMs <= 1000, `page ${i + 1} stalled ${f.player.longestStallMs} ms`);
    assert.deepEqual(errors[i], [], `page ${i + 1} reported errors`);
  });
  const sharing = end.filter((f) => f.shareFromPeers >= 0.5).length;
  assert.ok(sharing >= 2, `only ${sharing} pages got at least half of their bytes from peers`);
  t.diagnostic(`broadcaster: S = ${s.sourceLoad.toFixed(3)} over the whole run; screenshot ${shot}`);
});
