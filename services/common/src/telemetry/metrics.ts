/**
 * The server's metrics: one prom-client registry per process, exposed in Prometheus' text format by
 * the metrics endpoint (services/server/src/metrics-server.ts). Every metric and label is in
 * docs/observability.md. Other services add their own metrics to `registry` (visibility lag,
 * billable actions): `new Counter({ name, help, labelNames, registers: [metrics.registry] })`.
 *
 * Per-call cost is a Map lookup and a few additions: an RPC's count and latency (and a task's, a store write's) go into plain
 * numbers kept per (service, method, namespace) (`rpc()`, RpcSeries), turned into Prometheus
 * samples only when scraped; prom-client's own counters hash their label set on every increment.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/** Seconds; from a fast cached read to a full long poll. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 90];
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Labels of series that belong to one namespace: a tenant's scrape keeps only these. */
export const NAMESPACE_LABEL = 'namespace';

/** The counters and histogram of one (service, method, namespace). */
export interface RpcMetrics {
  /** Records one finished call: its outcome ('OK' or the gRPC status name) and its duration. */
  done(code: string, seconds: number): void;
}

export interface ServerMetricsOptions {
  /** Node's process metrics too (event-loop lag, heap, CPU, GC). Default true. */
  processMetrics?: boolean;
}

/** The counts and latency histogram of one (service, method, namespace), as plain numbers. */
class RpcSeries implements RpcMetrics {
  readonly codes = new Map<string, number>();
  /** Per bucket of LATENCY_BUCKETS (not cumulative), and one more for +Inf. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  constructor(readonly labels: { service: string; method: string; namespace: string }) {}

  done(code: string, seconds: number): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] as number)) i++;
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/** One series of a scraped metric: its labels and value (`metricName` for a histogram's _bucket, _sum and _count). */
export interface ScrapedSample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A metric prom-client's registry exposes like its own (its `get()` contract): the RPC series are
 * read when scraped.
 */
function scrapedMetric(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', samples: () => ScrapedSample[] | Promise<ScrapedSample[]>): Metric {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: await samples() }),
    reset: () => undefined,
  } as unknown as Metric;
}

/**
 * A metric another service keeps (visibility lag, billable actions), read from it when scraped:
 * `samples` runs once per scrape and may look up label values (namespace names) asynchronously.
 */
export function registerScrapedMetric(
  registry: Registry,
  name: string,
  help: string,
  type: 'counter' | 'gauge' | 'histogram',
  samples: () => ScrapedSample[] | Promise<ScrapedSample[]>,
): void {
  registry.registerMetric(scrapedMetric(name, help, type, samples));
}

/**
 * A labelled counter kept as plain numbers, one child per label set (made once by `labels()`),
 * read when scraped: for counts on hot paths (a task added to a queue).
 */
export class ScrapedCounter<L extends string> {
  private readonly children = new Map<string, { labels: Record<string, string>; value: number; inc(by?: number): void }>();

  constructor(registry: Registry, name: string, help: string, private readonly labelNames: readonly L[]) {
    registry.registerMetric(scrapedMetric(name, help, 'counter', () => [...this.children.values()].map(({ labels, value }) => ({ labels, value }))));
  }

  /** The child of these label values (in labelNames' order); keep it. */
  labels(...values: string[]): { inc(by?: number): void } {
    const key = values.join('\u0000');
    let child = this.children.get(key);
    if (!child) {
      const labels = Object.fromEntries(this.labelNames.map((name, i) => [name, values[i] ?? '']));
      child = {
        labels,
        value: 0,
        inc(by = 1) {
          this.value += by;
        },
      };
      this.children.set(key, child);
    }
    return child;
  }
}

/** A labelled histogram kept as plain numbers, like ScrapedCounter. */
export class ScrapedHistogram<L extends string> {
  private readonly children = new Map<string, { labels: Record<string, string>; buckets: Float64Array; sum: number; count: number; observe(value: number): void }>();

  constructor(registry: Registry, private readonly name: string, help: string, private readonly labelNames: readonly L[], private readonly bounds: readonly number[]) {
    registry.registerMetric(
      scrapedMetric(name, help, 'histogram', () =>
        [...this.children.values()].flatMap((child) => {
          const samples: ScrapedSample[] = [];
          let cumulative = 0;
          this.bounds.forEach((le, i) => {
            cumulative += child.buckets[i] ?? 0;
            samples.push({ metricName: `${this.name}_bucket`, labels: { ...child.labels, le }, value: cumulative });
          });
          samples.push({ metricName: `${this.name}_bucket`, labels: { ...child.labels, le: '+Inf' }, value: child.count });
          samples.push({ metricName: `${this.name}_sum`, labels: child.labels, value: child.sum });
          samples.push({ metricName: `${this.name}_count`, labels: child.labels, value: child.count });
          return samples;
        }),
      ),
    );
  }

  labels(...values: string[]): { observe(value: number): void } {
    const key = values.join('\u0000');
    let child = this.children.get(key);
    if (!child) {
      const bounds = this.bounds;
      child = {
        labels: Object.fromEntries(this.labelNames.map((name, i) => [name, values[i] ?? ''])),
        buckets: new Float64Array(bounds.length + 1),
        sum: 0,
        count: 0,
        observe(value) {
          let i = 0;
          while (i < bounds.length && value > (bounds[i] as number)) i++;
          this.buckets[i] = (this.buckets[i] ?? 0) + 1;
          this.sum += value;
          this.count += 1;
        },
      };
      this.children.set(key, child);
    }
    return child;
  }
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly rateLimitRejections: Counter<'namespace' | 'cause'>;
  readonly tasksAdded: ScrapedCounter<'namespace' | 'task_type' | 'match'>;
  readonly scheduleToStart: ScrapedHistogram<'namespace' | 'task_type'>;
  readonly shardOwnershipChanges: Counter<'event'>;
  readonly shardsOwned: Gauge;
  readonly storeLatency: ScrapedHistogram<'operation'>;
  readonly taskQueueBacklog: Gauge<'namespace' | 'task_type'>;
  private readonly rpcs = new Map<string, RpcSeries>();
  private backlogSource: (() => Iterable<{ namespace: string; taskType: string; tasks: number }>) | undefined;

  constructor(options: ServerMetricsOptions = {}) {
    const registers = [this.registry];
    const series = (): RpcSeries[] => [...this.rpcs.values()];
    this.registry.registerMetric(
      scrapedMetric('hourglass_rpc_requests_total', 'RPCs served, by service, method, namespace and outcome (OK or the gRPC status name)', 'counter', () =>
        series().flatMap((s) => [...s.codes].map(([code, value]) => ({ labels: { ...s.labels, code }, value }))),
      ),
    );
    this.registry.registerMetric(
      scrapedMetric('hourglass_rpc_latency_seconds', 'Time from a call entering the interceptor chain to its answer (long polls included)', 'histogram', () =>
        series().flatMap((s) => {
          const samples: ScrapedSample[] = [];
          let cumulative = 0;
          LATENCY_BUCKETS.forEach((le, i) => {
            cumulative += s.buckets[i] ?? 0;
            samples.push({ metricName: 'hourglass_rpc_latency_seconds_bucket', labels: { ...s.labels, le }, value: cumulative });
          });
          samples.push({ metricName: 'hourglass_rpc_latency_seconds_bucket', labels: { ...s.labels, le: '+Inf' }, value: s.count });
          samples.push({ metricName: 'hourglass_rpc_latency_seconds_sum', labels: s.labels, value: s.sum });
          samples.push({ metricName: 'hourglass_rpc_latency_seconds_count', labels: s.labels, value: s.count });
          return samples;
        }),
      ),
    );
    this.rateLimitRejections = new Counter({ name: 'hourglass_rate_limit_rejections_total', help: 'Calls refused with RESOURCE_EXHAUSTED by a limit, by namespace and cause (rps, aps, concurrent, system)', labelNames: ['namespace', 'cause'], registers });
    this.tasksAdded = new ScrapedCounter(this.registry, 'hourglass_tasks_added_total', 'Workflow and activity tasks added to task queues, by whether a waiting poller took them at once (sync) or they were stored (backlog)', ['namespace', 'task_type', 'match']);
    this.scheduleToStart = new ScrapedHistogram(this.registry, 'hourglass_schedule_to_start_latency_seconds', 'Time from a task being added to its task queue to a poller receiving it', ['namespace', 'task_type'], LATENCY_BUCKETS);
    this.shardOwnershipChanges = new Counter({ name: 'hourglass_shard_ownership_changes_total', help: 'History shards this process acquired or lost to another host', labelNames: ['event'], registers });
    this.shardsOwned = new Gauge({ name: 'hourglass_shards_owned', help: 'History shards this process owns now', registers });
    this.storeLatency = new ScrapedHistogram(this.registry, 'hourglass_store_latency_seconds', 'Store operations of the history service, by operation', ['operation'], STORE_BUCKETS);
    const backlog = (): (() => Iterable<{ namespace: string; taskType: string; tasks: number }>) | undefined => this.backlogSource;
    this.taskQueueBacklog = new Gauge({
      name: 'hourglass_task_queue_backlog',
      help: 'Tasks stored in task queues and not yet handed to a poller, by namespace and task type',
      labelNames: ['namespace', 'task_type'],
      registers,
      collect() {
        this.reset();
        const source = backlog();
        if (!source) return;
        for (const { namespace, taskType, tasks } of source()) this.inc({ namespace, task_type: taskType }, tasks);
      },
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
  }

  /** The counters of one (service, method, namespace), made on first use. `namespace` is '' for cluster-scoped calls. */
  rpc(service: string, method: string, namespace: string): RpcMetrics {
    const key = `${service}\u0000${method}\u0000${namespace}`;
    let found = this.rpcs.get(key);
    if (!found) {
      found = new RpcSeries({ service, method, namespace });
      this.rpcs.set(key, found);
    }
    return found;
  }

  /** Where the backlog gauge reads from at scrape time (matching's queues). */
  setBacklogSource(source: () => Iterable<{ namespace: string; taskType: string; tasks: number }>): void {
    this.backlogSource = source;
  }

  /** Everything, in Prometheus' text format. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Only the series of namespaces `allowed` accepts (a tenant's scrape): series without a namespace
   * label (the process, shards, the store) and other namespaces' series are left out, and so are
   * the HELP and TYPE lines of a family left without series.
   */
  async namespaceExposition(allowed: (namespace: string) => boolean): Promise<string> {
    return filterExposition(await this.registry.metrics(), allowed);
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

const NAMESPACE_VALUE = /[{,]namespace="((?:[^"\\]|\\.)*)"/;

/** Keeps the samples whose namespace label `allowed` accepts (see namespaceExposition). */
export function filterExposition(text: string, allowed: (namespace: string) => boolean): string {
  const out: string[] = [];
  let header: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (line.startsWith('# HELP')) header = [];
      header.push(line);
      continue;
    }
    const match = NAMESPACE_VALUE.exec(line);
    if (!match || !allowed(JSON.parse(`"${match[1] ?? ''}"`) as string)) continue;
    if (header.length > 0) {
      out.push(...header);
      header = [];
    }
    out.push(line);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
