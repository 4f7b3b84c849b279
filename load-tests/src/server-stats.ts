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
