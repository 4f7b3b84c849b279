/**
 * A clock for tests that runs at wall-clock speed but jumps ahead to the next pending wake-up
 * whenever the system says it is idle (no workflow task or activity in progress) and nobody holds
 * a lock on it — so a 30-day sleep finishes in milliseconds. Mirrors the model of Temporal's
 * time-skipping test server (lock counting; time never skips past work in progress).
 */
import type { Clock } from './clock';

interface Waiter {
  at: number;
  fn: () => void;
  id: number;
  cancelReal: () => void;
}

/** How long the system must stay idle before time jumps (lets in-flight RPCs land). */
const SETTLE_MS = 5;

export class TimeSkippingClock implements Clock {
  private offset = 0;
  private waiters: Waiter[] = [];
  private nextId = 0;
  private locks = 0;
  private idleProbe: () => boolean = () => false;
  private settleTimer: NodeJS.Timeout | undefined;

  now(): number {
    return Date.now() + this.offset;
  }

  /** Total time skipped so far (virtual now − wall clock). */
  get skippedMs(): number {
    return this.offset;
  }

  wakeAt(at: number, fn: () => void): () => void {
    const id = this.nextId++;
    const waiter: Waiter = { at, fn, id, cancelReal: () => undefined };
    const delay = at - this.now();
    if (delay <= 0) {
      queueMicrotask(() => this.fire(waiter));
    } else {
      // Real time may reach it first (e.g. while work is in progress).
      const timer = setTimeout(() => this.fire(waiter), Math.min(delay, 2_147_483_647));
      timer.unref();
      waiter.cancelReal = () => clearTimeout(timer);
    }
    this.waiters.push(waiter);
    this.scheduleSkipCheck();
    return () => {
      waiter.cancelReal();
      this.waiters = this.waiters.filter((w) => w.id !== id);
    };
  }

  /** Tells the clock how to know that no work is in progress. */
  setIdleProbe(probe: () => boolean): void {
    this.idleProbe = probe;
    this.scheduleSkipCheck();
  }

  /** Something changed that may have made the system idle: consider skipping. */
  poke(): void {
    this.scheduleSkipCheck();
  }

  lock(): void {
    this.locks += 1;
  }

  unlock(): void {
    if (this.locks === 0) throw new Error('time skipping is not locked');
    this.locks -= 1;
    this.scheduleSkipCheck();
  }

  get locked(): boolean {
    return this.locks > 0;
  }

  /** Moves virtual time forward by `ms` at once (firing what becomes due). */
  advance(ms: number): void {
    this.offset += Math.max(0, ms);
    this.fireDue();
  }

  private scheduleSkipCheck(): void {
    if (this.settleTimer) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.skipIfIdle();
    }, SETTLE_MS);
    this.settleTimer.unref();
  }

  private skipIfIdle(): void {
    if (this.locks > 0 || this.waiters.length === 0 || !this.idleProbe()) return;
    const next = Math.min(...this.waiters.map((w) => w.at));
    const jump = next - this.now();
    if (jump > 0) this.offset += jump;
    this.fireDue();
  }

  private fireDue(): void {
    const now = this.now();
    const due = this.waiters.filter((w) => w.at <= now).sort((a, b) => a.at - b.at);
    for (const waiter of due) this.fire(waiter);
  }

  private fire(waiter: Waiter): void {
    if (!this.waiters.includes(waiter)) return;
    this.waiters = this.waiters.filter((w) => w !== waiter);
    waiter.cancelReal();
    waiter.fn();
    this.scheduleSkipCheck();
  }
}
