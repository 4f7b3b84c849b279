/**
 * A log line that may repeat at any rate (a flooding caller's refused commands, a missing method
 * asked for in a loop) is written at most `perWindow` times per key and window; the first line
 * after a quiet spell says how many were left out. Keys are few (kind × method): the map is bounded
 * by `maxKeys`, dropping the oldest.
 */
export interface RateLimitedLogOptions {
  /** Lines per key per window. Default 5. */
  perWindow?: number;
  /** Default 60 s. */
  windowMs?: number;
  maxKeys?: number;
  now?: () => number;
}

interface Window {
  start: number;
  written: number;
  suppressed: number;
}

export class RateLimitedLog {
  private readonly windows = new Map<string, Window>();
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: RateLimitedLogOptions = {}) {
    this.perWindow = options.perWindow ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxKeys = options.maxKeys ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Whether a line for `key` may be written now; when it may, `suppressed` is how many were left out
   * since the last one written (0 usually). Undefined: leave this one out.
   */
  admit(key: string): { suppressed: number } | undefined {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      const suppressed = window?.suppressed ?? 0;
      if (!window && this.windows.size >= this.maxKeys) {
        const oldest = this.windows.keys().next();
        if (!oldest.done) this.windows.delete(oldest.value);
      }
      window = { start: now, written: 1, suppressed: 0 };
      this.windows.set(key, window);
      return { suppressed };
    }
    if (window.written < this.perWindow) {
      window.written += 1;
      return { suppressed: 0 };
    }
    window.suppressed += 1;
    return undefined;
  }
}
