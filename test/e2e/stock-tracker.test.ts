// An operator puts a stock WebTorrent tracker (the bittorrent-tracker server, which scales out
// behind a load balancer) in front of the audience: our tracker, started with --signaling, keeps
// the directory and the pages and sends every peer's WebRTC signalling there. A browser page
// and the broadcaster meet through the stock tracker only, and the page plays.

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { Server } from 'bittorrent-tracker';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, collectPageErrors, launchBrowser } from '../helpers/browser.js';
import { meshtv, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

interface PageFigures {
  peers: number;
  mediaBytesIn: number;
  player: { currentTime: number; playing: boolean };
}

test('signalling through a stock bittorrent-tracker: a page and the broadcaster meet there', {
  timeout: 120_000,
  skip: browserSkipReason(),
}, async (t) => {
  const stock = new Server({ udp: false, http: false, ws: true, stats: false });
  await new Promise<void>((resolve) => stock.listen(0, '127.0.0.1', () => resolve()));
  // The stock server closes once its sockets have: stop our processes and the browser first.
  t.after(async () => {
    await browser?.close();
    await stopAll();
    await new Promise<void>((resolve) => stock.close(() => resolve()));
  });
  let browser: Browser | undefined;
  const stockUrl = `ws://127.0.0.1:${((stock.http as { address(): AddressInfo }).address() as AddressInfo).port}`;

  const tracker = meshtv(['tracker', '--port', '0', '--signaling', stockUrl]);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  // No HTTP origin: the page can get chunks only over WebRTC.
  const source = meshtv(['broadcast', '--tracker', trackerUrl, '--name', 'stock', '--key', path.join(tempDir('stock'), 'k.key')]);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];

  browser = await launchBrowser();
  const page: Page = await browser.newPage();
  const errors = collectPageErrors(page);
  const startedAt = Date.now();
  await page.goto(`${trackerUrl}/watch/${channelId}`);
  const figures = () => page.evaluate(() => (window as unknown as { meshtv: { stats(): PageFigures } }).meshtv.stats());
  await waitUntil('the page plays', async () => (await figures()).player.currentTime > 2, 30_000);
  const f = await figures();
  const swarm = stock.torrents[channelId.slice(0, 40)];
  t.diagnostic(`page playing ${Date.now() - startedAt} ms after opening; stock tracker swarm: ${swarm?.peers.length} peers`);
  assert.ok(f.peers >= 1 && f.mediaBytesIn > 0);
  assert.ok((swarm?.peers.length ?? 0) >= 2, 'the page and the broadcaster should both be in the stock tracker’s swarm');
  const metrics = await (await fetch(`${trackerUrl}/metrics`)).text();
  assert.match(metrics, /^meshtv_tracker_signaling_sockets 0$/m, 'nobody should have used our own signalling');
  assert.deepEqual(errors, []);
});
