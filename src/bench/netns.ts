// The network of `meshtv bench --netns`: a hub namespace plays the internet, and each bench host
// process gets a namespace of its own on a link to the hub, whose upload is a `tc tbf` instead of
// the app-level token bucket. Needs root and iproute2. It deletes exactly what it made (its
// namespaces, the root-side link and route) and kills only processes it adopted or that run inside
// its namespaces.
//
//   root 10.B.0.1 ── 10.B.0.2 hub 10.B.<i+1>.1 ── 10.B.<i+1>.2 host i   (one /30 per host)
//
// The root namespace routes 10.B.0.0/16 through the hub so the bench process reaches every server.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { UserError } from '../common/errors.js';

export interface Place {
  /** Namespace name. */
  ns: string;
  /** This namespace's address on its link (the hub's: its link to the root namespace). */
  address: string;
}

export interface BenchNet {
  readonly prefix: string;
  readonly hub: Place;
  /** The root namespace's address on its link to the hub (servers that must stay in the root bind it). */
  readonly rootAddress: string;
  /** One per name given to createBenchNet, in that order. */
  readonly hosts: Place[];
  /** Caps what host i sends (egress of its link to the hub) at rateBps with tbf. */
  limitUpload(i: number, rateBps: number): void;
  /** Caps what host i receives (the hub's egress on its link) at rateBps with tbf; undefined lifts the cap. */
  limitDownload(i: number, rateBps: number | undefined): void;
  /** Kills this pid (a process started outside the namespaces, or inside) when the net is destroyed. */
  adopt(pid: number | undefined): void;
  /** Synchronous and idempotent: kills, then deletes the route, the root-side link and the namespaces. */
  destroy(): void;
}

/** Why --netns cannot run here, or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return '--netns needs root (network namespaces and tc)';
  for (const [tool, args, pkg] of [
    ['ip', ['-V'], 'iproute2'],
    ['tc', ['-V'], 'iproute2'],
    ['sysctl', ['-V'], 'procps'],
  ] as const) {
    const r = spawnSync(tool, args, { stdio: 'ignore' });
    if (r.error !== undefined || r.status !== 0) return `--netns needs \`${tool}\` (apt-get install ${pkg})`;
  }
  return undefined;
}

/**
 * tbf arguments for an upload cap. latency 100 ms bounds the queue to rate x 100 ms (12-125 KB at the
 * 1-10 Mbit/s of a bench host, a few chunks): a home uplink's modest buffer, deep enough that a
 * chunk pushed at once is queued rather than dropped. burst is at least 10 ms of the rate, which a
 * 100 Hz kernel timer needs to reach the rate at all, and at least ten full-size packets.
 */
export function tbfArgs(rateBps: number): string[] {
  const burstBytes = Math.max(Math.ceil(rateBps / 8 / 100), 10 * 1514);
  return ['rate', `${Math.round(rateBps)}bit`, 'burst', String(burstBytes), 'latency', '100ms'];
}

const live = new Set<BenchNet>();
let handlersOn = false;
const onExit = () => {
  for (const net of [...live]) net.destroy();
};
const onSignal = (signal: NodeJS.Signals) => {
  onExit();
  process.exit(signal === 'SIGINT' ? 130 : 143);
};

function setHandlers(on: boolean): void {
  if (on === handlersOn) return;
  handlersOn = on;
  for (const [event, fn] of [
    ['exit', onExit],
    ['SIGINT', onSignal],
    ['SIGTERM', onSignal],
  ] as const) {
    if (on) process.on(event, fn);
    else process.off(event, fn);
  }
}

/** Sends a signal to a process that may already be gone. */
export function kill(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** True while a process exists and is not a zombie. */
export function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** A /16 of 10/8 that this machine uses nowhere, starting from one chosen by pid so two benches rarely race. */
function freeSubnet(): number {
  const used = `${spawnSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }).stdout}\n${spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout}`;
  for (let k = 0; k < 48; k++) {
    const b = 79 + ((process.pid + k) % 48);
    if (!new RegExp(`(^|[^0-9.])10\\.${b}\\.`, 'm').test(used)) return b;
  }
  throw new UserError('--netns: no free 10.x.0.0/16 subnet among 10.79-10.126 on this machine');
}

/** Runs `cmd args` (ip by default), a failure being the user's --netns error with the tool's own message. */
function run(args: string[], cmd = 'ip'): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new UserError(`--netns: ${cmd} ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
}

function sysctl(ns: string, ...settings: string[]): void {
  run(['netns', 'exec', ns, 'sysctl', '-qw', ...settings]);
}

/** Makes the hub and one namespace per name (`<prefix>-<name>`), each linked to the hub. */
export function createBenchNet(names: string[]): BenchNet {
  const reason = netnsUnavailable();
  if (reason !== undefined) throw new UserError(reason);
  if (names.length > 250) throw new UserError('--netns: at most 250 host namespaces');
  const prefix = `mtvb${process.pid}`;
  if (fs.existsSync(`/run/netns/${prefix}-hub`))
    throw new UserError(`--netns: namespace ${prefix}-hub exists; one --netns bench per process`);
  const net = new NamespaceNet(prefix, freeSubnet(), names);
  live.add(net);
  setHandlers(true);
  try {
    net.build();
  } catch (err) {
    net.destroy();
    throw err;
  }
  return net;
}

class NamespaceNet implements BenchNet {
  readonly hub: Place;
  readonly rootAddress: string;
  readonly hosts: Place[];
  private readonly rootLink: string;
  private readonly namespaces: string[] = [];
  private readonly pids = new Set<number>();
  private route: string[] | undefined;
  private linkMade = false;
  private destroyed = false;

  /** `b` is the second byte of the 10.b.0.0/16 the net uses. */
  constructor(
    readonly prefix: string,
    private readonly b: number,
    names: string[],
  ) {
    this.rootLink = `${prefix}r`;
    this.hub = { ns: `${prefix}-hub`, address: `10.${b}.0.2` };
    this.rootAddress = `10.${b}.0.1`;
    this.hosts = names.map((name, i) => ({ ns: `${prefix}-${name}`, address: `10.${b}.${i + 1}.2` }));
  }

  limitUpload(i: number, rateBps: number): void {
    const host = this.hosts[i];
    if (host === undefined) throw new Error(`no host ${i}`);
    run(['-n', host.ns, 'qdisc', 'replace', 'dev', 'uplink', 'root', 'tbf', ...tbfArgs(rateBps)], 'tc');
  }

  limitDownload(i: number, rateBps: number | undefined): void {
    if (this.hosts[i] === undefined) throw new Error(`no host ${i}`);
    if (rateBps === undefined) spawnSync('tc', ['-n', this.hub.ns, 'qdisc', 'del', 'dev', `h${i}`, 'root'], { stdio: 'ignore' });
    else run(['-n', this.hub.ns, 'qdisc', 'replace', 'dev', `h${i}`, 'root', 'tbf', ...tbfArgs(rateBps)], 'tc');
  }

  adopt(pid: number | undefined): void {
    if (pid !== undefined) this.pids.add(pid);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    if (live.size === 0) setHandlers(false);
    const victims = [...this.pids];
    for (const ns of this.namespaces) {
      const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
      if (r.status === 0) victims.push(...r.stdout.split(/\s+/).filter(Boolean).map(Number));
    }
    for (const pid of victims) kill(pid);
    // Wait (at most 2 s) for them to be gone, so the namespaces and their links go with the names.
    const deadline = Date.now() + 2000;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (victims.some(running) && Date.now() < deadline) Atomics.wait(nap, 0, 0, 10);
    if (this.route !== undefined) spawnSync('ip', ['route', 'del', ...this.route], { stdio: 'ignore' });
    // Deleting one end of a veth deletes both, at once (a namespace's links go only when it is freed).
    if (this.linkMade) spawnSync('ip', ['link', 'del', this.rootLink], { stdio: 'ignore' });
    for (const ns of this.namespaces) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }

  /** Makes the namespaces and links; what it made so far is recorded for destroy(). */
  build(): void {
    const { hub, rootLink } = this;
    this.addNs(hub.ns);
    // The hub routes between hosts; a viewer's hairpin (below) leaves and re-enters through the
    // same link, which must not earn it an ICMP redirect.
    sysctl(hub.ns, 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.default.send_redirects=0');
    run(['link', 'add', 'name', rootLink, 'type', 'veth', 'peer', 'name', 'root', 'netns', hub.ns]);
    this.linkMade = true;
    run(['addr', 'add', `${this.rootAddress}/30`, 'dev', rootLink]);
    run(['link', 'set', rootLink, 'up']);
    run(['-n', hub.ns, 'addr', 'add', `${hub.address}/30`, 'dev', 'root']);
    run(['-n', hub.ns, 'link', 'set', 'root', 'up']);
    this.route = [`10.${this.b}.0.0/16`, 'via', hub.address, 'dev', rootLink];
    run(['route', 'add', ...this.route]);
    for (const [i, host] of this.hosts.entries()) this.linkHost(host, i);
  }

  private addNs(ns: string): void {
    run(['netns', 'add', ns]);
    this.namespaces.push(ns);
    run(['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  private linkHost(host: Place, i: number): void {
    const hub = this.hub;
    const gateway = `10.${this.b}.${i + 1}.1`;
    this.addNs(host.ns);
    run(['-n', hub.ns, 'link', 'add', 'name', `h${i}`, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', host.ns]);
    run(['-n', hub.ns, 'addr', 'add', `${gateway}/30`, 'dev', `h${i}`]);
    run(['-n', hub.ns, 'link', 'set', `h${i}`, 'up']);
    run(['-n', host.ns, 'addr', 'add', `${host.address}/30`, 'dev', 'uplink']);
    run(['-n', host.ns, 'link', 'set', 'uplink', 'up']);
    run(['-n', host.ns, 'route', 'add', 'default', 'via', gateway]);
    // Viewers of one host talk to each other at the host's own address, which the kernel would
    // deliver over loopback, past the tbf. A hairpin makes those packets go out to the hub and
    // back like any other: locally sent packets to our address look up table 100 (a route via
    // the hub) before the local table, and the link accepts packets from our own address.
    run(['-n', host.ns, 'rule', 'add', 'pref', '10', 'iif', 'lo', 'to', host.address, 'lookup', '100']);
    run(['-n', host.ns, 'route', 'add', `${host.address}/32`, 'via', gateway, 'dev', 'uplink', 'src', host.address, 'table', '100']);
    run(['-n', host.ns, 'rule', 'add', 'pref', '100', 'lookup', 'local']);
    run(['-n', host.ns, 'rule', 'del', 'pref', '0']);
    sysctl(
      host.ns,
      'net.ipv4.conf.uplink.accept_local=1',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.uplink.rp_filter=0',
      'net.ipv4.conf.all.accept_redirects=0',
      'net.ipv4.conf.uplink.accept_redirects=0',
    );
  }
}
