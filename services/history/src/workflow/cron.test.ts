import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '@hourglass/common';
import { cronBackoffMs, validateCronSchedule } from './cron';

const at = (iso: string): number => Date.parse(iso);
/** The next schedule time after `from`, as an ISO string. */
const next = (spec: string, from: string): string => new Date(at(from) + cronBackoffMs(spec, at(from))).toISOString();

describe('cron schedules', () => {
  it('evaluates a plain five-field schedule in UTC', () => {
    assert.equal(next('0 9 * * *', '2025-03-08T12:00:00Z'), '2025-03-09T09:00:00.000Z');
  });

  it('evaluates CRON_TZ= and TZ= schedules in that zone', () => {
    // 09:00 in New York on 8 March 2025 is 14:00 UTC (EST, UTC-5).
    assert.equal(next('CRON_TZ=America/New_York 0 9 * * *', '2025-03-08T12:00:00Z'), '2025-03-08T14:00:00.000Z');
    assert.equal(next('TZ=America/New_York 0 9 * * *', '2025-03-08T12:00:00Z'), '2025-03-08T14:00:00.000Z');
    assert.equal(next('CRON_TZ=Asia/Tokyo @daily', '2025-03-08T12:00:00Z'), '2025-03-08T15:00:00.000Z');
    assert.equal(next('CRON_TZ=UTC 0 9 * * *', '2025-03-08T12:00:00Z'), '2025-03-09T09:00:00.000Z');
  });

  it('keeps the wall-clock time across a spring-forward DST transition', () => {
    // Clocks in New York jump from 02:00 EST to 03:00 EDT on 9 March 2025.
    const spec = 'CRON_TZ=America/New_York 0 9 * * *';
    assert.equal(next(spec, '2025-03-08T14:00:00Z'), '2025-03-09T13:00:00.000Z', '09:00 EDT is 13:00 UTC');
    assert.equal(next(spec, '2025-03-09T13:00:00Z'), '2025-03-10T13:00:00.000Z');
  });

  it('keeps the wall-clock time across a fall-back DST transition, and hourly schedules keep every hour', () => {
    // Clocks in New York go back from 02:00 EDT to 01:00 EST on 2 November 2025.
    assert.equal(next('CRON_TZ=America/New_York 0 9 * * *', '2025-11-01T13:00:00Z'), '2025-11-02T14:00:00.000Z', '09:00 EST is 14:00 UTC');
    const hourly = 'CRON_TZ=America/New_York 0 * * * *';
    assert.equal(next(hourly, '2025-11-02T04:30:00Z'), '2025-11-02T05:00:00.000Z', '01:00 EDT');
    assert.equal(next(hourly, '2025-11-02T05:00:00Z'), '2025-11-02T06:00:00.000Z', '01:00 EST, one hour later');
    assert.equal(next(hourly, '2025-11-02T06:00:00Z'), '2025-11-02T07:00:00.000Z');
  });

  it('skips a wall-clock time that a spring-forward gap removes, as robfig/cron does', () => {
    // 02:30 does not exist in New York on 9 March 2025: the next run is 02:30 EDT on 10 March.
    assert.equal(next('CRON_TZ=America/New_York 30 2 * * *', '2025-03-08T12:00:00Z'), '2025-03-10T06:30:00.000Z');
  });

  it('counts a cron chain from the closing run start in the zone', () => {
    // A run started at 09:00 EST on 8 March closing at 10:00 UTC the next day waits for 09:00 EDT.
    const spec = 'CRON_TZ=America/New_York 0 9 * * *';
    assert.equal(cronBackoffMs(spec, at('2025-03-09T10:00:00Z'), at('2025-03-08T14:00:00Z')), 3 * 3_600_000);
  });

  it('ignores the zone for @every, a constant delay', () => {
    assert.equal(next('CRON_TZ=Asia/Tokyo @every 90s', '2025-03-08T12:00:00Z'), '2025-03-08T12:01:30.000Z');
  });

  it('keeps the prefix in the validated schedule', () => {
    assert.equal(validateCronSchedule('  CRON_TZ=Europe/Paris 0 8 * * 1-5 '), 'CRON_TZ=Europe/Paris 0 8 * * 1-5');
  });

  it('refuses an unknown zone, an empty zone and a zone without a schedule, naming the problem', () => {
    assert.throws(
      () => validateCronSchedule('CRON_TZ=Mars/Olympus_Mons 0 9 * * *'),
      (err: unknown) => err instanceof InvalidArgumentError && /unknown time zone "Mars\/Olympus_Mons"/.test(err.message) && /IANA/.test(err.message),
    );
    assert.throws(() => validateCronSchedule('TZ= 0 9 * * *'), (err: unknown) => err instanceof InvalidArgumentError && /unknown time zone ""/.test(err.message));
    assert.throws(
      () => validateCronSchedule('CRON_TZ=Europe/Paris'),
      (err: unknown) => err instanceof InvalidArgumentError && /must be followed by a schedule/.test(err.message),
    );
    assert.throws(
      () => validateCronSchedule('CRON_TZ=Europe/Paris 0 9 * *'),
      (err: unknown) => err instanceof InvalidArgumentError && /five fields/.test(err.message),
    );
  });
});
