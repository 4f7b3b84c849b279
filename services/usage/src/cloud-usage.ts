/**
 * CloudService GetUsage: daily Summary rows (UTC days) with one record group per namespace —
 * RECORD_TYPE_ACTIONS (NUMBER), RECORD_TYPE_ACTIVE_STORAGE and RECORD_TYPE_RETAINED_STORAGE
 * (BYTE_SECONDS) — as Temporal Cloud answers it. A day still running is `incomplete`.
 */
import { InvalidArgumentError, msToTimestamp, temporal, timestampToMs } from '@hourglass/common';
import { DAY_MS, type UsageReader } from './usage-reader';

const usage = temporal.api.cloud.usage.v1;
const DEFAULT_PAGE_DAYS = 31;
const MAX_PAGE_DAYS = 100;

export async function getUsage(
  reader: UsageReader,
  accountId: string,
  req: temporal.api.cloud.cloudservice.v1.IGetUsageRequest,
): Promise<temporal.api.cloud.cloudservice.v1.IGetUsageResponse> {
  const now = reader.clock.now();
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  const start = timestampToMs(req.startTimeInclusive) ?? monthStart;
  const end = timestampToMs(req.endTimeExclusive) ?? today + DAY_MS;
  for (const [name, ms] of [['start_time_inclusive', start], ['end_time_exclusive', end]] as const) {
    if (ms % DAY_MS !== 0) throw new InvalidArgumentError(`${name} must be the start of a UTC day, got ${new Date(ms).toISOString()}`);
  }
  if (end <= start) throw new InvalidArgumentError('end_time_exclusive must be after start_time_inclusive');
  const pageDays = req.pageSize ? req.pageSize : DEFAULT_PAGE_DAYS;
  if (pageDays < 0 || pageDays > MAX_PAGE_DAYS) throw new InvalidArgumentError(`page_size must be 0..${MAX_PAGE_DAYS} (days), got ${pageDays}`);
  let from = start;
  if (req.pageToken) {
    const token = Number(req.pageToken);
    if (!Number.isSafeInteger(token) || token % DAY_MS !== 0 || token <= start || token >= end) throw new InvalidArgumentError('page_token is not one this server issued for this range');
    from = token;
  }
  // Days after today have no usage yet: they are not listed.
  const last = Math.min(end, today + DAY_MS);
  const to = Math.min(last, from + pageDays * DAY_MS);
  const periods = from < to ? await reader.periods(accountId, from, to, 'daily') : [];
  const byDay = new Map(periods.map((p) => [p.start, p]));
  const summaries: temporal.api.cloud.usage.v1.ISummary[] = [];
  for (let day = from; day < to; day += DAY_MS) {
    const period = byDay.get(day);
    summaries.push({
      startTime: msToTimestamp(day),
      endTime: msToTimestamp(day + DAY_MS),
      incomplete: day + DAY_MS > now,
      recordGroups: (period?.namespaces ?? []).map((ns) => ({
        groupBys: [{ key: usage.GroupByKey.GROUP_BY_KEY_NAMESPACE, value: ns.namespace }],
        records: [
          { type: usage.RecordType.RECORD_TYPE_ACTIONS, unit: usage.RecordUnit.RECORD_UNIT_NUMBER, value: ns.actionsTotal },
          { type: usage.RecordType.RECORD_TYPE_ACTIVE_STORAGE, unit: usage.RecordUnit.RECORD_UNIT_BYTE_SECONDS, value: ns.activeStorageByteSeconds },
          { type: usage.RecordType.RECORD_TYPE_RETAINED_STORAGE, unit: usage.RecordUnit.RECORD_UNIT_BYTE_SECONDS, value: ns.retainedStorageByteSeconds },
        ],
      })),
    });
  }
  return { summaries, nextPageToken: to < last ? String(to) : '' };
}
