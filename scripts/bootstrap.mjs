// Runs before `npm start` and `npm test` on any machine, fresh or not: installs the npm
// packages when node_modules is missing or older than the lock file, builds dist/, and (as root)
// installs the Debian packages that are missing: ffmpeg always, the test tools with --test.
// Idempotent and quick when everything is already in place. Uses only node built-ins.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mtime = (p) => {
  try {
    return fs.statSync(path.join(root, p)).mtimeMs;
  } catch {
    return -1;
  }
};

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`bootstrap: ${cmd} ${args.join(' ')} failed\n`);
    process.exit(r.status ?? 1);
  }
}

const installed = mtime('node_modules/.package-lock.json');
if (installed < 0 || installed < mtime('package-lock.json')) {
  process.stderr.write('bootstrap: installing npm packages (npm ci)\n');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
run(process.execPath, [path.join(root, 'scripts/build.mjs')]);

// The test suite needs Debian packages: Chromium, Firefox ESR and WebKitGTK's WebDriver (with
// Xvfb for a display, as MiniBrowser cannot run headless) for the real-browser tests (no npm
// package may download a browser here), and for the NAT-traversal tests real NAT and a real TURN server:
// nftables (masquerade inside network namespaces), coturn, and iproute2 for `ip netns`.
// One apt-get install for whatever is missing; `apt-get update` only if that install fails.
const executable = (p) => {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const debianNeeds = [
  ['chromium', 'the browser tests', [process.env.MESHTV_CHROMIUM || '/usr/bin/chromium']],
  ['firefox-esr', 'the Firefox test', ['/usr/bin/firefox-esr']],
  ['webkit2gtk-driver', 'the WebKit test', ['/usr/bin/WebKitWebDriver']],
  ['xvfb', 'the WebKit test', ['/usr/bin/Xvfb']],
  ['nftables', 'the NAT tests', ['/usr/sbin/nft']],
  ['coturn', 'the TURN tests', ['/usr/bin/turnserver']],
  ['iproute2', 'the NAT tests', ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip']],
  ['tcpdump', 'the test that peer links are encrypted on the wire', ['/usr/bin/tcpdump', '/usr/sbin/tcpdump']],
  ['xmltv-util', 'the programme guide tests (tv_validate_file)', ['/usr/bin/tv_validate_file']],
  ['vlc-bin', 'the TV gateway test with VLC', ['/usr/bin/cvlc']],
  ['vlc-plugin-base', 'the TV gateway test with VLC', ['/usr/lib/x86_64-linux-gnu/vlc/plugins/demux/libts_plugin.so']],
];
// Broadcasting needs an ffmpeg that resolves host names (the bundled static build crashes on
// any --input URL with a host name), so `npm start` installs it too, not only the tests.
const onPath = (name) =>
  (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((d) => d !== '')
    .map((d) => path.join(d, name));
const ffmpegNeed = [
  'ffmpeg',
  'host-name inputs such as http://localhost/...',
  [process.env.MESHTV_FFMPEG || '/usr/bin/ffmpeg', ...onPath('ffmpeg')],
];
const needs = process.argv.includes('--test') ? [ffmpegNeed, ...debianNeeds] : [ffmpegNeed];
const missing = needs.filter(([, , paths]) => !paths.some(executable));
if (missing.length > 0) {
  const names = missing.map(([name]) => name);
  if (process.getuid?.() !== 0) {
    const why = missing.map(([name, what]) => `${name} (${what})`).join(', ');
    process.stderr.write(
      `bootstrap: missing ${why} and this is not root: run apt-get install ${names.join(' ')}; until then, what each is for will not work\n`,
    );
  } else {
    process.stderr.write(`bootstrap: installing Debian packages (apt-get install ${names.join(' ')})\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const apt = (args) => spawnSync('apt-get', args, { cwd: root, stdio: 'inherit', env }).status === 0;
    const install = ['install', '-y', '-qq', ...names];
    if (!apt(install) && !(apt(['update', '-qq']) && apt(install))) {
      process.stderr.write(`bootstrap: could not install ${names.join(' ')}\n`);
      process.exit(1);
    }
    // The tests start their own turnserver inside a namespace. Under systemd the coturn package
    // enables and starts a system-wide one (elsewhere /etc/default/coturn keeps it off): stop it.
    if (names.includes('coturn') && fs.existsSync('/run/systemd/system')) {
      spawnSync('systemctl', ['disable', '--now', 'coturn.service'], { stdio: 'inherit' });
    }
  }
}
