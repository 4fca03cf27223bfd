// One broadcaster per channel key. Two runs with the same key would both publish the channel
// under one URI, flip its directory entry between them, fight over the chunk numbering file and
// send their viewers two copies of the stream. A lock file beside the key (KEY.lock, holding
// the pid) keeps a second run out; one left by a process that died is taken over.

import fs from 'node:fs';
import { UserError } from '../common/errors.js';

export interface KeyLock {
  release(): void;
}

/** Locks `keyFile` for this process, or says which process holds it. */
export function lockKey(keyFile: string, pid = process.pid): KeyLock {
  const file = `${keyFile}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${pid}\n`, { flag: 'wx', mode: 0o600 });
      return {
        release: () => {
          // Only our own lock: a stale one taken over by another run is theirs now.
          if (readPid(file) === pid) fs.rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError(`cannot lock key ${keyFile}: ${(err as Error).message}`);
    }
    const holder = readPid(file);
    if (holder !== undefined && holder !== pid && isRunning(holder))
      throw new UserError(`key ${keyFile} is in use by pid ${holder}: one broadcaster per channel key (stop it, or use another --key)`);
    // Left by a run that died (or unreadable): take it over.
    fs.rmSync(file, { force: true });
  }
  throw new UserError(`cannot lock key ${keyFile}: another run took it at the same time`);
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
