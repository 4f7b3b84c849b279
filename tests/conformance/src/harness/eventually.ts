import { setTimeout as delay } from 'node:timers/promises';

export interface EventuallyOptions {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number;
  /** Wait this long between attempts. Default 100 ms. */
  intervalMs?: number;
  /** Said in the error when the deadline passes. */
  description?: string;
}

/**
 * Polls `fn` until it returns (or resolves to) a truthy value without throwing, and returns that
 * value. On the deadline it throws, with the last error thrown by `fn` as the cause. Use this
 * instead of fixed sleeps to wait for an effect.
 *
 * ```ts
 * const history = await eventually(async () => {
 *   const h = await handle.fetchHistory();
 *   return h.events?.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED) && h;
 * }, { timeoutMs: 5000 });
 * ```
 */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() + intervalMs > deadline) break;
    await delay(intervalMs);
  }
  const what = options.description ?? 'condition';
  const detail =
    lastError === undefined
      ? 'it stayed falsy'
      : `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  throw new Error(`${what} not met within ${timeoutMs} ms after ${attempts} attempts (${detail})`, {
    cause: lastError,
  });
}

/** Rejects with a clear message if `promise` does not settle within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with what `promise` rejects with; fails the test if it resolves instead. */
export async function rejectionOf(promise: Promise<unknown>, what = 'the call'): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (err) {
    return err;
  }
  throw new Error(`expected ${what} to fail, but it resolved with ${JSON.stringify(value)}`);
}
