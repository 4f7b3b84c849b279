/**
 * Time source for everything that stamps events or fires timers. Production uses the system
 * clock; tests and the time-skipping test environment substitute their own.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `fn` once `now() >= at`. Returns a cancel function. This is only a wake-up for a
   * processor whose real state is persisted (timer tasks); it never carries state itself.
   */
  wakeAt(at: number, fn: () => void): () => void;
}

/** Longest delay setTimeout accepts (2^31-1 ms); longer waits are re-armed in steps. */
const MAX_TIMEOUT_MS = 2_147_483_647;

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  wakeAt(at: number, fn: () => void): () => void {
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      if (cancelled) return;
      const delay = at - Date.now();
      if (delay <= 0) {
        fn();
        return;
      }
      handle = setTimeout(arm, Math.min(delay, MAX_TIMEOUT_MS));
      handle.unref?.();
    };
    arm();
    return () => {
      cancelled = true;
      if (handle) clearTimeout(handle);
    };
  }
}

/** A clock that only moves when told to; for deterministic unit tests. */
export class ManualClock implements Clock {
  private waiters: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;

  constructor(private current: number = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  wakeAt(at: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.waiters.push({ at, fn, id });
    this.fire();
    return () => {
      this.waiters = this.waiters.filter((w) => w.id !== id);
    };
  }

  advance(ms: number): void {
    this.current += ms;
    this.fire();
  }

  set(ms: number): void {
    this.current = ms;
    this.fire();
  }

  private fire(): void {
    const due = this.waiters.filter((w) => w.at <= this.current).sort((a, b) => a.at - b.at);
    this.waiters = this.waiters.filter((w) => w.at > this.current);
    for (const w of due) w.fn();
  }
}
