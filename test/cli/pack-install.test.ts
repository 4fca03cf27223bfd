// The package as users get it: `npm pack` (its prepack builds dist/), then `npm install -g` of
// the tarball into a temporary prefix from npm's cache, then the installed `meshtv` run from a
// directory outside the checkout: `--help`, and `meshtv demo`, whose tracker serves the pages
// from web/ and the page script from dist/web/ and whose viewers play the channel.

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, tempDir, waitUntil } from '../helpers/processes.js';

const run = promisify(execFile);

describe('npm pack, then npm install -g of the tarball', { timeout: 90_000 }, () => {
  const dir = tempDir('pack-install');
  const prefix = path.join(dir, 'prefix');
  const elsewhere = fs.mkdtempSync(path.join(dir, 'cwd-'));
  const installed = path.join(prefix, 'bin', 'meshtv');
  let demo: ChildProcess | undefined;

  after(() => {
    if (demo !== undefined && demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the tarball holds what runs, and nothing of the source tree', async () => {
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 16 << 20 });
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    assert.ok(info !== undefined);
    const files = info.files.map((f) => f.path).sort();
    for (const needed of ['bin/meshtv.js', 'dist/meshtv.js', 'dist/web/app.js', 'web/index.html', 'web/watch.html', 'package.json']) {
      assert.ok(files.includes(needed), `${needed} missing from the tarball (${files.length} files)`);
    }
    const extra = files.filter((f) => !/^(bin|dist|web)\/|^(package\.json|README\.md|LICENSE)$/.test(f));
    assert.deepEqual(extra, [], 'files beyond bin/, dist/, web/, README and package.json');
    // The install comes from the cache `npm ci` filled; npm asks the registry only for what is missing.
    await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, info.filename)], {
      cwd: elsewhere,
      maxBuffer: 16 << 20,
    });
    assert.ok(!fs.existsSync(path.join(prefix, 'lib/node_modules/meshtv/src')), 'src/ was installed');
  });

  test('the installed meshtv --help lists the commands', async () => {
    const help = await run(installed, ['--help'], { cwd: elsewhere });
    assert.match(help.stdout, /^meshtv — peer-to-peer live TV/);
    for (const command of ['tracker', 'broadcast', 'watch', 'channels', 'demo'])
      assert.match(help.stdout, new RegExp(`meshtv ${command}\\b`));
    // dist/ shipped: no first-run build, nothing on stderr.
    assert.equal(help.stderr, '');
  });

  test('the installed meshtv demo serves the web page and plays the channel', async () => {
    const child = spawn(installed, ['demo', '--port', '0', '--http-port', '0'], {
      cwd: elsewhere,
      env: { ...process.env, MESHTV_HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitUntil('the demo prints its links', () => /stats: +\S+/.test(stdout), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`);
    });
    const page = (stdout.match(/web page: +(\S+)/) as RegExpMatchArray)[1] as string;
    const stats = (stdout.match(/stats: +(\S+)/) as RegExpMatchArray)[1] as string;
    const watch = await fetch(page);
    assert.equal(watch.status, 200);
    assert.match(await watch.text(), /<html/i);
    const script = await fetch(new URL('/assets/app.js', page));
    assert.equal(script.status, 200);
    assert.ok((await script.arrayBuffer()).byteLength > 10_000, 'the page script is empty');
    await waitUntil('viewer 1 plays', async () => ((await (await fetch(stats)).json()) as { started: boolean }).started, 20_000);
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
  });
});
