/**
 * The server's metrics: one prom-client registry per process, exposed in Prometheus' text format by
 * the metrics endpoint (services/server/src/metrics-server.ts). Every metric and label is in
 * docs/observability.md. Other services add their own metrics to `registry` (visibility lag,
 * billable actions): `new Counter({ name, help, labelNames, registers: [metrics.registry] })`.
 *
 * Per-call cost is a Map lookup: the label children of a (service, method, namespace) are made once
 * and kept (`rpc()`), so an RPC's count and latency never hash a label set.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

export class ServerMetrics {
  readonly registry = new Registry();
  readonly rpcRequests: Counter<'service' | 'method' | 'namespace' | 'code'>;
  readonly rpcLatency: Histogram<'service' | 'method' | 'namespace'>;
  readonly rateLimitRejections: Counter<'namespace' | 'cause'>;
  readonly tasksAdded: Counter<'namespace' | 'task_type' | 'match'>;
  readonly scheduleToStart: Histogram<'namespace' | 'task_type'>;
  readonly shardOwnershipChanges: Counter<'event'>;
  readonly shardsOwned: Gauge;
  readonly storeLatency: Histogram<'operation'>;
  readonly taskQueueBacklog: Gauge<'namespace' | 'task_type'>;
  private readonly rpcs = new Map<string, RpcMetrics>();
  private backlogSource: (() => Iterable<{ namespace: string; taskType: string; tasks: number }>) | undefined;

  constructor(options: ServerMetricsOptions = {}) {
    const registers = [this.registry];
    this.rpcRequests = new Counter({ name: 'hourglass_rpc_requests_total', help: 'RPCs served, by service, method, namespace and outcome (OK or the gRPC status name)', labelNames: ['service', 'method', 'namespace', 'code'], registers });
    this.rpcLatency = new Histogram({ name: 'hourglass_rpc_latency_seconds', help: 'Time from a call entering the interceptor chain to its answer (long polls included)', labelNames: ['service', 'method', 'namespace'], buckets: LATENCY_BUCKETS, registers });
    this.rateLimitRejections = new Counter({ name: 'hourglass_rate_limit_rejections_total', help: 'Calls refused with RESOURCE_EXHAUSTED by a limit, by namespace and cause (rps, aps, concurrent, system)', labelNames: ['namespace', 'cause'], registers });
    this.tasksAdded = new Counter({ name: 'hourglass_tasks_added_total', help: 'Workflow and activity tasks added to task queues, by whether a waiting poller took them at once (sync) or they were stored (backlog)', labelNames: ['namespace', 'task_type', 'match'], registers });
    this.scheduleToStart = new Histogram({ name: 'hourglass_schedule_to_start_latency_seconds', help: 'Time from a task being added to its task queue to a poller receiving it', labelNames: ['namespace', 'task_type'], buckets: LATENCY_BUCKETS, registers });
    this.shardOwnershipChanges = new Counter({ name: 'hourglass_shard_ownership_changes_total', help: 'History shards this process acquired or lost to another host', labelNames: ['event'], registers });
    this.shardsOwned = new Gauge({ name: 'hourglass_shards_owned', help: 'History shards this process owns now', registers });
    this.storeLatency = new Histogram({ name: 'hourglass_store_latency_seconds', help: 'Store operations of the history service, by operation', labelNames: ['operation'], buckets: STORE_BUCKETS, registers });
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
      const latency = this.rpcLatency.labels(service, method, namespace);
      const byCode = new Map<string, Counter.Internal>();
      const requests = this.rpcRequests;
      found = {
        done(code, seconds) {
          let counter = byCode.get(code);
          if (!counter) {
            counter = requests.labels(service, method, namespace, code);
            byCode.set(code, counter);
          }
          counter.inc();
          latency.observe(seconds);
        },
      };
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
