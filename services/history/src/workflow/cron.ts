/**
 * Cron schedules as Temporal reads them (robfig/cron's standard parser): five fields, the
 * @yearly/@monthly/@weekly/@daily/@hourly descriptors, and `@every <duration>`, evaluated in UTC
 * unless the spec starts with `CRON_TZ=<IANA zone> ` or `TZ=<IANA zone> `
 * (`CRON_TZ=America/New_York 0 9 * * *` is 9:00 in New York, whatever the offset that day).
 * A run of a cron workflow starts at the first schedule time after the previous run closed.
 */
import { CronExpressionParser } from 'cron-parser';
import { InvalidArgumentError, quote } from '@hourglass/common';

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** A schedule time shifted by a DST gap is skipped; a handful of gaps in a row is the most a real zone has. */
const MAX_GAP_SKIPS = 8;

/** Parses Go-style durations such as "10s", "1h30m", "500ms". */
function parseEvery(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((total, p) => total + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0);
}

type Schedule = (after: number) => number;

function invalid(spec: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`cronSchedule ${quote(spec)} is invalid: ${why}`);
}

/** True when the runtime knows `zone` as an IANA time zone (Intl throws a RangeError otherwise). */
function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Splits off a `CRON_TZ=`/`TZ=` prefix as robfig/cron does: the zone runs up to the first space. */
function splitZone(spec: string, trimmed: string): { zone: string; expression: string } {
  const prefix = trimmed.startsWith('CRON_TZ=') ? 'CRON_TZ=' : trimmed.startsWith('TZ=') ? 'TZ=' : undefined;
  if (!prefix) return { zone: 'UTC', expression: trimmed };
  const space = trimmed.search(/\s/);
  if (space < 0) throw invalid(spec, `${prefix}<zone> must be followed by a schedule, e.g. "${prefix}America/New_York 0 9 * * *"`);
  const zone = trimmed.slice(prefix.length, space);
  if (zone === '' || !isKnownZone(zone)) {
    throw invalid(spec, `unknown time zone ${quote(zone)}: use an IANA name such as America/New_York, Europe/Paris or UTC`);
  }
  return { zone, expression: trimmed.slice(space).trim() };
}

function parseSchedule(spec: string): Schedule {
  const { zone, expression } = splitZone(spec, spec.trim());
  if (expression.startsWith('@every ')) {
    const every = parseEvery(expression.slice('@every '.length).trim());
    if (!every || every < 1000) throw invalid(spec, '@every needs a duration of at least 1s, e.g. "@every 30s"');
    // robfig's ConstantDelaySchedule: next = t + delay, rounded down to the second; a zone changes nothing.
    return (after) => Math.floor((after + every) / 1000) * 1000;
  }
  if (!DESCRIPTORS.has(expression) && expression.split(/\s+/).length !== 5) {
    throw invalid(spec, 'use five fields (minute hour day-of-month month day-of-week), a descriptor such as @hourly, or @every <duration>');
  }
  let fields;
  try {
    fields = CronExpressionParser.parse(expression, { tz: zone }).fields;
  } catch (err) {
    // cron-parser's own message repeats the bad field unquoted: keep it short.
    const why = (err as Error).message;
    throw invalid(spec, why.length > 160 ? `${why.slice(0, 160)}…` : why);
  }
  const hours = new Set<number>(fields.hour.values);
  const minutes = new Set<number>(fields.minute.values);
  return (after) => {
    const times = CronExpressionParser.parse(expression, { tz: zone, currentDate: new Date(after) });
    for (let skips = 0; ; skips++) {
      const at = times.next();
      // A wall-clock time inside a spring-forward gap (02:30 on the night clocks jump from 02:00
      // to 03:00) comes back moved past the gap; robfig/cron, and so Temporal, skips it that day.
      if ((hours.has(at.getHours()) && minutes.has(at.getMinutes())) || skips >= MAX_GAP_SKIPS) return at.getTime();
    }
  };
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
