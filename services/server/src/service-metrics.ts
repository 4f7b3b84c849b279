/**
 * Metrics that other services keep and the metrics endpoint reads when scraped: billable actions
 * (history's counter of what the usage folds took in) and visibility lag (the indexer's commit →
 * searchable histogram). Their series carry the namespace's name, as every per-namespace series
 * does, so a tenant's scrape (`/v1/metrics`) shows its own namespaces only.
 */
import { registerScrapedMetric, type ScrapedSample, type ServerMetrics } from '@hourglass/common';
import type { BillableActionCounter } from '@hourglass/history';
import type { MysqlTraffic } from '@hourglass/persistence';
import { LAG_BUCKETS_MS, type VisibilityLagSnapshot } from '@hourglass/visibility';

export interface ServiceMetricSources {
  billableActions: BillableActionCounter;
  visibilityLag: () => VisibilityLagSnapshot;
  /** A namespace's name by id ('' when it is gone: its series are dropped). */
  namespaceName: (id: string) => Promise<string>;
  /** What this process sent to MySQL so far (nothing on the SQLite store). */
  mysqlTraffic: () => MysqlTraffic;
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
    () => {
      const lag = sources.visibilityLag();
      const samples: ScrapedSample[] = LAG_BUCKETS_MS.map((ms, i) => ({ metricName: 'hourglass_visibility_lag_seconds_bucket', labels: { le: ms / 1000 }, value: lag.buckets[i] ?? 0 }));
      samples.push({ metricName: 'hourglass_visibility_lag_seconds_bucket', labels: { le: '+Inf' }, value: lag.count });
      samples.push({ metricName: 'hourglass_visibility_lag_seconds_sum', labels: {}, value: lag.sumMs / 1000 });
      samples.push({ metricName: 'hourglass_visibility_lag_seconds_count', labels: {}, value: lag.count });
      return samples;
    },
  );
  registerMysqlTrafficMetrics(metrics, sources.mysqlTraffic);
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
