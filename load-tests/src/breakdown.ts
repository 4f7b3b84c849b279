/**
 * Where a workflow's start-to-close went: the bench's own clock at the start call and at the
 * result, and between them the server's event times of its history (each event stamped when the
 * server wrote it). A segment is the time between two consecutive points, named by them, so a
 * slow workflow shows whether it waited in the server (a task scheduled but not yet started is
 * matching and the worker's pollers; the client's call before the first event is the frontend and
 * the start's commit), or on the worker (a task started but not completed is the worker's CPU and
 * its completion call), or in the client (the close before the result is the client's long poll).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { percentile } from './stats';

const EventType = temporal.api.enums.v1.EventType;

/** One workflow as the bench saw it: its id and the wall clock (ms since the epoch) at the start call and at the result. */
export interface TimedRun {
  workflowId: string;
  calledAt: number;
  answeredAt: number;
}

/** The named points of one run: the client's call, each history event, the client's answer. */
export async function runPoints(client: Client, run: TimedRun): Promise<{ name: string; at: number }[]> {
  const history = await client.workflow.getHandle(run.workflowId).fetchHistory();
  const points = [{ name: 'client call', at: run.calledAt }];
  for (const event of history.events ?? []) {
    const type = event.eventType ?? 0;
    const name = (EventType[type] ?? `EVENT_${type}`).replace(/^EVENT_TYPE_/, '').toLowerCase();
    const time = event.eventTime;
    points.push({ name, at: Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6) });
  }
  points.push({ name: 'client result', at: run.answeredAt });
  return points;
}

export interface SegmentSummary {
  segment: string;
  /** Mean over the slowest runs, and over the runs around the median, ms. */
  slowMeanMs: number;
  typicalMeanMs: number;
}

export interface Breakdown {
  /** How many of the slowest runs were broken down, and the latency from which a run was among them. */
  slowest: number;
  thresholdMs: number;
  segments: SegmentSummary[];
  /** When each of the slowest was started, seconds after the first run of the phase, in order: clusters point at one event of the noise. */
  slowStartedAtS: number[];
}

/**
 * The segments of the slowest `fraction` of `runs` (at least `minimum` of them) against those of the
 * runs around the median (as many), by the segment's name; segments in history order.
 */
export async function breakdown(client: Client, runs: TimedRun[], fraction = 0.01, minimum = 5): Promise<Breakdown> {
  const byLatency = [...runs].sort((a, b) => a.answeredAt - a.calledAt - (b.answeredAt - b.calledAt));
  const n = Math.min(byLatency.length, Math.max(minimum, Math.ceil(byLatency.length * fraction)));
  const slow = byLatency.slice(byLatency.length - n);
  const middle = Math.max(0, Math.floor(byLatency.length / 2) - Math.floor(n / 2));
  const typical = byLatency.slice(middle, middle + n);
  const order: string[] = [];
  const sums = (group: TimedRun[]) =>
    Promise.all(group.map((r) => runPoints(client, r))).then((all) => {
      const total = new Map<string, number>();
      for (const points of all) {
        points.slice(1).forEach((point, i) => {
          const previous = points[i] as { name: string; at: number };
          const name = `${previous.name} → ${point.name}`;
          if (!order.includes(name)) order.push(name);
          total.set(name, (total.get(name) ?? 0) + (point.at - previous.at));
        });
      }
      return { total, count: all.length };
    });
  const s = await sums(slow);
  const t = await sums(typical);
  const thresholdMs = percentile(
    byLatency.map((r) => r.answeredAt - r.calledAt),
    100 * (1 - n / Math.max(1, byLatency.length)),
  );
  const firstCall = Math.min(...runs.map((r) => r.calledAt));
  return {
    slowest: n,
    thresholdMs,
    slowStartedAtS: slow.map((r) => (r.calledAt - firstCall) / 1000).sort((a, b) => a - b),
    segments: order.map((segment) => ({ segment, slowMeanMs: (s.total.get(segment) ?? 0) / Math.max(1, s.count), typicalMeanMs: (t.total.get(segment) ?? 0) / Math.max(1, t.count) })),
  };
}

/** The breakdown as lines for the bench's output. */
export function formatBreakdown(b: Breakdown): string[] {
  const lines = [`  where the slowest ${b.slowest} (≥ ${b.thresholdMs.toFixed(0)} ms) spent their time, mean ms, against as many around the median:`];
  for (const s of b.segments) lines.push(`    ${s.segment.padEnd(58)} ${s.slowMeanMs.toFixed(1).padStart(8)} ${s.typicalMeanMs.toFixed(1).padStart(8)}`);
  if (b.slowStartedAtS.length > 0) lines.push(`    the slowest were started at ${b.slowStartedAtS.map((t) => `${t.toFixed(1)}`).join(', ')} s into the phase`);
  return lines;
}
