// What a `meshtv bench` run is asked to do, the checks that refuse what it cannot, and where its
// viewers go.

import { UserError } from '../common/errors.js';
import { netnsUnavailable } from './netns.js';

export interface BenchOptions {
  peers: number;
  durationS: number;
  rho: number;
  freeRiders: number;
  /** Viewers killed (SIGKILL of a host process) per minute, as a share of N; replaced at once. */
  churnPerMin: number;
  hosts: number;
  /** The broadcaster's upload cap (e.g. 1.5M); none by default. */
  sourceUploadLimit?: string;
  /** The test pattern's video bitrate (e.g. 2000k), as `broadcast --video-bitrate`; its default otherwise. */
  videoBitrate?: string;
  /** Seconds into the run at which the tracker is SIGKILLed and started again on its port. */
  restartTrackerAtS?: number;
  /** Seconds into the run at which the broadcaster is SIGKILLed and started again with its key. */
  restartSourceAtS?: number;
  /**
   * Put each host process in a network namespace of its own behind a hub namespace, its upload
   * capped by `tc tbf` on its link instead of the app-level token bucket. Needs root. @default false
   */
  netns?: boolean;
  /**
   * With netns, the viewers are also told their cap (as `--upload-limit` tells a user's node),
   * so each paces its uploads to it; otherwise only the kernel's tbf knows it, as for a user
   * who never set one. @default false
   */
  toldCaps?: boolean;
  outDir?: string;
  json: boolean;
}

/** Refuses options outside what a bench run can do, naming the flag. */
export function checkBenchOptions(o: BenchOptions): void {
  if (!Number.isInteger(o.peers) || o.peers < 1 || o.peers > 1000) throw new UserError('--peers must be 1-1000');
  if (!(o.durationS >= 5 && o.durationS <= 3600)) throw new UserError('--duration-s must be 5-3600');
  if (!(o.rho > 0 && o.rho <= 100)) throw new UserError('--rho must be above 0');
  if (!(o.freeRiders >= 0 && o.freeRiders < 1)) throw new UserError('--free-riders must be in [0, 1)');
  if (!(o.churnPerMin >= 0 && o.churnPerMin <= 1)) throw new UserError('--churn must be a share per minute in [0, 1]');
  for (const [flag, t] of [
    ['--restart-tracker-at-s', o.restartTrackerAtS],
    ['--restart-source-at-s', o.restartSourceAtS],
  ] as const)
    if (t !== undefined && !(t > 0 && t < o.durationS - 5))
      throw new UserError(`${flag} must be within the run and leave 5 s after it (0 < T < ${o.durationS - 5})`);
  if (!(Number.isInteger(o.hosts) && o.hosts >= 1)) throw new UserError('--hosts must be a whole number, 1 or more');
  if (o.toldCaps === true && o.netns !== true) throw new UserError('--told-caps needs --netns (without it the caps are told anyway)');
  if (o.netns === true) {
    const reason = netnsUnavailable();
    if (reason !== undefined) throw new UserError(reason);
  }
}

/**
 * Which viewers (indices into the caps, free riders first) each host process runs. In app mode
 * they are dealt round-robin over `hosts`. With netns a host's tbf is shared by its viewers, so
 * each host holds viewers of one cap only: uploaders dealt over `hosts`, free riders (cap 0, which
 * tbf cannot express; they keep the app-level `uploadEnabled: false`) over the hosts left, at least
 * one of their own. `hosts` equal to `peers` puts every viewer alone in its process and namespace,
 * behind its own tbf, as viewers on the Internet are.
 */
export function hostLayout(peers: number, freeRiders: number, hosts: number, netns: boolean): number[][] {
  // Viewers from..to-1 dealt round-robin over n hosts.
  const deal = (from: number, to: number, n: number) =>
    Array.from({ length: n }, (_, h) => Array.from({ length: Math.ceil((to - from - h) / n) }, (_, k) => from + h + k * n));
  if (!netns) return deal(0, peers, Math.max(1, Math.min(hosts, peers)));
  const uploaders = peers - freeRiders;
  const uploaderHosts = Math.max(0, Math.min(hosts, uploaders));
  const freeRiderHosts = Math.max(1, Math.min(freeRiders, hosts - uploaderHosts));
  return [...(freeRiders > 0 ? deal(0, freeRiders, freeRiderHosts) : []), ...deal(freeRiders, peers, uploaderHosts)];
}
