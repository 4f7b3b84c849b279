/** CloudService GetUsage: daily summaries per namespace, the running day incomplete, day-aligned ranges, pages of days. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { InvalidArgumentError, msToTimestamp, temporal, timestampToMs } from '@hourglass/common';
import type { Persistence } from '@hourglass/persistence';
import { getUsage } from './cloud-usage';
import { UsageReader } from './usage-reader';
import { addNamespace, addUsage, usageStore } from './testing';

const H = 3_600_000;
const D = 24 * H;
const NOV = Date.UTC(2026, 10, 1);
const usage = temporal.api.cloud.usage.v1;

let store: Persistence | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('GetUsage', () => {
  it('answers one summary per day with a record group per namespace; today is incomplete; later days are not listed', async () => {
    const { persistence, clock } = await usageStore(NOV + 2 * D + 5 * H);
    store = persistence;
    const a = await addNamespace(persistence, 'acct1', 'orders.acct1');
    await addNamespace(persistence, 'acct2', 'other.acct2');
    await addUsage(persistence, [
      { namespaceId: a.id, hourStart: NOV + 3 * H, recordType: 'signal', amount: 2 },
      { namespaceId: a.id, hourStart: NOV + 4 * H, recordType: 'workflow_started', amount: 3 },
      { namespaceId: a.id, hourStart: NOV + 4 * H, recordType: 'active_storage_byte_seconds', amount: 7200 },
      { namespaceId: a.id, hourStart: NOV + 2 * D + H, recordType: 'timer_started', amount: 1 },
      { namespaceId: a.id, hourStart: NOV + 2 * D + H, recordType: 'retained_storage_byte_seconds', amount: 10 },
      { namespaceId: 'id-other.acct2', hourStart: NOV + 3 * H, recordType: 'signal', amount: 99 },
    ]);
    const reader = new UsageReader(persistence, clock);
    const res = await getUsage(reader, 'acct1', {});
    assert.deepEqual(
      res.summaries?.map((s) => [timestampToMs(s.startTime), timestampToMs(s.endTime), s.incomplete]),
      [
        [NOV, NOV + D, false],
        [NOV + D, NOV + 2 * D, false],
        [NOV + 2 * D, NOV + 3 * D, true],
      ],
    );
    const records = (i: number) => res.summaries?.[i]?.recordGroups?.map((g) => [g.groupBys?.[0]?.value, g.records?.map((r) => [r.type, r.unit, r.value])]);
    assert.deepEqual(records(0), [
      [
        'orders.acct1',
        [
          [usage.RecordType.RECORD_TYPE_ACTIONS, usage.RecordUnit.RECORD_UNIT_NUMBER, 5],
          [usage.RecordType.RECORD_TYPE_ACTIVE_STORAGE, usage.RecordUnit.RECORD_UNIT_BYTE_SECONDS, 7200],
          [usage.RecordType.RECORD_TYPE_RETAINED_STORAGE, usage.RecordUnit.RECORD_UNIT_BYTE_SECONDS, 0],
        ],
      ],
    ]);
    assert.deepEqual(records(1), [], 'a day without usage has no groups');
    assert.deepEqual(records(2)?.[0]?.[1], [
      [usage.RecordType.RECORD_TYPE_ACTIONS, usage.RecordUnit.RECORD_UNIT_NUMBER, 1],
      [usage.RecordType.RECORD_TYPE_ACTIVE_STORAGE, usage.RecordUnit.RECORD_UNIT_BYTE_SECONDS, 0],
      [usage.RecordType.RECORD_TYPE_RETAINED_STORAGE, usage.RecordUnit.RECORD_UNIT_BYTE_SECONDS, 10],
    ]);
    assert.equal(res.nextPageToken, '');
  });

  it('pages by days, and refuses ranges that are not whole UTC days or a bad page token', async () => {
    const { persistence, clock } = await usageStore(NOV + 10 * D);
    store = persistence;
    const reader = new UsageReader(persistence, clock);
    const range = { startTimeInclusive: msToTimestamp(NOV), endTimeExclusive: msToTimestamp(NOV + 5 * D) };
    const first = await getUsage(reader, 'acct1', { ...range, pageSize: 2 });
    assert.equal(first.summaries?.length, 2);
    const second = await getUsage(reader, 'acct1', { ...range, pageSize: 2, pageToken: first.nextPageToken ?? '' });
    assert.equal(timestampToMs(second.summaries?.[0]?.startTime), NOV + 2 * D);
    const third = await getUsage(reader, 'acct1', { ...range, pageSize: 2, pageToken: second.nextPageToken ?? '' });
    assert.equal(third.summaries?.length, 1);
    assert.equal(third.nextPageToken, '');
    for (const bad of [
      { startTimeInclusive: msToTimestamp(NOV + H), endTimeExclusive: msToTimestamp(NOV + D) },
      { startTimeInclusive: msToTimestamp(NOV + D), endTimeExclusive: msToTimestamp(NOV) },
      { ...range, pageToken: 'abc' },
      { ...range, pageSize: 1000 },
    ]) {
      await assert.rejects(getUsage(reader, 'acct1', bad), InvalidArgumentError);
    }
  });
});
