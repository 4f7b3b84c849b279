/**
 * Reads an account's usage from the durable hourly counters: per namespace and record type, by
 * hour, day or month. Work is O(hours × namespaces × types) of the range, never O(actions).
 */
import { InvalidArgumentError, type Clock } from '@hourglass/common';
import type { NamespaceRecord, Persistence, UsageRow } from '@hourglass/persistence';
import { BillableActions, BILLABLE_ACTIONS, isActionRecordType, StorageRecordTypes } from './billable-actions';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** The longest range one read may cover (the whole months of a year-long report, with room to spare). */
export const MAX_RANGE_MS = 500 * DAY_MS;
const NAMESPACE_PAGE = 1000;

/** The three kinds of usage a bill has (Cloud's RecordType). */
export type UsageKind = 'actions' | 'activeStorage' | 'retainedStorage';

export function kindOf(recordType: string): UsageKind | undefined {
  if (isActionRecordType(recordType)) return 'actions';
  if (recordType === StorageRecordTypes.active) return 'activeStorage';
  if (recordType === StorageRecordTypes.retained) return 'retainedStorage';
  return undefined;
}

/** One namespace's usage in one period: actions by type, storage in byte-seconds. */
export interface NamespaceUsage {
  namespaceId: string;
  namespace: string;
  /** Billable actions by record type (`workflow_started`, `signal`, ...); every type present, 0 when none. */
  actions: Record<string, number>;
  actionsTotal: number;
  activeStorageByteSeconds: number;
  retainedStorageByteSeconds: number;
}

export interface UsagePeriod {
  start: number;
  end: number;
  namespaces: NamespaceUsage[];
}

export type Granularity = 'hourly' | 'daily' | 'monthly';

export class UsageReader {
  constructor(private readonly persistence: Persistence, readonly clock: Clock) {}

  /** Every namespace of the account (any state: a deleted namespace's usage is still billed). */
  async namespacesOf(accountId: string): Promise<NamespaceRecord[]> {
    const out: NamespaceRecord[] = [];
    let nextPageToken: string | undefined;
    do {
      const page = await this.persistence.identity.listNamespacesOfAccount(accountId, { pageSize: NAMESPACE_PAGE, ...(nextPageToken ? { nextPageToken } : {}) });
      out.push(...page.items);
      nextPageToken = page.nextPageToken;
    } while (nextPageToken);
    return out;
  }

  /** The account's hourly rows in [fromMs, toMs) (whole hours). */
  async hourlyRows(accountId: string, fromMs: number, toMs: number): Promise<{ namespaces: NamespaceRecord[]; rows: UsageRow[] }> {
    checkRange(fromMs, toMs);
    const namespaces = await this.namespacesOf(accountId);
    if (namespaces.length === 0) return { namespaces, rows: [] };
    const rows = await this.persistence.executions.readHourlyUsage({ namespaceIds: namespaces.map((n) => n.id), fromMs, toMs });
    return { namespaces, rows };
  }

  /** Usage in [fromMs, toMs) cut into periods of the granularity (UTC); namespaces without usage in a period are left out. */
  async periods(accountId: string, fromMs: number, toMs: number, granularity: Granularity): Promise<UsagePeriod[]> {
    const { namespaces, rows } = await this.hourlyRows(accountId, fromMs, toMs);
    const byId = new Map(namespaces.map((n) => [n.id, n]));
    const periods = new Map<number, Map<string, NamespaceUsage>>();
    for (const row of rows) {
      const kind = kindOf(row.recordType);
      const ns = byId.get(row.namespaceId);
      if (!kind || !ns) continue;
      const start = periodStart(row.hourStart, granularity);
      let period = periods.get(start);
      if (!period) periods.set(start, (period = new Map()));
      let usage = period.get(ns.id);
      if (!usage) period.set(ns.id, (usage = emptyUsage(ns)));
      if (kind === 'actions') {
        usage.actions[row.recordType] = (usage.actions[row.recordType] ?? 0) + row.amount;
        usage.actionsTotal += row.amount;
      } else if (kind === 'activeStorage') usage.activeStorageByteSeconds += row.amount;
      else usage.retainedStorageByteSeconds += row.amount;
    }
    return [...periods.entries()]
      .sort(([a], [b]) => a - b)
      .map(([start, byNs]) => ({
        start,
        end: periodEnd(start, granularity),
        namespaces: [...byNs.values()].sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0)),
      }));
  }
}

function emptyUsage(ns: NamespaceRecord): NamespaceUsage {
  const actions: Record<string, number> = {};
  for (const a of BILLABLE_ACTIONS) actions[BillableActions[a].recordType] = 0;
  return { namespaceId: ns.id, namespace: ns.name, actions, actionsTotal: 0, activeStorageByteSeconds: 0, retainedStorageByteSeconds: 0 };
}

export function checkRange(fromMs: number, toMs: number): void {
  if (!Number.isSafeInteger(fromMs) || !Number.isSafeInteger(toMs) || fromMs < 0) throw new InvalidArgumentError('the usage range must be valid times');
  if (fromMs >= toMs) throw new InvalidArgumentError(`the usage range must end after it starts: ${new Date(fromMs).toISOString()} .. ${new Date(toMs).toISOString()}`);
  if (toMs - fromMs > MAX_RANGE_MS) throw new InvalidArgumentError(`the usage range may cover at most ${MAX_RANGE_MS / DAY_MS} days, got ${Math.ceil((toMs - fromMs) / DAY_MS)}`);
}

export function periodStart(ms: number, granularity: Granularity): number {
  if (granularity === 'hourly') return Math.floor(ms / HOUR_MS) * HOUR_MS;
  if (granularity === 'daily') return Math.floor(ms / DAY_MS) * DAY_MS;
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function periodEnd(start: number, granularity: Granularity): number {
  if (granularity === 'hourly') return start + HOUR_MS;
  if (granularity === 'daily') return start + DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
