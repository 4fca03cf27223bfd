// A child process of the bench: `meshtv <command>` started with an IPC channel, from which the
// bench takes its structured messages (messages.ts). Its output is kept only for error messages.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchMessage, type BenchMessageOf, type BenchMessageType, isBenchMessage } from './messages.js';

/** How much of a child's output an error message quotes. */
const OUTPUT_TAIL_CHARS = 500;

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package root not found');
    dir = up;
  }
  return dir;
}

type Waiter = { type: BenchMessageType; resolve: (m: BenchMessage) => void; reject: (err: Error) => void };

export class BenchChild {
  private readonly received: BenchMessage[] = [];
  private readonly waiters = new Set<Waiter>();
  private output = '';

  /** `child` is the process started for `meshtv ${command}`, with an 'ipc' channel. */
  constructor(
    readonly child: ChildProcess,
    private readonly command: string,
  ) {
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (m: unknown) => {
      if (!isBenchMessage(m)) return;
      this.received.push(m);
      for (const w of [...this.waiters]) if (w.type === m.type) w.resolve(m);
    });
    // Messages sent before the child ended arrive before its channel closes.
    child.on('disconnect', () => {
      for (const w of [...this.waiters]) w.reject(this.failure(w.type, 'it ended'));
    });
    // A child that could not start (`ip` missing, say) fails what waits for it; unheard, the
    // error would end the bench before it stops the children it has started.
    child.on('error', (err) => {
      this.output += `\n${err.message}`;
      for (const w of [...this.waiters]) w.reject(this.failure(w.type, 'it could not start'));
    });
  }

  /** Kills the child at once and waits for its end (at once if it has ended already). */
  kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    return exited;
  }

  /** Starts `meshtv args`, inside namespace `ns` when given (`ip netns exec` execs: the child's pid is node's). */
  static start(args: string[], ns?: string): BenchChild {
    const argv = [process.execPath, path.join(packageRoot(), 'bin/meshtv.js'), ...args];
    const [cmd, ...rest] = ns === undefined ? argv : ['ip', 'netns', 'exec', ns, ...argv];
    const child = spawn(cmd as string, rest, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    return new BenchChild(child, args[0] ?? '');
  }

  /** The first `type` message this child sent, waiting for it up to timeoutMs. */
  message<T extends BenchMessageType>(type: T, timeoutMs = 20_000): Promise<BenchMessageOf<T>> {
    const got = this.received.find((m) => m.type === type);
    if (got !== undefined) return Promise.resolve(got as BenchMessageOf<T>);
    if (!this.child.connected) return Promise.reject(this.failure(type, 'it ended'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => waiter.reject(this.failure(type, `none within ${timeoutMs} ms`)), timeoutMs);
      const waiter: Waiter = {
        type,
        resolve: (m) => {
          settle();
          resolve(m as BenchMessageOf<T>);
        },
        reject: (err) => {
          settle();
          reject(err);
        },
      };
      const settle = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  private failure(type: BenchMessageType, why: string): Error {
    return new Error(`bench: meshtv ${this.command} sent no ${type} message (${why}): ${this.output}`);
  }
}
