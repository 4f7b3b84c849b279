/**
 * What the benchmarks read off the server process: its CPU time (from /proc, Linux) and the
 * event-loop stalls it reports.
 */
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU of a process so far, in ms (10 ms resolution); undefined off Linux. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** A process's resident set size in bytes (Linux /proc), or undefined when it cannot be read. */
export function processRssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

export interface EventLoopReport {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * The last event-loop stall report in the server's output: `hourglass start-dev` prints one on
 * SIGUSR2 (and starts a new window) and one when it stops.
 */
export function parseEventLoopReport(output: string): EventLoopReport | undefined {
  const all = [...output.matchAll(/event-loop stalls over \d+ s: p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms/g)];
  const m = all[all.length - 1];
  if (!m) return undefined;
  return { p50Ms: Number(m[1]), p99Ms: Number(m[2]), maxMs: Number(m[3]) };
}

/** A Prometheus histogram's cumulative buckets as read off /metrics: upper bound (seconds) → count. */
export interface HistogramBuckets {
  bounds: number[];
  counts: number[];
}

/**
 * The buckets of histogram `name` in a Prometheus text exposition: of its series whose labels
 * include `labels`, summed bucket by bucket (all of its series when `labels` is empty).
 */
export function parseHistogram(text: string, name: string, labels: Record<string, string> = {}): HistogramBuckets {
  const pattern = new RegExp(`^${name}_bucket\\{([^}]*)\\} ([0-9.eE+-]+)$`, 'gm');
  const byBound = new Map<number, number>();
  for (const m of text.matchAll(pattern)) {
    const found = new Map([...(m[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1] as string, l[2] as string]));
    if (Object.entries(labels).some(([k, v]) => found.get(k) !== v)) continue;
    const le = found.get('le');
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + Number(m[2]));
  }
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  return { bounds, counts: bounds.map((b) => byBound.get(b) as number) };
}

/** What was observed between two scrapes of the same histogram. */
export function histogramDelta(before: HistogramBuckets, after: HistogramBuckets): HistogramBuckets {
  return { bounds: after.bounds, counts: after.counts.map((n, i) => n - (before.counts[i] ?? 0)) };
}

/**
 * The q-quantile (0..1) of a cumulative histogram, interpolated linearly inside the bucket that
 * holds it (as Prometheus's histogram_quantile does); the highest finite bound when it falls in +Inf;
 * NaN when the histogram is empty.
 */
export function histogramQuantile(h: HistogramBuckets, q: number): number {
  const total = h.counts[h.counts.length - 1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  for (let i = 0; i < h.counts.length; i++) {
    const count = h.counts[i] as number;
    if (count < rank) continue;
    const upper = h.bounds[i] as number;
    const lower = i === 0 ? 0 : (h.bounds[i - 1] as number);
    if (!Number.isFinite(upper)) return lower;
    const below = i === 0 ? 0 : (h.counts[i - 1] as number);
    const inBucket = count - below;
    return inBucket === 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  }
  return h.bounds[h.bounds.length - 2] ?? NaN;
}
