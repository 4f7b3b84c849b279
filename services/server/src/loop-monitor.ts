/**
 * How long the server's event loop was held up: one tenant's work must never stall the others.
 * Node's `monitorEventLoopDelay` samples with a timer of `resolution` ms and records each interval
 * whole, so an idle loop reads `resolution` ms; the stall is what exceeds it.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopStalls {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Seconds since the monitor started or was last reset. */
  seconds: number;
}

export class EventLoopStallMonitor {
  private readonly histogram: IntervalHistogram;
  private since: number;

  constructor(private readonly resolutionMs = 10, private readonly now: () => number = Date.now) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
    this.since = now();
  }

  stalls(): LoopStalls {
    const stall = (ns: number): number => Math.max(0, ns / 1e6 - this.resolutionMs);
    const h = this.histogram;
    const empty = h.count === 0;
    return {
      p50Ms: empty ? 0 : stall(h.percentile(50)),
      p99Ms: empty ? 0 : stall(h.percentile(99)),
      maxMs: empty ? 0 : stall(h.max),
      seconds: (this.now() - this.since) / 1000,
    };
  }

  /** Starts a new measurement window. */
  reset(): void {
    this.histogram.reset();
    this.since = this.now();
  }

  stop(): void {
    this.histogram.disable();
  }
}

/** The line the server prints (the bench parses it: load-tests/src/server-stats.ts). */
export function formatStalls(s: LoopStalls): string {
  return `event-loop stalls over ${s.seconds.toFixed(0)} s: p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms, max ${s.maxMs.toFixed(1)} ms`;
}
