/** A promise with its resolvers exposed. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Serialises async critical sections per key (e.g. one workflow id). Waiters run in FIFO order;
 * keys with no holder use no memory.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const gate = deferred<void>();
    const tail = previous.then(() => gate.promise);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      gate.resolve();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** Resolves after `ms`, or early (resolving, not rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Long synchronous loops (thousands of commands, rows or events) give the event loop a turn once
 * `sliceMs` of their work has passed since the last turn, so other callers wait at most about that
 * long behind them, however slow the machine is:
 *
 * @example
 * const slice = new TimeSlice(5);
 * for (const item of items) {
 *   if (slice.due()) await slice.yield();
 *   work(item);
 * }
 */
export class TimeSlice {
  private started = performance.now();

  constructor(private readonly sliceMs: number) {}

  /** True once the slice's time is up. */
  due(): boolean {
    return performance.now() - this.started >= this.sliceMs;
  }

  /** Lets the event loop run what is waiting (I/O callbacks included), then starts a new slice. */
  async yield(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }
}
