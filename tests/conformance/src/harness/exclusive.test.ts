/**
 * The heavy-test lock between processes (exclusive.ts), on a lock directory of its own (never the
 * one the suite's heavy files share): a second holder waits until the first releases; a lock whose
 * holder died, or whose holder never wrote its pid, is taken over; a release frees only its own lock.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { acquireDirectoryLock } from './exclusive';

const root = mkdtempSync(path.join(tmpdir(), 'hourglass-exclusive-'));
after(() => rmSync(root, { recursive: true, force: true }));
let made = 0;
const newLockDir = (): string => path.join(root, `lock-${made++}`);

/** Whether `promise` is still pending after `ms` (to see that a waiter does wait). */
async function pendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const pending = Symbol('pending');
  const timer = new Promise<symbol>((resolve) => setTimeout(() => resolve(pending), ms));
  return (await Promise.race([promise, timer])) === pending;
}

/** Rejects when `promise` has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Another process that takes the lock at `dir` and says so; it holds it until its stdin ends, then
 * exits without calling release itself (the lock's exit hook frees it).
 */
async function holderProcess(dir: string): Promise<ChildProcessWithoutNullStreams> {
  const script = `
    const { acquireDirectoryLock } = require(${JSON.stringify(path.join(__dirname, 'exclusive.js'))});
    acquireDirectoryLock(${JSON.stringify(dir)}).then(() => {
      process.stdout.write('held\\n');
      process.stdin.on('end', () => process.exit(0));
      process.stdin.resume();
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'pipe' });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`the holder process exited early (code ${code}, signal ${signal})`))));
  const held = new Promise<void>((resolve) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('held\n')) resolve();
    });
  });
  await within(Promise.race([held, exited]), 10_000, 'the holder process takes the lock');
  exited.catch(() => undefined);
  return child;
}

const exitOf = (child: ChildProcessWithoutNullStreams): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

test('a second process waits until the holder releases (here: by exiting), then takes the lock', async () => {
  const dir = newLockDir();
  const holder = await holderProcess(dir);
  try {
    assert.equal(readFileSync(path.join(dir, 'pid'), 'utf8'), String(holder.pid), 'the lock names its holder');
    const told: (number | undefined)[] = [];
    const taking = acquireDirectoryLock(dir, (pid) => told.push(pid));
    assert.ok(await pendingAfter(taking, 1_000), 'the second holder waits while the first holds the lock');
    assert.deepEqual(told, [holder.pid], 'the waiter is told once, with the holder');

    holder.stdin.end();
    await exitOf(holder);
    const release = await within(taking, 5_000, 'the waiter takes the lock once the holder is gone');
    assert.equal(readFileSync(path.join(dir, 'pid'), 'utf8'), String(process.pid));
    release();
    assert.equal(existsSync(dir), false, 'release removes the lock');
  } finally {
    holder.kill('SIGKILL');
  }
});

test('a holder that exits without calling release frees its lock as it exits', async () => {
  const dir = newLockDir();
  const holder = await holderProcess(dir);
  holder.stdin.end();
  await exitOf(holder);
  assert.equal(holder.exitCode, 0);
  assert.equal(existsSync(dir), false, 'the exit hook removed the lock');
});

test('a lock left by a process that died without releasing it is taken over', async () => {
  const dir = newLockDir();
  const holder = await holderProcess(dir);
  holder.kill('SIGKILL');
  await exitOf(holder);
  assert.equal(readFileSync(path.join(dir, 'pid'), 'utf8'), String(holder.pid), 'the dead holder left its lock behind');
  const release = await within(acquireDirectoryLock(dir), 5_000, 'the lock of a dead holder is taken over');
  assert.equal(readFileSync(path.join(dir, 'pid'), 'utf8'), String(process.pid));
  release();
});

test('a lock directory whose holder never wrote its pid is taken over after a few seconds', async () => {
  const dir = newLockDir();
  mkdirSync(dir);
  const told: (number | undefined)[] = [];
  const taking = acquireDirectoryLock(dir, (pid) => told.push(pid));
  assert.ok(await pendingAfter(taking, 1_000), 'a fresh directory without a pid may be a holder between its two steps: wait');
  assert.deepEqual(told, [undefined]);
  const release = await within(taking, 15_000, 'an ownerless lock is taken over');
  assert.equal(readFileSync(path.join(dir, 'pid'), 'utf8'), String(process.pid));
  release();
});

test('a release frees only its own lock, once: not one another process has taken over since', async () => {
  const dir = newLockDir();
  const release = await acquireDirectoryLock(dir);
  // As if this process had been thought dead and a live one had taken the lock over.
  writeFileSync(path.join(dir, 'pid'), String(process.ppid));
  release();
  assert.equal(readFileSync(path.join(dir, 'pid'), 'utf8'), String(process.ppid), 'the new holder keeps its lock');
  rmSync(dir, { recursive: true });

  const again = await within(acquireDirectoryLock(dir), 2_000, 'the lock is free again');
  again();
  again();
  assert.equal(existsSync(dir), false);
});
