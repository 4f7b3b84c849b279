/**
 * Spec compilation: calendars in IANA time zones across DST, intervals with phase, jitter bounds,
 * skip calendars, start/end, cron strings, and the INVALID_ARGUMENT of bad specs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, msToDuration, msToTimestamp, type temporal } from '@hourglass/common';
import { CompiledSpec, canonicalizeSpec } from './spec';

type Spec = temporal.api.schedule.v1.IScheduleSpec;

const MIN = 60_000;
const HOUR = 60 * MIN;

function times(spec: Spec, fromIso: string, count: number, seed = 'seed'): string[] {
  const compiled = new CompiledSpec(canonicalizeSpec(spec), seed);
  const out: string[] = [];
  let t = Date.parse(fromIso);
  for (let i = 0; i < count; i++) {
    const n = compiled.next(t);
    if (!n) break;
    out.push(new Date(n.actual).toISOString());
    t = n.nominal;
  }
  return out;
}

const at = (hour: number, minute = 0) => ({ hour: [{ start: hour }], minute: [{ start: minute }], second: [{ start: 0 }] });

describe('schedule spec: calendars in a time zone', () => {
  it('09:30 in New York follows the offset across the spring DST change', () => {
    const spec = { structuredCalendar: [at(9, 30)], timezoneName: 'America/New_York' };
    assert.deepEqual(times(spec, '2030-03-09T00:00:00Z', 3), ['2030-03-09T14:30:00.000Z', '2030-03-10T13:30:00.000Z', '2030-03-11T13:30:00.000Z']);
  });

  it('a wall-clock time a DST jump skips does not occur that day', () => {
    const spec = { structuredCalendar: [at(2, 30)], timezoneName: 'America/New_York' };
    // 2030-03-10 02:30 does not exist in New York (02:00 EST -> 03:00 EDT).
    assert.deepEqual(times(spec, '2030-03-09T00:00:00Z', 2), ['2030-03-09T07:30:00.000Z', '2030-03-11T06:30:00.000Z']);
  });

  it('a wall-clock time a DST fall-back repeats fires once (its first occurrence)', () => {
    const spec = { structuredCalendar: [at(1, 30)], timezoneName: 'America/New_York' };
    // 2030-11-03 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
    assert.deepEqual(times(spec, '2030-11-02T00:00:00Z', 3), ['2030-11-02T05:30:00.000Z', '2030-11-03T05:30:00.000Z', '2030-11-04T06:30:00.000Z']);
  });

  it('day of week and day of month must both match; years and months restrict', () => {
    // Friday the 13th at noon UTC.
    const spec = { structuredCalendar: [{ ...at(12), dayOfMonth: [{ start: 13 }], dayOfWeek: [{ start: 5 }] }] };
    assert.deepEqual(times(spec, '2026-01-01T00:00:00Z', 2), ['2026-02-13T12:00:00.000Z', '2026-03-13T12:00:00.000Z']);
    const leap = { structuredCalendar: [{ ...at(0), dayOfMonth: [{ start: 29 }], month: [{ start: 2 }] }] };
    assert.deepEqual(times(leap, '2026-01-01T00:00:00Z', 2), ['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z']);
    const years = { structuredCalendar: [{ ...at(0), dayOfMonth: [{ start: 1 }], month: [{ start: 1 }], year: [{ start: 2030, end: 2031 }] }] };
    assert.deepEqual(times(years, '2026-01-01T00:00:00Z', 3), ['2030-01-01T00:00:00.000Z', '2031-01-01T00:00:00.000Z']);
  });

  it('ranges with steps, and seconds', () => {
    const spec = { structuredCalendar: [{ second: [{ start: 0, end: 59, step: 20 }], minute: [{ start: 0, end: 59 }], hour: [{ start: 0, end: 23 }] }] };
    assert.deepEqual(times(spec, '2026-05-01T10:00:05Z', 4), ['2026-05-01T10:00:20.000Z', '2026-05-01T10:00:40.000Z', '2026-05-01T10:01:00.000Z', '2026-05-01T10:01:20.000Z']);
  });
});

describe('schedule spec: intervals, exclusions, start and end', () => {
  it('an interval with a phase', () => {
    const spec = { interval: [{ interval: msToDuration(HOUR), phase: msToDuration(15 * MIN) }] };
    assert.deepEqual(times(spec, '2030-01-01T00:20:00Z', 2), ['2030-01-01T01:15:00.000Z', '2030-01-01T02:15:00.000Z']);
    // At a matching time exactly: the next one (strictly after).
    assert.deepEqual(times(spec, '2030-01-01T01:15:00Z', 1), ['2030-01-01T02:15:00.000Z']);
  });

  it('skip calendars remove times; the union of calendars and intervals is ordered', () => {
    const spec: Spec = {
      interval: [{ interval: msToDuration(HOUR) }],
      structuredCalendar: [at(3, 30)],
      excludeStructuredCalendar: [{ hour: [{ start: 2 }], minute: [{ start: 0 }], second: [{ start: 0 }] }],
    };
    assert.deepEqual(times(spec, '2030-01-01T00:30:00Z', 4), ['2030-01-01T01:00:00.000Z', '2030-01-01T03:00:00.000Z', '2030-01-01T03:30:00.000Z', '2030-01-01T04:00:00.000Z']);
  });

  it('a long excluded run is skipped at once, not one candidate at a time', () => {
    const spec: Spec = {
      interval: [{ interval: msToDuration(1000) }],
      excludeStructuredCalendar: [{ second: [{ start: 0, end: 59 }], minute: [{ start: 0, end: 59 }], hour: [{ start: 2, end: 3 }] }],
      timezoneName: 'Europe/Berlin',
    };
    // 01:59:59 in Berlin (UTC+1 in January) is 00:59:59Z; the next time is 04:00:00 Berlin, 03:00:00Z.
    assert.deepEqual(times(spec, '2030-01-01T00:59:58Z', 2), ['2030-01-01T00:59:59.000Z', '2030-01-01T03:00:00.000Z']);
    // Every day excluded for a whole year of Mondays... a weekday-only spec over weekends.
    const weekdays: Spec = {
      interval: [{ interval: msToDuration(60_000) }],
      excludeStructuredCalendar: [{ second: [{ start: 0, end: 59 }], minute: [{ start: 0, end: 59 }], hour: [{ start: 0, end: 23 }], dayOfWeek: [{ start: 0 }, { start: 6 }] }],
    };
    // Friday 2030-01-04 23:59 UTC, then Monday 00:00.
    assert.deepEqual(times(weekdays, '2030-01-04T23:58:30Z', 2), ['2030-01-04T23:59:00.000Z', '2030-01-07T00:00:00.000Z']);
  });

  it('start and end times clip the spec', () => {
    const spec = { interval: [{ interval: msToDuration(HOUR) }], startTime: msToTimestamp(Date.parse('2030-01-01T05:00:00Z')), endTime: msToTimestamp(Date.parse('2030-01-01T07:00:00Z')) };
    assert.deepEqual(times(spec, '2030-01-01T00:00:00Z', 5), ['2030-01-01T05:00:00.000Z', '2030-01-01T06:00:00.000Z', '2030-01-01T07:00:00.000Z']);
  });
});

describe('schedule spec: jitter', () => {
  it('stays below the jitter and below the gap to the next time, and is deterministic per schedule', () => {
    const spec = canonicalizeSpec({ interval: [{ interval: msToDuration(MIN) }], jitter: msToDuration(20_000) });
    const a = new CompiledSpec(spec, 'schedule-a');
    const b = new CompiledSpec(spec, 'schedule-a');
    const c = new CompiledSpec(spec, 'schedule-c');
    const delays = new Set<number>();
    let differs = false;
    let t = Date.parse('2030-01-01T00:00:00Z');
    for (let i = 0; i < 50; i++) {
      const n = a.next(t) as { nominal: number; actual: number };
      const delay = n.actual - n.nominal;
      assert.ok(delay >= 0 && delay < 20_000, `jitter ${delay} ms within [0, 20 s)`);
      assert.deepEqual(b.next(t), n, 'same schedule, same time: same jitter');
      if (c.next(t)?.actual !== n.actual) differs = true;
      delays.add(delay);
      t = n.nominal;
    }
    assert.ok(delays.size > 10, `jitter varies (${delays.size} distinct delays)`);
    assert.ok(differs, 'another schedule jitters differently');
    // A jitter larger than the interval is bounded by the interval.
    const wide = new CompiledSpec(canonicalizeSpec({ interval: [{ interval: msToDuration(10_000) }], jitter: msToDuration(HOUR) }), 's');
    t = 0;
    for (let i = 0; i < 50; i++) {
      const n = wide.next(t) as { nominal: number; actual: number };
      assert.ok(n.actual - n.nominal < 10_000, 'bounded by the gap to the next nominal time');
      t = n.nominal;
    }
  });
});

describe('schedule spec: cron strings', () => {
  it('are compiled into structured calendars and intervals', () => {
    const spec = canonicalizeSpec({ cronString: ['0 12 * * MON-FRI', '@every 90m/15m'] });
    assert.equal(spec.cronString, undefined);
    assert.equal(spec.structuredCalendar?.length, 1);
    assert.equal(spec.interval?.length, 1);
    assert.deepEqual(spec.structuredCalendar?.[0]?.dayOfWeek, [{ start: 1, end: 5, step: 1 }]);
  });

  it('fire as cron does: weekdays, steps, seconds and years, descriptors, CRON_TZ', () => {
    assert.deepEqual(times({ cronString: ['0 12 * * MON-FRI'] }, '2026-12-04T13:00:00Z', 2), ['2026-12-07T12:00:00.000Z', '2026-12-08T12:00:00.000Z']);
    assert.deepEqual(times({ cronString: ['*/15 * * * *'] }, '2026-12-04T13:01:00Z', 2), ['2026-12-04T13:15:00.000Z', '2026-12-04T13:30:00.000Z']);
    assert.deepEqual(times({ cronString: ['30 0 12 1 JAN * 2031'] }, '2026-01-01T00:00:00Z', 2), ['2031-01-01T12:00:30.000Z']);
    assert.deepEqual(times({ cronString: ['@daily'] }, '2026-12-04T13:00:00Z', 1), ['2026-12-05T00:00:00.000Z']);
    assert.deepEqual(times({ cronString: ['CRON_TZ=Asia/Tokyo 0 9 * * *'] }, '2026-12-04T13:00:00Z', 1), ['2026-12-05T00:00:00.000Z']);
    assert.equal(canonicalizeSpec({ cronString: ['CRON_TZ=Asia/Tokyo 0 9 * * *'] }).timezoneName, 'Asia/Tokyo');
    assert.deepEqual(times({ cronString: ['@every 90m/15m'] }, '1970-01-01T00:00:00Z', 2), ['1970-01-01T00:15:00.000Z', '1970-01-01T01:45:00.000Z']);
    assert.deepEqual(times({ cronString: ['0 12 * * * # lunch'] }, '2026-12-04T13:00:00Z', 1), ['2026-12-05T12:00:00.000Z']);
  });
});

describe('schedule spec: bad specs are INVALID_ARGUMENT naming what is wrong', () => {
  const cases: [string, Spec, RegExp][] = [
    ['minute out of range', { cronString: ['61 * * * *'] }, /cronString\[0\].*minute "61" is outside 0-59/],
    ['wrong field count', { cronString: ['* * *'] }, /has 3 fields/],
    ['not a number', { cronString: ['x * * * *'] }, /minute value "x" is not a number/],
    ['unknown descriptor', { cronString: ['@sometimes'] }, /unknown descriptor/],
    ['unknown time zone', { timezoneName: 'Mars/Olympus', interval: [{ interval: msToDuration(MIN) }] }, /unknown time zone "Mars\/Olympus"/],
    ['unknown CRON_TZ', { cronString: ['CRON_TZ=Nowhere/City 0 * * * *'] }, /unknown time zone "Nowhere\/City"/],
    ['zones disagree', { timezoneName: 'UTC', cronString: ['CRON_TZ=Asia/Tokyo 0 * * * *'] }, /names time zone "Asia\/Tokyo" but the spec's is "UTC"/],
    ['interval 0', { interval: [{ interval: msToDuration(0) }] }, /interval\[0\].interval must be at least 1s/],
    ['negative jitter', { interval: [{ interval: msToDuration(MIN) }], jitter: msToDuration(-5) }, /jitter must not be negative/],
    ['hour 24', { structuredCalendar: [{ hour: [{ start: 24 }] }] }, /structuredCalendar\[0\].hour range 24-24 is outside 0-23/],
    ['end before start', { startTime: msToTimestamp(2000), endTime: msToTimestamp(1000) }, /endTime must not be before startTime/],
  ];
  for (const [what, spec, message] of cases) {
    it(what, () => {
      assert.throws(
        () => canonicalizeSpec(spec),
        (err: unknown) => err instanceof InvalidArgumentError && message.test(err.message),
      );
    });
  }
});
