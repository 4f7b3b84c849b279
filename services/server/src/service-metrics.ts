/**
 * Metrics that other services keep and the metrics endpoint reads when scraped: billable actions
 * (history's counter of what the usage folds took in) and visibility lag (the indexer's commit →
 * searchable histogram). Their series carry the namespace's name, as every per-namespace series
 * does, so a tenant's scrape (`/v1/metrics`) shows its own namespaces only.
 */
import { registerScrapedMetric, type ScrapedSample, type ServerMetrics } from '@hourglass/common';
import type { BillableActionCounter } from '@hourglass/history';
import { WAL_SYNC_BUCKETS_MS, type MysqlTraffic, type WalSyncTimes } from '@hourglass/persistence';
import { LAG_BUCKETS_MS, type VisibilityLagSnapshot } from '@hourglass/visibility';

export interface ServiceMetricSources {
  billableActions: BillableActionCounter;
  visibilityLag: () => VisibilityLagSnapshot;
  /** A namespace's name by id ('' when it is gone: its series are dropped). */
  namespaceName: (id: string) => Promise<string>;
  /** What this process sent to MySQL so far (nothing on the SQLite store). */
  mysqlTraffic: () => MysqlTraffic;
  /** How long the SQLite store's log syncs took so far (none on MySQL, or with synchronous normal). */
  walSyncTimes: () => WalSyncTimes;
}

export function registerServiceMetrics(metrics: ServerMetrics, sources: ServiceMetricSources): void {
  registerScrapedMetric(
    metrics.registry,
    'hourglass_billable_actions_total',
    'Billable actions (Temporal Cloud action types) recorded in the usage counters by this process since it started, by namespace and action',
    'counter',
    async () => {
      const samples: ScrapedSample[] = [];
      const names = new Map<string, string>();
      for (const { namespaceId, action, value } of sources.billableActions.samples()) {
        let name = names.get(namespaceId);
        if (name === undefined) {
          name = await sources.namespaceName(namespaceId);
          names.set(namespaceId, name);
        }
        if (name) samples.push({ labels: { namespace: name, action }, value });
      }
      return samples;
    },
  );
  registerScrapedMetric(
    metrics.registry,
    'hourglass_visibility_lag_seconds',
    'Visibility lag: from the commit of a change of an execution to its record written to the visibility index',
    'histogram',
    () => secondsHistogram('hourglass_visibility_lag_seconds', LAG_BUCKETS_MS, sources.visibilityLag()),
  );
  registerMysqlTrafficMetrics(metrics, sources.mysqlTraffic);
  registerScrapedMetric(
    metrics.registry,
    'hourglass_sqlite_wal_sync_seconds',
    "Time of each sync of the SQLite store's write-ahead log (every commit under way waits for one before its caller is answered)",
    'histogram',
    () => secondsHistogram('hourglass_sqlite_wal_sync_seconds', WAL_SYNC_BUCKETS_MS, sources.walSyncTimes()),
  );
}

/** A histogram kept in milliseconds (cumulative bucket counts, count, sum) as Prometheus samples in seconds. */
function secondsHistogram(name: string, boundsMs: readonly number[], h: { buckets: readonly number[]; count: number; sumMs: number }): ScrapedSample[] {
  const samples: ScrapedSample[] = boundsMs.map((ms, i) => ({ metricName: `${name}_bucket`, labels: { le: ms / 1000 }, value: h.buckets[i] ?? 0 }));
  samples.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: h.count });
  samples.push({ metricName: `${name}_sum`, labels: {}, value: h.sumMs / 1000 });
  samples.push({ metricName: `${name}_count`, labels: {}, value: h.count });
  return samples;
}

/** What this process sent to MySQL: every process that opens the store registers these (start-dev and each `hourglass start` host). */
export function registerMysqlTrafficMetrics(metrics: ServerMetrics, mysqlTraffic: () => MysqlTraffic): void {
  registerScrapedMetric(
    metrics.registry,
    'hourglass_mysql_round_trips_total',
    'Requests this process sent to MySQL and waited on (one per statement, or one per multi-statement packet), every database',
    'counter',
    () => [{ labels: {}, value: mysqlTraffic().roundTrips }],
  );
  registerScrapedMetric(
    metrics.registry,
    'hourglass_mysql_statements_total',
    "Statements in them (what MySQL's Questions counter counts), every database",
    'counter',
    () => [{ labels: {}, value: mysqlTraffic().statements }],
  );
}
