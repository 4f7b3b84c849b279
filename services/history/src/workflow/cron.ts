/**
 * Cron schedules as Temporal reads them (robfig/cron's standard parser): five fields in UTC,
 * the @yearly/@monthly/@weekly/@daily/@hourly descriptors, and `@every <duration>`.
 * A run of a cron workflow starts at the first schedule time after the previous run closed.
 */
import { CronExpressionParser } from 'cron-parser';
import { InvalidArgumentError } from '@hourglass/common';

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses Go-style durations such as "10s", "1h30m", "500ms". */
function parseEvery(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((total, p) => total + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0);
}

type Schedule = (after: number) => number;

function parseSchedule(spec: string): Schedule {
  const trimmed = spec.trim();
  if (trimmed.startsWith('@every ')) {
    const every = parseEvery(trimmed.slice('@every '.length).trim());
    if (!every || every < 1000) throw new InvalidArgumentError(`cronSchedule ${JSON.stringify(spec)} is invalid: @every needs a duration of at least 1s, e.g. "@every 30s"`);
    // robfig's ConstantDelaySchedule: next = t + delay, rounded down to the second.
    return (after) => Math.floor((after + every) / 1000) * 1000;
  }
  if (!DESCRIPTORS.has(trimmed) && trimmed.split(/\s+/).length !== 5) {
    throw new InvalidArgumentError(`cronSchedule ${JSON.stringify(spec)} is invalid: use five fields (minute hour day-of-month month day-of-week), a descriptor such as @hourly, or @every <duration>`);
  }
  try {
    CronExpressionParser.parse(trimmed, { tz: 'UTC' });
  } catch (err) {
    throw new InvalidArgumentError(`cronSchedule ${JSON.stringify(spec)} is invalid: ${(err as Error).message}`);
  }
  return (after) => CronExpressionParser.parse(trimmed, { tz: 'UTC', currentDate: new Date(after) }).next().getTime();
}

export function validateCronSchedule(spec: string): string {
  parseSchedule(spec);
  return spec.trim();
}

/**
 * Backoff before the next run: the first schedule time (counted from `startTime`, the closing
 * run's start) that is not before `closeTime`, minus closeTime. For a new chain startTime = closeTime = now.
 */
export function cronBackoffMs(spec: string, closeTime: number, startTime: number = closeTime): number {
  const next = parseSchedule(spec);
  let at = next(startTime);
  while (at < closeTime) at = next(at);
  return Math.max(0, at - closeTime);
}
