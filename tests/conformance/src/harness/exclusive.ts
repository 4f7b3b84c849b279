/**
 * A lock across test processes for the CPU-heavy conformance files (a load of thousands of
 * workflows, a seven-process cluster, a browser): the test runner runs its SQLite and MySQL lanes at
 * once, and two such files side by side on two cores would starve each other's servers into
 * timeouts that have nothing to do with what they test. The lock is a directory (mkdir is atomic)
 * holding the owner's pid; one left by a process that died is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { SCRATCH_DIR } from './scratch';
import path from 'node:path';

const LOCK = path.join(SCRATCH_DIR, 'locks', 'heavy');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a lock directory; undefined while its owner has not written it yet (or it is gone). */
function ownerOf(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until no other process holds the heavy lock, takes it and returns its release. `onWait` is
 * told once when another process holds it (for the test's log).
 */
export function acquireHeavyLock(onWait?: (holder: number | undefined) => void): Promise<() => void> {
  return acquireDirectoryLock(LOCK, onWait);
}

/** The heavy lock's mechanism on any lock directory `dir` (its own tests take one of their own). */
export async function acquireDirectoryLock(dir: string, onWait?: (holder: number | undefined) => void): Promise<() => void> {
  mkdirSync(path.dirname(dir), { recursive: true });
  let told = false;
  let ownerless = 0;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'pid'), String(process.pid));
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        process.off('exit', release);
        if (ownerOf(dir) === process.pid) rmSync(dir, { recursive: true, force: true });
      };
      process.on('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = ownerOf(dir);
    // A holder that died, or a directory whose pid never appeared (its maker died between the two
    // steps above, seconds ago): free it for the next attempt.
    if ((holder !== undefined && !alive(holder)) || (holder === undefined && ++ownerless > 20)) {
      rmSync(dir, { recursive: true, force: true });
      ownerless = 0;
      continue;
    }
    if (holder !== undefined) ownerless = 0;
    if (!told) {
      told = true;
      onWait?.(holder);
    }
    await sleep(250);
  }
}

/**
 * Makes the calling test file one of the heavy ones: its tests start once it holds the lock, which
 * it keeps until they are all done. Call at the top level of the file.
 */
export function heavyFile(name: string): void {
  let release: (() => void) | undefined;
  before(async () => {
    const waitedFrom = Date.now();
    release = await acquireHeavyLock((holder) => console.log(`# ${name}: waiting for another heavy test file (pid ${holder ?? '?'}) to finish`));
    const waited = Date.now() - waitedFrom;
    if (waited > 1000) console.log(`# ${name}: waited ${(waited / 1000).toFixed(0)} s for the heavy-test lock`);
  });
  after(() => release?.());
}
