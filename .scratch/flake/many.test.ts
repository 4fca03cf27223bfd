import path from 'node:path';
import { after, test } from 'node:test';
import { collectPageErrors, launchBrowser } from '../../test/helpers/browser.js';
import { meshtv, stopAll, tempDir } from '../../test/helpers/processes.js';

after(stopAll);
test('many pages', { timeout: 300_000 }, async (t) => {
  const dir = tempDir('many');
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const source = meshtv(['broadcast', '--tracker', trackerUrl, '--name', 'x', '--key', path.join(dir, 'k.key'), '--http-port', '0']);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
  const native = meshtv(['watch', uri, '--http-port', '0']);
  await native.waitFor(/^(http:\S+)\/stream\.ts$/m);
  const browser = await launchBrowser();
  const errors: string[][] = [];
  for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
    const pages = [];
    for (let i = 0; i < 6; i++) {
      const page = await browser.newPage();
      errors.push(collectPageErrors(page));
      await page.goto(`${trackerUrl}/watch/${channelId}`);
      pages.push(page);
    }
    await new Promise((r) => setTimeout(r, 15_000));
    for (const p of pages) await p.close();
  }
  await browser.close();
  const all = errors.flat();
  t.diagnostic(`errors: ${all.length}`);
  errors.forEach((es, i) => {
    for (const e of es) t.diagnostic(`page ${i} (round ${Math.floor(i / 6)}): ${e}`);
  });
});
