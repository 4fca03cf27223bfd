// A NAT lab for end-to-end tests: two home networks, each behind its own NAT router, joined by a
// simulated internet, all made of real network namespaces, and optionally a real TURN server
// (coturn) out on that internet. Needs root, iproute2, nftables and coturn. It creates and deletes
// only namespaces named with its own prefix and kills only processes inside them.
//
//   home1 192.168.1.2 ── 192.168.1.1 router1 10.77.1.2 ──┐
//                                                        10.77.1.1 inet 10.77.2.1 (+ 10.77.0.1, the server)
//   home2 192.168.2.2 ── 192.168.2.1 router2 10.77.2.2 ──┘
//
// The internet does not route 192.168.0.0/16 (such packets vanish), so a home is reachable only through its router's NAT
// mappings, as on the real internet. Each router masquerades its LAN and forwards inbound traffic only
// for connections its NAT already tracks (a port-restricted cone NAT, the common home router).
// 'symmetric' adds fully-random port allocation: every new destination gets its own external port
// (RFC 4787 address-and-port-dependent mapping), so STUN-based hole punching fails and only TURN works.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kill, running } from '../../src/bench/netns.js';
import type { ViewerStats } from '../../src/native/viewer.js';

export type NatKind = 'cone' | 'symmetric';

export interface Home {
  /** Namespace of the home's one host. */
  ns: string;
  /** The host's private address, e.g. 192.168.1.2. */
  address: string;
  /** Namespace of the home's NAT router. */
  router: string;
  /** The router's LAN address, the host's default gateway, e.g. 192.168.1.1. */
  gateway: string;
  /** The router's address on the internet: the source address the world sees for this home. */
  publicAddress: string;
}

export interface TurnServer {
  /** The address coturn listens and relays on: `NatLab.serverAddress`. */
  address: string;
  port: number;
  /** `stun:10.77.0.1:3478` */
  stunUrl: string;
  /** `turn:10.77.0.1:3478` (UDP to the server) */
  url: string;
  /** `turn:10.77.0.1:3478?transport=tcp` */
  tcpUrl: string;
  username: string;
  credential: string;
  realm: string;
  pid: number;
  /** Everything coturn has printed so far, for failure messages. */
  log(): string;
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  env?: Record<string, string>;
  input?: string;
  /** Killed with SIGKILL after this long. @default 10_000 */
  timeoutMs?: number;
}

export interface NatLab {
  /** Prefix of every namespace name of this lab, e.g. `mtv1234-0`. */
  prefix: string;
  nat: NatKind;
  /** Namespace of the internet. */
  internet: string;
  /** The internet's addresses on its links to router1 and router2. */
  internetAddresses: [string, string];
  /** An address of the internet on no link (on its loopback), like a server far away; coturn listens here. */
  serverAddress: string;
  homes: [Home, Home];
  turn?: TurnServer;
  /** Every namespace of this lab. */
  namespaces: readonly string[];
  /** Runs a command in a namespace to its end; never rejects for a non-zero exit, the caller judges. */
  exec(ns: string, command: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Starts a long-running process in a namespace; destroy() kills it if it is still running. */
  spawn(ns: string, command: string, args: string[], env?: Record<string, string>): ChildProcess;
  /** Kills the lab's processes (and any other process left in its namespaces) and deletes the namespaces. */
  destroy(): Promise<void>;
}

export const TURN_USERNAME = 'meshtv';
export const TURN_CREDENTIAL = 'meshtv-test';
export const TURN_REALM = 'meshtv.test';
export const TURN_SECRET = 'meshtv-lab-secret';

/**
 * 'static': one fixed user (TURN_USERNAME / TURN_CREDENTIAL). 'secret': coturn's "TURN REST API"
 * (use-auth-secret): only credentials minted from TURN_SECRET work, as a tracker started with
 * --turn-secret hands out; TurnServer.username/credential are then such a pair, valid a day.
 */
export type TurnAuth = 'static' | 'secret';
const TURN_PORT = 3478;
const SERVER_ADDRESS = '10.77.0.1';

/**
 * Starts `command args` inside namespace `ns` (`ip netns exec` execs, so the child's pid is the command's
 * own and kill() reaches it). Output is piped.
 */
export function spawnIn(ns: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, command, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function execIn(ns: string | undefined, command: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = ns === undefined ? command : ['ip', 'netns', 'exec', ns, ...command];
  return new Promise((resolve) => {
    const stdin = opts.input === undefined ? 'ignore' : 'pipe';
    const child = spawn(cmd as string, args, { env: { ...process.env, ...opts.env }, stdio: [stdin, 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    // A command that exits without reading its input must not crash the test with EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.input);
  });
}

/** Runs a setup command and throws with its output when it fails. */
async function must(ns: string | undefined, command: string[], input?: string): Promise<string> {
  const r = await execIn(ns, command, input === undefined ? {} : { input });
  if (r.code !== 0)
    throw new Error(`nat-lab: ${ns ? `[${ns}] ` : ''}${command.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
  return r.stdout;
}

let reason: string | undefined | null = null;

/** Why a NAT lab cannot be made here, or undefined when it can. Pass as `{ skip: natLabAvailable() }`. */
export function natLabAvailable(): string | undefined {
  if (reason !== null) return reason;
  const works = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  const probe = `mtv${process.pid}-probe`;
  if (process.getuid?.() !== 0) reason = 'not root: network namespaces and nftables need root';
  else if (!works('ip', ['-V'])) reason = 'no ip (apt-get install iproute2)';
  else if (!works('nft', ['--version'])) reason = 'no nft (apt-get install nftables)';
  else if (!works('turnserver', ['--version'])) reason = 'no turnserver (apt-get install coturn)';
  else if (!works('ip', ['netns', 'add', probe])) reason = '`ip netns add` fails here';
  else {
    if (!works('ip', ['-n', probe, 'link', 'set', 'lo', 'up'])) reason = '`ip -n NS link set lo up` fails here';
    else reason = undefined;
    works('ip', ['netns', 'del', probe]);
  }
  return reason;
}

interface LabState {
  namespaces: string[];
  children: Set<ChildProcess>;
  tmpDir: string;
}

const live = new Set<LabState>();
let nextLab = 0;

function netnsExists(name: string): boolean {
  return fs.existsSync(path.join('/run/netns', name));
}

/** Pids of every process inside a namespace. */
function pidsIn(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

/** SIGKILLs the pids and waits (synchronously, at most 2 s) until they are gone: a multi-threaded turnserver takes a moment. */
function killSync(pids: number[]): void {
  for (const pid of pids) kill(pid, 'SIGKILL');
  const deadline = Date.now() + 2000;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (pids.some(running) && Date.now() < deadline) Atomics.wait(nap, 0, 0, 10);
}

/** Synchronous teardown: the only kind an 'exit' handler can do. */
function destroySync(lab: LabState): void {
  live.delete(lab);
  const pids = [...lab.children].filter((c) => c.exitCode === null && c.signalCode === null).map((c) => c.pid as number);
  for (const ns of lab.namespaces) pids.push(...pidsIn(ns));
  killSync(pids);
  for (const ns of lab.namespaces) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  fs.rmSync(lab.tmpDir, { recursive: true, force: true });
}

process.on('exit', () => {
  for (const lab of [...live]) destroySync(lab);
});

const readdir = (dir: string) => {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
};

/**
 * Namespaces (and temporary folders) of labs whose process died without cleaning up (SIGKILL, a
 * crash): named `mtv<pid>-...` with no live process of that pid. Deleted so that leftovers do not pile up.
 */
function reapLeftovers(): void {
  const dead = (pid: number) => !running(pid);
  for (const name of readdir('/run/netns')) {
    const m = /^mtv(\d+)-(?:\d+-(?:inet|r1|r2|h1|h2)|probe)$/.exec(name);
    if (!m || !dead(Number(m[1]))) continue;
    process.stderr.write(`nat-lab: deleting namespace ${name} left by dead process ${m[1]}\n`);
    killSync(pidsIn(name));
    spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
  for (const name of readdir(os.tmpdir())) {
    const m = /^meshtv-natlab-mtv(\d+)-\d+$/.exec(name);
    if (m && dead(Number(m[1]))) fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** nftables ruleset of a home router: masquerade the LAN, let in only what the NAT already tracks. */
function routerRules(lan: string, nat: NatKind): string {
  const flags = nat === 'symmetric' ? ' fully-random' : '';
  // Unsolicited packets from the internet are dropped before conntrack confirms an entry for
  // them (the confirm step runs last), as home routers do. Otherwise a peer's first hole-punching
  // packet, arriving before our host has sent anything, leaves an entry for its 4-tuple, and our
  // host's own packet to that peer then clashes with it and gets a new external port: Linux would
  // turn every cone NAT symmetric whenever both sides punch at once.
  return `table ip meshtv_lab {
  chain unsolicited {
    type filter hook prerouting priority -150; policy accept;
    iifname "wan" ct state new drop
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" ip saddr ${lan} masquerade${flags}
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "lan" oifname "wan" accept
  }
}
`;
}

async function startTurn(lab: LabState, ns: string, address: string, auth: TurnAuth): Promise<TurnServer> {
  const args = [
    '-n', // no config file: everything is on this command line
    '--listening-ip',
    address,
    '--listening-port',
    String(TURN_PORT),
    '--relay-ip',
    address,
    '--lt-cred-mech',
    // One or the other: with a shared secret coturn accepts only credentials minted from it.
    ...(auth === 'secret'
      ? ['--use-auth-secret', `--static-auth-secret=${TURN_SECRET}`]
      : ['--user', `${TURN_USERNAME}:${TURN_CREDENTIAL}`]),
    '--realm',
    TURN_REALM,
    '--fingerprint',
    '--no-tls',
    '--no-dtls',
    '--no-cli',
    '--no-auth-pings',
    '--no-dynamic-ip-list',
    '--no-dynamic-realms',
    // Peers are the routers' "public" addresses, in 10.0.0.0/8. coturn 4.6.1 relays to them anyway
    // (checked), but private ranges are a common deny-list entry: allow the lab's range explicitly.
    '--allowed-peer-ip',
    '10.77.0.0-10.77.255.255',
    '--no-multicast-peers',
    '--log-file',
    'stdout',
    // Its own files, not /var/run/turnserver.pid and /var/lib/turn/turndb shared with other runs.
    '--pidfile',
    path.join(lab.tmpDir, 'turnserver.pid'),
    '--userdb',
    path.join(lab.tmpDir, 'turndb'),
  ];
  const child = spawnIn(ns, 'turnserver', args);
  lab.children.add(child);
  let log = '';
  child.stdout?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  // coturn says nothing when its listeners open (only with --verbose); ask the kernel instead.
  const deadline = Date.now() + 10_000;
  const endpoint = `${address}:${TURN_PORT}`;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nat-lab: turnserver exited at start:\n${log}`);
    const udp = await execIn(ns, ['ss', '-Hlnu']);
    const tcp = await execIn(ns, ['ss', '-Hlnt']);
    if (udp.stdout.includes(endpoint) && tcp.stdout.includes(endpoint)) break;
    if (Date.now() > deadline) throw new Error(`nat-lab: turnserver not listening on ${endpoint} after 10 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    address,
    port: TURN_PORT,
    stunUrl: `stun:${endpoint}`,
    url: `turn:${endpoint}`,
    tcpUrl: `turn:${endpoint}?transport=tcp`,
    ...(auth === 'secret' ? mintedCredentials() : { username: TURN_USERNAME, credential: TURN_CREDENTIAL }),
    realm: TURN_REALM,
    pid: child.pid as number,
    log: () => log,
  };
}

/** A TURN REST API pair from TURN_SECRET, valid for a day (what a tracker would hand out). */
function mintedCredentials(): { username: string; credential: string } {
  const username = String(Math.floor(Date.now() / 1000) + 86_400);
  return { username, credential: createHmac('sha1', TURN_SECRET).update(username).digest('base64') };
}

/** Builds a lab. Call destroy() when done (an 'exit' handler also deletes it if the process ends first). */
export async function createNatLab(opts: { nat: NatKind; turn: boolean; turnAuth?: TurnAuth }): Promise<NatLab> {
  const why = natLabAvailable();
  if (why) throw new Error(`nat-lab: cannot build a NAT lab here: ${why}`);
  reapLeftovers();
  let prefix: string;
  do prefix = `mtv${process.pid}-${nextLab++}`;
  while (['inet', 'r1', 'r2', 'h1', 'h2'].some((s) => netnsExists(`${prefix}-${s}`)));
  const inet = `${prefix}-inet`;
  const routers = [`${prefix}-r1`, `${prefix}-r2`] as const;
  const hosts = [`${prefix}-h1`, `${prefix}-h2`] as const;
  const sink = `${prefix}-void`;
  const tmpDir = path.join(os.tmpdir(), `meshtv-natlab-${prefix}`);
  fs.rmSync(tmpDir, { recursive: true, force: true });
  fs.mkdirSync(tmpDir, { mode: 0o700 });
  const state: LabState = { namespaces: [], children: new Set(), tmpDir };
  live.add(state);

  const homes: [Home, Home] = [1, 2].map((i) => ({
    ns: hosts[i - 1] as string,
    address: `192.168.${i}.2`,
    router: routers[i - 1] as string,
    gateway: `192.168.${i}.1`,
    publicAddress: `10.77.${i}.2`,
  })) as [Home, Home];
  const internetAddresses: [string, string] = ['10.77.1.1', '10.77.2.1'];
  // Through /proc/sys rather than sysctl(8): inside the namespace it shows that namespace's settings.
  const forward = (ns: string) => must(ns, ['sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);

  try {
    for (const ns of [inet, ...routers, ...hosts, sink]) {
      await must(undefined, ['ip', 'netns', 'add', ns]);
      state.namespaces.push(ns);
      await must(undefined, ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      // IPv4 only: the lab models IPv4 NAT; IPv6 link-local addresses would only add ICE candidates
      // that can never connect across a router. Best effort: a kernel without IPv6 has no such files.
      await execIn(ns, [
        'sh',
        '-c',
        'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6',
      ]);
    }
    await forward(inet);
    await must(undefined, ['ip', '-n', inet, 'addr', 'add', `${SERVER_ADDRESS}/32`, 'dev', 'lo']);
    // What the internet cannot route (private addresses) goes to a namespace that forwards
    // nothing and drops it silently, as on the real internet, instead of failing the send:
    // coturn drops a whole allocation when relaying to a peer's private host candidate fails
    // with "network unreachable". (No dummy links here: this kernel has no module for them.)
    await must(undefined, ['ip', '-n', inet, 'link', 'add', 'void', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', sink]);
    await must(undefined, ['ip', '-n', inet, 'addr', 'add', '10.77.254.1/30', 'dev', 'void']);
    await must(undefined, ['ip', '-n', sink, 'addr', 'add', '10.77.254.2/30', 'dev', 'eth0']);
    await must(undefined, ['ip', '-n', inet, 'link', 'set', 'void', 'up']);
    await must(undefined, ['ip', '-n', sink, 'link', 'set', 'eth0', 'up']);
    await must(undefined, ['ip', '-n', inet, 'route', 'add', 'default', 'via', '10.77.254.2']);
    // Each veth pair is created with its ends already in their namespaces, so its short names
    // (r1, wan, lan, eth0) never exist in the host's namespace and cannot collide with other labs.
    for (const [i, home] of homes.entries()) {
      const link = `r${i + 1}`;
      const lan = `192.168.${i + 1}`;
      await must(undefined, ['ip', '-n', inet, 'link', 'add', link, 'type', 'veth', 'peer', 'name', 'wan', 'netns', home.router]);
      await must(undefined, ['ip', '-n', home.router, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', home.ns]);
      await must(undefined, ['ip', '-n', inet, 'addr', 'add', `${internetAddresses[i]}/24`, 'dev', link]);
      await must(undefined, ['ip', '-n', inet, 'link', 'set', link, 'up']);
      await must(undefined, ['ip', '-n', home.router, 'addr', 'add', `${home.publicAddress}/24`, 'dev', 'wan']);
      await must(undefined, ['ip', '-n', home.router, 'addr', 'add', `${home.gateway}/24`, 'dev', 'lan']);
      await must(undefined, ['ip', '-n', home.router, 'link', 'set', 'wan', 'up']);
      await must(undefined, ['ip', '-n', home.router, 'link', 'set', 'lan', 'up']);
      await must(undefined, ['ip', '-n', home.router, 'route', 'add', 'default', 'via', internetAddresses[i] as string]);
      await forward(home.router);
      await must(home.router, ['nft', '-f', '-'], routerRules(`${lan}.0/24`, opts.nat));
      await must(undefined, ['ip', '-n', home.ns, 'addr', 'add', `${home.address}/24`, 'dev', 'eth0']);
      await must(undefined, ['ip', '-n', home.ns, 'link', 'set', 'eth0', 'up']);
      await must(undefined, ['ip', '-n', home.ns, 'route', 'add', 'default', 'via', home.gateway]);
    }
    const turn = opts.turn ? await startTurn(state, inet, SERVER_ADDRESS, opts.turnAuth ?? 'static') : undefined;

    const lab: NatLab = {
      prefix,
      nat: opts.nat,
      internet: inet,
      internetAddresses,
      serverAddress: SERVER_ADDRESS,
      homes,
      namespaces: [...state.namespaces],
      exec: (ns, command, execOpts) => execIn(ns, command, execOpts),
      spawn(ns, command, args, env = {}) {
        const child = spawnIn(ns, command, args, env);
        state.children.add(child);
        child.once('exit', () => state.children.delete(child));
        return child;
      },
      async destroy() {
        if (!live.has(state)) return;
        // A polite stop first, so that coturn and tests' servers can exit on their own.
        for (const c of state.children) c.kill('SIGTERM');
        await Promise.all([...state.children].map((c) => waitExit(c, 2000)));
        destroySync(state);
      },
    };
    if (turn) lab.turn = turn;
    return lab;
  } catch (e) {
    destroySync(state);
    throw e;
  }
}

/** /stats.json of a viewer whose HTTP output listens on 127.0.0.1 inside namespace `ns`. */
export async function viewerStatsIn(lab: NatLab, ns: string, port: number): Promise<ViewerStats | undefined> {
  const script = `fetch('http://127.0.0.1:${port}/stats.json').then((r) => r.text()).then((t) => process.stdout.write(t), () => {})`;
  const r = await lab.exec(ns, [process.execPath, '-e', script], { timeoutMs: 5000 });
  try {
    return JSON.parse(r.stdout) as ViewerStats;
  } catch {
    return undefined;
  }
}

/** Polls viewerStatsIn until `ok` holds; throws with the last stats seen after timeoutMs. */
export async function waitForViewerStats(
  lab: NatLab,
  ns: string,
  port: number,
  what: string,
  ok: (s: ViewerStats) => boolean,
  timeoutMs: number,
): Promise<ViewerStats> {
  const deadline = Date.now() + timeoutMs;
  let last: ViewerStats | undefined;
  while (Date.now() < deadline) {
    last = (await viewerStatsIn(lab, ns, port)) ?? last;
    if (last !== undefined && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting until ${what}; last stats: ${JSON.stringify(last)}`);
}
