// Bad input at the command line: one clear error line naming the problem, a non-zero exit,
// and no stack trace. Real processes, real ports.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { failsWithOneError as fails, meshtv, stopAll, tempDir } from '../helpers/processes.js';

after(stopAll);

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('meshtv command line', () => {
  let busy: net.Server;
  let busyPort: number;
  let trackerUrl: string;
  const dir = tempDir('cli');

  before(async () => {
    busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    busyPort = (busy.address() as net.AddressInfo).port;
    const tracker = meshtv(['tracker', '--port', '0']);
    trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  });
  after(() => busy.close());

  test('unknown command', () => fails(['frobnicate'], /unknown command "frobnicate"/));
  test('--help prints usage and starts nothing, for the tools too', async () => {
    for (const command of ['watch', 'bench', 'sim']) {
      const p = meshtv([command, '--help']);
      assert.equal(await p.exited, 0, p.stderr);
      assert.match(p.stdout, new RegExp(`meshtv ${command === 'watch' ? '' : command}`));
      assert.doesNotMatch(p.stdout + p.stderr, /running|S \d/);
    }
  });
  test('unknown flag', () => fails(['channels', '--colour'], /--colour/));
  test('bad bench rates are refused before anything starts, as the broadcaster would refuse them', async () => {
    await fails(['bench', '--video-bitrate', 'fast'], /--video-bitrate must be a bitrate from 16k to 100M/);
    // "2mbit" is an upload cap's spelling, not a video bitrate's.
    await fails(['bench', '--video-bitrate', '1500kbit'], /--video-bitrate must be a bitrate/);
    // Upload caps: every accepted spelling is named, "unlimited" included, for both commands.
    const forms = /must be a rate from 16k to 100M \(800k, 2\.5M, 2mbit, 1500kbit\) or unlimited, got "lots"/;
    await fails(['bench', '--source-upload-limit', 'lots'], forms);
    await fails(['broadcast', '--upload-limit', 'lots', '--no-dht'], forms);
    await fails(['watch', 'x', '--upload-limit', 'lots', '--tracker', 'http://127.0.0.1:9'], forms);
  });
  test('bad port number', () => fails(['tracker', '--port', 'eighty'], /--port must be a port number/));
  test('bad tracker rate limit', () =>
    fails(['tracker', '--port', '0', '--rate-limit', 'fast'], /--rate-limit must be requests per second/));
  test('--rate-limit sets what one address may ask of the tracker; 0 lifts it', async () => {
    const statuses = async (rate: string) => {
      const t = meshtv(['tracker', '--port', '0', '--rate-limit', rate]);
      const url = (await t.waitFor(/tracker listening on (\S+)/))[1] as string;
      const got: number[] = [];
      for (let i = 0; i < 8; i++) got.push((await fetch(`${url}/api/announce`, { method: 'POST', body: '{}' })).status);
      await t.stop();
      return got;
    };
    // A burst of three at one request a second, then refused.
    assert.deepEqual((await statuses('1')).slice(2, 5), [400, 429, 429]);
    assert.ok(!(await statuses('0')).includes(429));
  });
  test('tracker port in use', () => fails(['tracker', '--port', String(busyPort)], new RegExp(`port ${busyPort} .*in use`)));
  test('bad tracker URL', () => fails(['channels', '--tracker', 'not a url'], /not a valid URL/));
  test('unreachable tracker', async () => {
    const port = await closedPort();
    await fails(['channels', '--tracker', `http://127.0.0.1:${port}`], /unreachable/);
    await fails(['watch', 'some channel', '--tracker', `http://127.0.0.1:${port}`], /unreachable/);
  });
  test('bad STUN/TURN servers', async () => {
    await fails(['tracker', '--port', '0', '--turn', 'turn:alice@host:3478'], /--turn: .*user:password@/);
    await fails(['watch', 'ab'.repeat(32), '--tracker', trackerUrl, '--stun', 'stun:host:0'], /--stun: .*stun:host:port/);
    await fails(['tracker', '--port', '0', '--turn-secret', 's'], /--turn-secret needs a --turn server/);
  });
  test('unknown channel name', () =>
    fails(['watch', 'no such channel', '--tracker', trackerUrl], /no live channel named "no such channel"/));
  test('unknown channel id', () => fails(['watch', 'ab'.repeat(32), '--tracker', trackerUrl], /is not live/));
  test('malformed channel URI', () => fails(['watch', 'meshtv://xyz'], /64 hex digits/));
  test('viewer HTTP port in use', async () => {
    // Needs a live channel so the viewer gets as far as opening its player port.
    const source = meshtv(['broadcast', '--tracker', trackerUrl, '--name', 'cli port test', '--key', path.join(dir, 'port.key')]);
    const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
    await fails(['watch', uri, '--http-port', String(busyPort)], new RegExp(`port ${busyPort} .*in use.*--http-port`));
    await source.stop();
  });
  test('corrupt key file', async () => {
    const key = path.join(dir, 'corrupt.key');
    fs.writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nnot really a key\n-----END PRIVATE KEY-----\n');
    await fails(['broadcast', '--tracker', trackerUrl, '--key', key], /not a valid private key/);
  });
  test('key file path through a plain file', async () => {
    const blocker = path.join(dir, 'file-not-dir');
    fs.writeFileSync(blocker, 'x');
    await fails(['broadcast', '--tracker', trackerUrl, '--key', path.join(blocker, 'k.key')], /key file .*not a directory/);
  });
  test('ffmpeg that fails', async () => {
    await fails(['broadcast', '--tracker', trackerUrl, '--key', path.join(dir, 'ff.key')], /ffmpeg/, { MESHTV_FFMPEG: '/bin/false' });
  });
  test('key is created with mode 0600 and reused: the channel keeps its id', async () => {
    const key = path.join(dir, 'reuse.key');
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const source = meshtv(['broadcast', '--tracker', trackerUrl, '--name', 'reuse', '--key', key]);
      ids.push((await source.waitFor(/^meshtv:\/\/([0-9a-f]{64})/m))[1] as string);
      await source.stop();
    }
    assert.equal(ids[0], ids[1]);
    assert.equal(fs.statSync(key).mode & 0o777, 0o600);
  });
  test('settings: flag over environment over config file', async () => {
    const config = path.join(dir, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ port: 1, tracker: { port: busyPort } }));
    // The command's own section wins over the top level of the file.
    await fails(['tracker'], new RegExp(`port ${busyPort} .*in use`), { MESHTV_CONFIG: config });
    // The environment wins over the file.
    await fails(['tracker'], /--port must be a port number 0-65535, got "eighty"/, { MESHTV_CONFIG: config, MESHTV_PORT: 'eighty' });
    // The flag wins over both.
    await fails(['tracker', '--port', 'ninety'], /got "ninety"/, { MESHTV_CONFIG: config, MESHTV_PORT: 'eighty' });
    fs.writeFileSync(config, '{"tracker": ');
    await fails(['tracker'], /config file .* is not a JSON object/, { MESHTV_CONFIG: config });
    await fails(['tracker'], /does not exist/, { MESHTV_CONFIG: path.join(dir, 'missing.json') });
  });

  test('channels lists a live channel', async () => {
    const source = meshtv(['broadcast', '--tracker', trackerUrl, '--name', 'listed channel', '--key', path.join(dir, 'listed.key')]);
    const id = (await source.waitFor(/^meshtv:\/\/([0-9a-f]{64})/m))[1] as string;
    const list = meshtv(['channels', '--tracker', trackerUrl, '--json']);
    assert.equal(await list.exited, 0);
    const channels = JSON.parse(list.stdout) as { id: string; name: string; viewers: number; bitrateBps: number }[];
    const mine = channels.find((c) => c.id === id);
    assert.ok(mine, `channel ${id} not listed: ${list.stdout}`);
    assert.equal(mine.name, 'listed channel');
    assert.ok(mine.bitrateBps > 0);
    await source.stop();
  });
});
