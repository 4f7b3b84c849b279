/**
 * A schedule's spec compiled into "the next action time after t", as Temporal's scheduler computes
 * it (service/worker/scheduler/spec.go): the union of structured calendars (cron strings and string
 * calendars are turned into structured ones when the schedule is written) and intervals, minus the
 * exclusion calendars, clipped to [startTime, endTime], each nominal time delayed by a deterministic
 * jitter smaller than both `jitter` and the gap to the following nominal time.
 *
 * Calendars match wall-clock time in the spec's IANA time zone (UTC by default), with luxon: a
 * wall-clock time that a DST jump skips does not occur that day; one that a DST fall-back repeats
 * matches once (its first occurrence). All fields of a calendar must match (day of month AND day of
 * week). Work per call is bounded: at most a few thousand field steps.
 */
import { createHash } from 'node:crypto';
import { DateTime, IANAZone } from 'luxon';
import { InvalidArgumentError, durationToMs, msToDuration, quote, temporal, timestampToMs } from '@hourglass/common';

type Spec = temporal.api.schedule.v1.IScheduleSpec;
type StructuredCalendar = temporal.api.schedule.v1.IStructuredCalendarSpec;
type Range = temporal.api.schedule.v1.IRange;

const SECOND = 1000;
const MIN_MS = 60 * SECOND;
const HOUR_MS = 60 * MIN_MS;
const DAY_MS = 24 * HOUR_MS;
/** Years a calendar may name (Temporal's bound too). */
const MIN_YEAR = 2000;
const MAX_YEAR = 2100;
/** Field steps one `next` may take before it gives up (a calendar that never matches, e.g. Feb 30). */
const MAX_STEPS = 20_000;

interface FieldDef {
  name: keyof Omit<StructuredCalendar, 'comment'>;
  min: number;
  max: number;
  /** Values when the field has no ranges. */
  empty: 'all' | 'zero';
}

const FIELDS: readonly FieldDef[] = [
  { name: 'second', min: 0, max: 59, empty: 'zero' },
  { name: 'minute', min: 0, max: 59, empty: 'zero' },
  { name: 'hour', min: 0, max: 23, empty: 'zero' },
  { name: 'dayOfMonth', min: 1, max: 31, empty: 'all' },
  { name: 'month', min: 1, max: 12, empty: 'all' },
  { name: 'year', min: MIN_YEAR, max: MAX_YEAR, empty: 'all' },
  { name: 'dayOfWeek', min: 0, max: 6, empty: 'all' },
];

/** A calendar as sets of allowed values per field. */
interface CalendarMatcher {
  second: Set<number>;
  minute: Set<number>;
  hour: Set<number>;
  dayOfMonth: Set<number>;
  month: Set<number>;
  year: Set<number> | undefined;
  dayOfWeek: Set<number>;
}

function invalid(message: string): InvalidArgumentError {
  return new InvalidArgumentError(`schedule spec: ${message}`);
}

function expand(def: FieldDef, ranges: readonly Range[] | null | undefined, where: string): Set<number> | undefined {
  const list = ranges ?? [];
  if (list.length === 0) {
    if (def.empty === 'zero') return new Set([0]);
    return def.name === 'year' ? undefined : fill(def.min, def.max, 1);
  }
  const out = new Set<number>();
  for (const r of list) {
    const start = r.start ?? 0;
    let end = r.end ?? 0;
    if (end < start) end = start;
    const step = r.step && r.step > 0 ? r.step : 1;
    // Day of week 7 is Sunday, as in cron.
    const max = def.name === 'dayOfWeek' ? 7 : def.max;
    if (start < def.min || end > max) throw invalid(`${where}.${def.name} range ${start}-${end} is outside ${def.min}-${def.max}`);
    for (let v = start; v <= end; v += step) out.add(def.name === 'dayOfWeek' ? v % 7 : v);
  }
  return out;
}

function fill(min: number, max: number, step: number): Set<number> {
  const out = new Set<number>();
  for (let v = min; v <= max; v += step) out.add(v);
  return out;
}

function compileCalendar(cal: StructuredCalendar, where: string): CalendarMatcher {
  const sets = Object.fromEntries(FIELDS.map((f) => [f.name, expand(f, cal[f.name], where)]));
  return sets as unknown as CalendarMatcher;
}

/** Naive wall-clock arithmetic: a local time as if it were UTC milliseconds. */
function naiveParts(ms: number): { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: number } {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), weekday: d.getUTCDay() };
}

/** The first naive time >= from that the calendar matches, or undefined past MAX_YEAR. */
function nextNaive(cal: CalendarMatcher, from: number): number | undefined {
  let t = from;
  for (let steps = 0; steps < MAX_STEPS; steps++) {
    const p = naiveParts(t);
    if (p.year > MAX_YEAR) return undefined;
    if (cal.year && !cal.year.has(p.year)) {
      t = Date.UTC(p.year + 1, 0, 1);
      continue;
    }
    if (!cal.month.has(p.month)) {
      t = Date.UTC(p.year, p.month, 1);
      continue;
    }
    if (!cal.dayOfMonth.has(p.day) || !cal.dayOfWeek.has(p.weekday)) {
      t = Date.UTC(p.year, p.month - 1, p.day + 1);
      continue;
    }
    if (!cal.hour.has(p.hour)) {
      t = Date.UTC(p.year, p.month - 1, p.day, p.hour + 1);
      continue;
    }
    if (!cal.minute.has(p.minute)) {
      t = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute + 1);
      continue;
    }
    if (!cal.second.has(p.second)) {
      t += SECOND;
      continue;
    }
    return t;
  }
  return undefined;
}

/** Local wall-clock time of `ms` in `zone`, as a naive millisecond count. */
function toNaive(ms: number, zone: string): number {
  const dt = DateTime.fromMillis(ms, { zone });
  return Date.UTC(dt.year, dt.month - 1, dt.day, dt.hour, dt.minute, dt.second);
}

/**
 * The instant of a naive wall-clock time in `zone`: undefined when that time does not exist there
 * (a DST gap); its first occurrence when it happens twice (a DST fall-back).
 */
function fromNaive(naive: number, zone: string): number | undefined {
  const z = IANAZone.create(zone);
  let first: number | undefined;
  // The offsets in force around that time: one of them maps the wall-clock time to each occurrence.
  for (const probe of [naive - 12 * 3_600_000, naive, naive + 12 * 3_600_000]) {
    const instant = naive - z.offset(probe) * 60_000;
    if (toNaive(instant, zone) === naive && (first === undefined || instant < first)) first = instant;
  }
  return first;
}

/** The first instant strictly after `after` that the calendar matches in `zone`. */
function nextCalendarTime(cal: CalendarMatcher, zone: string, after: number): number | undefined {
  let naive = toNaive(Math.floor(after / SECOND) * SECOND, zone) + SECOND;
  for (let tries = 0; tries < 1000; tries++) {
    const found = nextNaive(cal, naive);
    if (found === undefined) return undefined;
    const instant = fromNaive(found, zone);
    if (instant !== undefined && instant > after) return instant;
    naive = found + SECOND;
  }
  return undefined;
}

const FULL = { second: 60, minute: 60, hour: 24 };

/**
 * The first instant after `at` (a time the calendar matches) that it does not match, found by whole
 * seconds, minutes, hours or days at a time (an "every second, skip 02:00-03:59" spec must not step
 * through 7,200 excluded seconds). Undefined when no such time is found quickly.
 */
function endOfMatchingRun(cal: CalendarMatcher, zone: string, at: number): number | undefined {
  let unit = SECOND;
  if (cal.second.size === FULL.second) {
    unit = MIN_MS;
    if (cal.minute.size === FULL.minute) {
      unit = HOUR_MS;
      if (cal.hour.size === FULL.hour) unit = DAY_MS;
    }
  }
  let naive = toNaive(at, zone);
  for (let i = 0; i < 400; i++) {
    naive = Math.floor(naive / unit) * unit + unit;
    if (nextNaive(cal, naive) !== naive) return fromNaive(naive, zone);
  }
  return undefined;
}

function calendarMatches(cal: CalendarMatcher, zone: string, at: number): boolean {
  if (at % SECOND !== 0) return false;
  const naive = toNaive(at, zone);
  return nextNaive(cal, naive) === naive;
}

export interface IntervalDef {
  intervalMs: number;
  phaseMs: number;
}

export interface ActionTime {
  /** The time the spec names. */
  nominal: number;
  /** The nominal time plus jitter: when the action is taken. */
  actual: number;
}

/** A spec ready to answer "what is the next action time after t". */
export class CompiledSpec {
  private readonly calendars: CalendarMatcher[];
  private readonly excludes: CalendarMatcher[];
  private readonly intervals: IntervalDef[];
  readonly zone: string;
  private readonly startMs: number | undefined;
  private readonly endMs: number | undefined;
  private readonly jitterMs: number;

  /** `spec` must be canonical (see canonicalizeSpec); `seed` makes the jitter of each schedule its own. */
  constructor(spec: Spec, private readonly seed: string) {
    this.zone = spec.timezoneName || 'UTC';
    this.calendars = (spec.structuredCalendar ?? []).map((c, i) => compileCalendar(c, `structuredCalendar[${i}]`));
    this.excludes = (spec.excludeStructuredCalendar ?? []).map((c, i) => compileCalendar(c, `excludeStructuredCalendar[${i}]`));
    this.intervals = (spec.interval ?? []).map((iv) => ({ intervalMs: durationToMs(iv.interval) ?? 0, phaseMs: durationToMs(iv.phase) ?? 0 }));
    this.startMs = timestampToMs(spec.startTime);
    this.endMs = timestampToMs(spec.endTime);
    this.jitterMs = durationToMs(spec.jitter) ?? 0;
  }

  /** The nominal time strictly after `after` (no jitter), or undefined when the spec has no more. */
  nextNominal(after: number): number | undefined {
    let t = after;
    if (this.startMs !== undefined && t < this.startMs - 1) t = this.startMs - 1;
    for (let guard = 0; guard < 1000; guard++) {
      let best: number | undefined;
      for (const cal of this.calendars) {
        const n = nextCalendarTime(cal, this.zone, t);
        if (n !== undefined && (best === undefined || n < best)) best = n;
      }
      for (const iv of this.intervals) {
        const n = iv.phaseMs + iv.intervalMs * (Math.floor((t - iv.phaseMs) / iv.intervalMs) + 1);
        if (best === undefined || n < best) best = n;
      }
      if (best === undefined) return undefined;
      if (this.endMs !== undefined && best > this.endMs) return undefined;
      const excludedBy = this.excludes.filter((cal) => calendarMatches(cal, this.zone, best as number));
      if (excludedBy.length === 0) return best;
      // Past the whole excluded run at once (each exclusion's), not one candidate at a time.
      let resume = best;
      for (const cal of excludedBy) resume = Math.max(resume, (endOfMatchingRun(cal, this.zone, best) ?? best + 1) - 1);
      t = resume;
    }
    return undefined;
  }

  /** The next action time after `after` (by nominal time), with its jitter. */
  next(after: number): ActionTime | undefined {
    const nominal = this.nextNominal(after);
    if (nominal === undefined) return undefined;
    return { nominal, actual: nominal + this.jitterOf(nominal) };
  }

  /** The action times with after < nominal <= until, at most `limit` of them. */
  between(after: number, until: number, limit: number): ActionTime[] {
    const out: ActionTime[] = [];
    let t = after;
    while (out.length < limit) {
      const n = this.next(t);
      if (!n || n.nominal > until) break;
      out.push(n);
      t = n.nominal;
    }
    return out;
  }

  /** Deterministic per (schedule, nominal time): a restart computes the same actual time. */
  private jitterOf(nominal: number): number {
    if (this.jitterMs <= 0) return 0;
    const following = this.nextNominal(nominal);
    const bound = following === undefined ? this.jitterMs : Math.min(this.jitterMs, following - nominal);
    if (bound <= 1) return 0;
    const digest = createHash('sha256').update(`${this.seed}\u0000${nominal}`).digest();
    return digest.readUInt32BE(0) % bound;
  }
}

// ---------------------------------------------------------------------------------------------
// Canonical form: what is stored and what DescribeSchedule answers (cron strings and string
// calendars become structured calendars and intervals, as Temporal's server does).

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function parseGoDuration(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((total, p) => total + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0);
}

function parseValue(text: string, def: FieldDef, names: readonly string[] | undefined, where: string): number {
  const lower = text.toLowerCase();
  const named = names ? names.indexOf(lower.slice(0, 3)) : -1;
  if (names && named >= 0 && /^[a-z]+$/.test(lower)) return def.name === 'month' ? named + 1 : named;
  if (!/^\d+$/.test(text)) throw invalid(`${where}: ${def.name} value ${quote(text, 20)} is not a number${names ? ' or a name' : ''}`);
  return Number(text);
}

/** A cron/calendar field ("*", "1,5", "1-5/2", "*\/10", "MON-FRI") as ranges. */
function parseField(text: string, def: FieldDef, where: string): Range[] {
  const names = def.name === 'month' ? MONTHS : def.name === 'dayOfWeek' ? DAYS : undefined;
  const max = def.name === 'dayOfWeek' ? 7 : def.max;
  const out: Range[] = [];
  for (const part of text.split(',')) {
    const [base = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step <= 0) throw invalid(`${where}: ${def.name} step ${quote(stepText ?? '', 20)} must be a positive integer`);
    let start: number;
    let end: number;
    if (base === '*' || base === '?') {
      start = def.min;
      end = def.max;
    } else {
      const [a = '', b] = base.split('-');
      start = parseValue(a, def, names, where);
      end = b === undefined ? (stepText === undefined ? start : max) : parseValue(b, def, names, where);
    }
    if (start < def.min || end > max || end < start) throw invalid(`${where}: ${def.name} ${quote(part, 20)} is outside ${def.min}-${def.max}`);
    out.push({ start, end, step });
  }
  return out;
}

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
};

function isKnownZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

interface ParsedCron {
  calendar?: StructuredCalendar;
  interval?: temporal.api.schedule.v1.IIntervalSpec;
  zone?: string;
}

/**
 * A cron string as Temporal accepts it in a ScheduleSpec: 5 fields (minute hour day-of-month month
 * day-of-week), 6 (seconds first) or 7 (year last); descriptors (@daily...); `@every 1h[/15m]`;
 * an optional `CRON_TZ=<zone> ` prefix and `# comment` suffix.
 */
export function parseCronString(text: string, where: string): ParsedCron {
  let rest = text.trim();
  let comment: string | undefined;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    comment = rest.slice(hash + 1).trim();
    rest = rest.slice(0, hash).trim();
  }
  let zone: string | undefined;
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(rest);
  if (tz) {
    zone = tz[1] as string;
    if (!isKnownZone(zone)) throw invalid(`${where}: unknown time zone ${quote(zone, 40)}`);
    rest = rest.slice(tz[0].length).trim();
  }
  if (rest.startsWith('@every')) {
    const [every = '', phase] = rest.slice('@every'.length).trim().split('/');
    const intervalMs = parseGoDuration(every);
    const phaseMs = phase === undefined ? 0 : parseGoDuration(phase);
    if (!intervalMs || phaseMs === undefined) throw invalid(`${where}: ${quote(text, 40)} is not "@every <duration>[/<phase>]"`);
    return { interval: { interval: msToDuration(intervalMs), phase: msToDuration(phaseMs) }, ...(zone ? { zone } : {}) };
  }
  const expanded = DESCRIPTORS[rest.toLowerCase()] ?? rest;
  if (expanded.startsWith('@')) throw invalid(`${where}: unknown descriptor ${quote(rest, 20)}`);
  let fields = expanded.split(/\s+/);
  if (fields.length === 5) fields = ['0', ...fields];
  if (fields.length === 6) fields = [...fields, '*'];
  if (fields.length !== 7) throw invalid(`${where}: ${quote(text, 40)} has ${expanded.split(/\s+/).length} fields; a cron string has 5, 6 or 7`);
  const [sec, min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string, string];
  const def = (name: FieldDef['name']) => FIELDS.find((f) => f.name === name) as FieldDef;
  const calendar: StructuredCalendar = {
    second: parseField(sec, def('second'), where),
    minute: parseField(min, def('minute'), where),
    hour: parseField(hour, def('hour'), where),
    dayOfMonth: parseField(dom, def('dayOfMonth'), where),
    month: parseField(month, def('month'), where),
    dayOfWeek: parseField(dow, def('dayOfWeek'), where),
    year: year === '*' ? [] : parseField(year, def('year'), where),
    ...(comment ? { comment } : {}),
  };
  return { calendar, ...(zone ? { zone } : {}) };
}

function calendarFromStrings(cal: temporal.api.schedule.v1.ICalendarSpec, where: string): StructuredCalendar {
  const def = (name: FieldDef['name']) => FIELDS.find((f) => f.name === name) as FieldDef;
  const field = (name: FieldDef['name'], value: string | null | undefined, dflt: string): Range[] => {
    const text = value || dflt;
    return name === 'year' && text === '*' ? [] : parseField(text, def(name), where);
  };
  return {
    second: field('second', cal.second, '0'),
    minute: field('minute', cal.minute, '0'),
    hour: field('hour', cal.hour, '0'),
    dayOfMonth: field('dayOfMonth', cal.dayOfMonth, '*'),
    month: field('month', cal.month, '*'),
    year: field('year', cal.year, '*'),
    dayOfWeek: field('dayOfWeek', cal.dayOfWeek, '*'),
    ...(cal.comment ? { comment: cal.comment } : {}),
  };
}

/** Range checks of a structured calendar; throws INVALID_ARGUMENT naming the field. */
function checkStructured(cal: StructuredCalendar, where: string): StructuredCalendar {
  compileCalendar(cal, where);
  return cal;
}

/**
 * Validates a spec and returns its canonical form (what is stored and described). Errors are
 * INVALID_ARGUMENT naming the offending field: bad cron, unknown time zone, interval <= 0...
 */
export function canonicalizeSpec(spec: Spec | null | undefined): Spec {
  const s = spec ?? {};
  let zone = s.timezoneName || '';
  if (zone && !isKnownZone(zone)) throw invalid(`unknown time zone ${quote(zone, 40)} (timezoneName must be an IANA zone such as "America/New_York")`);
  if (s.timezoneData && s.timezoneData.length > 0) throw invalid('timezoneData is not supported; name the zone in timezoneName');
  const structured: StructuredCalendar[] = (s.structuredCalendar ?? []).map((c, i) => checkStructured(c, `structuredCalendar[${i}]`));
  const intervals: temporal.api.schedule.v1.IIntervalSpec[] = [];
  for (const [i, c] of (s.calendar ?? []).entries()) structured.push(calendarFromStrings(c, `calendar[${i}]`));
  for (const [i, text] of (s.cronString ?? []).entries()) {
    const parsed = parseCronString(text, `cronString[${i}]`);
    if (parsed.zone) {
      if (zone && zone !== parsed.zone) throw invalid(`cronString[${i}] names time zone ${quote(parsed.zone, 40)} but the spec's is ${quote(zone, 40)}`);
      zone = parsed.zone;
    }
    if (parsed.calendar) structured.push(parsed.calendar);
    if (parsed.interval) intervals.push(parsed.interval);
  }
  for (const [i, iv] of (s.interval ?? []).entries()) {
    const every = durationToMs(iv.interval) ?? 0;
    const phase = durationToMs(iv.phase) ?? 0;
    if (every < SECOND) throw invalid(`interval[${i}].interval must be at least 1s, got ${every}ms`);
    if (phase < 0) throw invalid(`interval[${i}].phase must not be negative`);
    intervals.push({ interval: msToDuration(every), phase: msToDuration(phase % every) });
  }
  const excludes = (s.excludeStructuredCalendar ?? []).map((c, i) => checkStructured(c, `excludeStructuredCalendar[${i}]`));
  for (const [i, c] of (s.excludeCalendar ?? []).entries()) excludes.push(calendarFromStrings(c, `excludeCalendar[${i}]`));
  const jitter = durationToMs(s.jitter) ?? 0;
  if (jitter < 0) throw invalid('jitter must not be negative');
  const start = timestampToMs(s.startTime);
  const end = timestampToMs(s.endTime);
  if (start !== undefined && end !== undefined && end < start) throw invalid('endTime must not be before startTime');
  return {
    structuredCalendar: structured,
    interval: intervals,
    excludeStructuredCalendar: excludes,
    ...(s.startTime ? { startTime: s.startTime } : {}),
    ...(s.endTime ? { endTime: s.endTime } : {}),
    ...(jitter > 0 ? { jitter: msToDuration(jitter) } : {}),
    ...(zone ? { timezoneName: zone } : {}),
  };
}
