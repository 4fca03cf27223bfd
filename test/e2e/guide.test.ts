// A broadcaster describes its channel (category, language, description, logo, schedule): the
// tracker's /epg.xml carries it and validates with Debian's tv_validate_file, /api/channels
// shows now/next, an edit of the schedule file reaches the guide while live, and bad flags or
// files are refused at start with the file, line and reason.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ChannelSummary, parseChannelList } from '../../src/api/tracker-api.js';
import { failsWithOneError, startChannel, stopAll, tempDir, waitUntil } from '../helpers/processes.js';
import { tvValidate } from '../helpers/xmltv.js';

/** A 1x1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

after(stopAll);

describe('broadcast --category --language --description --logo --schedule', () => {
  const dir = tempDir('guide-e2e');
  const schedule = path.join(dir, 'schedule.json');
  const logo = path.join(dir, 'logo.png');
  const hour = 3600_000;
  // Whole seconds: schedules are read to the second.
  const now = Math.floor(Date.now() / 1000) * 1000;
  const programmes = (title: string) => [
    { start: new Date(now - hour).toISOString(), stop: new Date(now + hour).toISOString(), title, description: 'Headlines & weather' },
    { start: new Date(now + hour).toISOString(), stop: new Date(now + 2 * hour).toISOString(), title: 'Late film' },
  ];
  let trackerUrl = '';
  let channelId = '';

  const summary = async (): Promise<ChannelSummary | undefined> =>
    parseChannelList(await (await fetch(`${trackerUrl}/api/channels`)).json())?.find((c) => c.id === channelId);

  before(async () => {
    fs.writeFileSync(schedule, JSON.stringify(programmes('Evening news'), null, 2));
    fs.writeFileSync(logo, PNG);
    const channel = await startChannel('Guide news', [
      ...['--category', 'News', '--language', 'en', '--description', 'News all day'],
      ...['--logo', logo, '--schedule', schedule, '--resolution', '320x180', '--video-bitrate', '200k'],
    ]);
    ({ trackerUrl, channelId } = channel);
  });

  test('the tracker lists now/next and serves the guide as XMLTV', { timeout: 30_000 }, async () => {
    await waitUntil('the listing shows the guide', async () => (await summary())?.next !== undefined);
    const c = await summary();
    assert.deepEqual(
      { category: c?.category, language: c?.language, description: c?.description, now: c?.now, next: c?.next, hasLogo: c?.hasLogo },
      {
        category: 'News',
        language: 'en',
        description: 'News all day',
        now: { title: 'Evening news', start: now - hour, stop: now + hour },
        next: { title: 'Late film', start: now + hour, stop: now + 2 * hour },
        hasLogo: true,
      },
    );
    const xml = await (await fetch(`${trackerUrl}/epg.xml`)).text();
    assert.ok(xml.includes(`<channel id="${channelId}.meshtv">`), xml);
    assert.ok(xml.includes('<title lang="en">Evening news</title>'), xml);
    assert.ok(xml.includes('<desc lang="en">Headlines &amp; weather</desc>'), xml);
    assert.ok(xml.includes(`<icon src="${trackerUrl}/api/channels/${channelId}/logo"/>`), xml);
    const checked = tvValidate(xml);
    assert.ok(checked.ok, checked.output);
    assert.deepEqual(Buffer.from(await (await fetch(`${trackerUrl}/api/channels/${channelId}/logo`)).arrayBuffer()), PNG);
  });

  test('editing the schedule file changes the guide while live; a bad edit keeps the last good one', { timeout: 30_000 }, async () => {
    fs.writeFileSync(schedule, JSON.stringify(programmes('Breaking news'), null, 2));
    await waitUntil('the new title is listed', async () => (await summary())?.now?.title === 'Breaking news', 10_000);
    fs.writeFileSync(schedule, JSON.stringify(programmes('Bell\u0007'), null, 2));
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await summary())?.now?.title, 'Breaking news');
  });

  test('bad descriptions are refused at start with the file, line and reason', { timeout: 60_000 }, async () => {
    const key = path.join(dir, 'refused.key');
    const broadcast = (...flags: string[]) => ['broadcast', '--tracker', trackerUrl, '--key', key, '--no-dht', ...flags];
    const overlapping = path.join(dir, 'overlap.json');
    const list = programmes('First');
    fs.writeFileSync(overlapping, JSON.stringify([list[0], { ...list[1], start: list[0]?.start }], null, 2));
    const hostile = path.join(dir, 'hostile.xml');
    fs.writeFileSync(hostile, '<?xml version="1.0"?>\n<!DOCTYPE tv [<!ENTITY a "aaaa">]>\n<tv/>\n');
    const text = path.join(dir, 'logo.txt');
    fs.writeFileSync(text, 'not an image');
    await Promise.all([
      failsWithOneError(
        broadcast('--schedule', overlapping),
        /--schedule \S+overlap\.json, line 8: overlaps the programme before \("First"\)/,
      ),
      failsWithOneError(
        broadcast('--schedule', hostile),
        /--schedule \S+hostile\.xml, line 2: not well-formed XML: a DOCTYPE with an internal subset/,
      ),
      failsWithOneError(broadcast('--schedule', path.join(dir, 'missing.json')), /--schedule cannot read \S+missing\.json/),
      failsWithOneError(broadcast('--language', 'english!'), /--language: language must be a BCP 47 tag/),
      failsWithOneError(
        broadcast('--category', 'News\u001b[31m'),
        /--category: category must not hold control or invisible characters \(U\+001B/,
      ),
      failsWithOneError(broadcast('--logo', text), /--logo \S+logo\.txt: not a PNG or JPEG image/),
    ]);
    assert.ok(!fs.existsSync(key), 'a refused broadcast made a key');
  });
});
