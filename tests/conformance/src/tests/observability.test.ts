// Operations: traces and metrics as an operator and a tenant meet them. A client with the official
// SDK's OpenTelemetry interceptors (@temporalio/interceptors-opentelemetry) runs a workflow; the
// server, told by the standard OTEL_* variables to export over OTLP, sends its spans to a receiver
// in this test, and they continue the client's trace. After the workflow, /metrics has the
// documented metrics with their labels, and a tenant's scrape (/v1/metrics with a metrics-read key)
// holds only its own namespace.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { SERVICES, conformanceFile, eventually, rawServiceClient, serverBinPath, testStore, uniqueName, type StartServerOptions } from '../harness';
import { greetAndAdd, waitForFinish } from '../workflows';

const exec = promisify(execFile);

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

/** An OTLP/HTTP (JSON) trace receiver: what the server's exporter sends to, a collector's stand-in. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && String(req.headers['content-type']).includes('json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans?: { scopeSpans?: { spans?: ReceivedSpan[] }[] }[] };
        for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) this.spans.push(...(ss.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const receiver = new OtlpReceiver();
const clientSpans = new InMemorySpanExporter();
// Eager activity dispatch off: this file's activities go through matching, whose task metrics it checks
// (with it on, the SDK's activities are started in the workflow task completion and never reach matching).
const serverOptions: StartServerOptions = { env: {}, settings: { 'history.enableActivityEagerExecution': [{ value: false }] } };

// Before the file's server starts (hooks run in the order they are registered): the receiver's
// address goes into the server's environment, the standard way.
before(async () => {
  Object.assign(serverOptions.env!, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: await receiver.listen(), OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_SERVICE_NAME: 'hourglass-conformance' });
  const provider = new BasicTracerProvider();
  provider.addSpanProcessor(new SimpleSpanProcessor(clientSpans));
  provider.register({ contextManager: new AsyncLocalStorageContextManager(), propagator: new W3CTraceContextPropagator() });
});
after(async () => {
  await receiver.close();
  trace.disable();
  context.disable();
  propagation.disable();
});

const file = conformanceFile({ name: 'observability', server: serverOptions });

file.test("the server's spans continue the trace of a client using the SDK's OpenTelemetry interceptors", async (_t, env) => {
  const client = new Client({ connection: env.connection, namespace: 'default', interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } });
  const workflowId = uniqueName('traced');
  const handle = await client.workflow.start(greetAndAdd, { taskQueue: env.taskQueue, workflowId, args: ['Ada', 2, 3] });
  assert.equal(await handle.result(), 'Hello, Ada! 2+3=5 left/right');
  const started = clientSpans.getFinishedSpans().find((s) => s.name.startsWith('StartWorkflow') && s.attributes.temporalWorkflowId === workflowId);
  assert.ok(started, `the client interceptor made a start span; it made: ${clientSpans.getFinishedSpans().map((s) => s.name).join(', ')}`);
  const { traceId, spanId } = started.spanContext();
  const serverSpan = await eventually(() => {
    const found = receiver.spans.find((s) => s.name === 'WorkflowService/StartWorkflowExecution' && s.traceId === traceId);
    assert.ok(found, `a server span of StartWorkflowExecution in trace ${traceId}; received: ${receiver.spans.map((s) => `${s.name}@${s.traceId.slice(0, 8)}`).join(', ')}`);
    return found;
  });
  assert.equal(serverSpan.parentSpanId, spanId, "the server span's parent is the client's start span");
  const attribute = (span: ReceivedSpan, key: string) => span.attributes?.find((a) => a.key === key)?.value.stringValue;
  assert.equal(attribute(serverSpan, 'rpc.method'), 'StartWorkflowExecution');
  assert.equal(attribute(serverSpan, 'temporal.namespace'), 'default');
  // The call into history is a child of the server span, and the store write of the start its child.
  const historyCall = await eventually(() => {
    const found = receiver.spans.find((s) => s.name === 'history.startWorkflowExecution' && s.parentSpanId === serverSpan.spanId);
    assert.ok(found, `a history.startWorkflowExecution span under the StartWorkflowExecution span; spans of the trace: ${receiver.spans.filter((s) => s.traceId === traceId).map((s) => s.name).join(', ')}`);
    return found;
  });
  const commit = await eventually(() => {
    const found = receiver.spans.find((s) => s.name === 'store.commit' && s.parentSpanId === historyCall.spanId);
    assert.ok(found, 'a store.commit span under the history call');
    return found;
  });
  assert.equal(commit.traceId, traceId);
  // A worker's calls carry no trace context: each is a trace of its own, never joined to the client's;
  // its task-queue polls (held up to a minute, dozens at a time) are not traced at all.
  const completions = await eventually(() => {
    const found = receiver.spans.filter((s) => s.name === 'WorkflowService/RespondWorkflowTaskCompleted');
    assert.ok(found.length > 0, "the worker's completions are traced");
    return found;
  });
  assert.ok(completions.every((s) => s.traceId !== traceId && !s.parentSpanId), 'worker calls are root spans of their own traces');
  assert.deepEqual(receiver.spans.filter((s) => s.name.startsWith('WorkflowService/Poll')).map((s) => s.name), [], 'no span for a poll outside a sampled trace');
});

file.test('a task-queue poll is traced when its caller sends a sampled trace context', async (_t, env) => {
  const taskQueue = uniqueName('traced-poll');
  await env.client.workflow.start(greetAndAdd, { taskQueue, workflowId: uniqueName('traced-poll'), args: ['Ada', 2, 3] });
  const traceId = randomBytes(16).toString('hex');
  const parentSpanId = randomBytes(8).toString('hex');
  const polled = await env.connection.withMetadata({ traceparent: `00-${traceId}-${parentSpanId}-01` }, () =>
    env.connection.workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, identity: 'traced-poller' }),
  );
  assert.ok(polled.taskToken?.length, 'the poll got the workflow task');
  const span = await eventually(() => {
    const found = receiver.spans.find((s) => s.name === 'WorkflowService/PollWorkflowTaskQueue' && s.traceId === traceId);
    assert.ok(found, "a span of the poll in the caller's trace");
    return found;
  });
  assert.equal(span.parentSpanId, parentSpanId);
});

/** One sample line of `text`, by metric name and (a subset of) labels; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** The metric names of docs/observability.md's table (first column, in backticks). */
function documentedMetrics(): string[] {
  const doc = readFileSync(path.resolve(__dirname, '../../../../docs/observability.md'), 'utf8');
  return [...doc.matchAll(/^\| `([a-z_:]+)` \|/gm)].map((m) => m[1] as string);
}

file.test('after a workflow ran, /metrics has every documented metric, with method, namespace and outcome labels', async (_t, env) => {
  const workflowId = uniqueName('metered');
  assert.equal(await env.client.workflow.execute(greetAndAdd, { taskQueue: env.taskQueue, workflowId, args: ['Bo', 1, 1] }), 'Hello, Bo! 1+1=2 left/right');
  const response = await fetch(`${env.server.metricsUrl}/metrics`);
  assert.equal(response.status, 200);
  assert.match(String(response.headers.get('content-type')), /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const documented = documentedMetrics();
  assert.ok(documented.length >= 12, `docs/observability.md documents the metrics (found ${documented.length})`);
  for (const name of documented) assert.ok(text.includes(`# TYPE ${name} `), `${name} is documented and served`);
  const ok = { service: 'WorkflowService', method: 'StartWorkflowExecution', namespace: 'default', code: 'OK' };
  assert.ok((sample(text, 'hourglass_rpc_requests_total', ok) ?? 0) >= 1, 'the start was counted with its service, method, namespace and outcome');
  assert.ok((sample(text, 'hourglass_rpc_latency_seconds_count', { method: 'RespondWorkflowTaskCompleted', namespace: 'default' }) ?? 0) >= 1);
  assert.ok((sample(text, 'hourglass_rpc_requests_total', { method: 'GetSystemInfo', namespace: '', code: 'OK' }) ?? 0) >= 1, 'cluster-scoped calls have an empty namespace');
  const added = (match: string) => sample(text, 'hourglass_tasks_added_total', { namespace: 'default', task_type: 'activity', match }) ?? 0;
  assert.ok(added('sync') + added('backlog') >= 4, 'four activity tasks were added (sync-matched or stored)');
  assert.ok((sample(text, 'hourglass_schedule_to_start_latency_seconds_count', { namespace: 'default', task_type: 'workflow' }) ?? 0) >= 1);
  assert.equal(sample(text, 'hourglass_shard_ownership_changes_total', { event: 'acquired' }), 4, 'start-dev acquired its 4 shards');
  assert.equal(sample(text, 'hourglass_shards_owned', {}), 4);
  assert.ok((sample(text, 'hourglass_store_latency_seconds_count', { operation: 'commit' }) ?? 0) >= 1);
  // On a SQLite file with the default synchronous full, commits were synced; MySQL has no such log.
  const syncs = sample(text, 'hourglass_sqlite_wal_sync_seconds_count', {}) ?? 0;
  if (testStore() === 'sqlite') assert.ok(syncs >= 1, 'the log was synced');
  else assert.equal(syncs, 0, 'a MySQL store syncs no SQLite log');
  assert.equal(sample(text, 'hourglass_sqlite_wal_sync_seconds_bucket', { le: '+Inf' }), syncs);
  // The usage fold and the visibility indexer run after the commit: read them once they caught up.
  await eventually(async () => {
    const later = await (await fetch(`${env.server.metricsUrl}/metrics`)).text();
    assert.ok((sample(later, 'hourglass_billable_actions_total', { namespace: 'default', action: 'workflow_started' }) ?? 0) >= 1, 'the start is a billable action of its namespace');
    assert.ok((sample(later, 'hourglass_billable_actions_total', { namespace: 'default', action: 'activity_started' }) ?? 0) >= 4, 'each activity attempt is one');
    assert.ok((sample(later, 'hourglass_visibility_lag_seconds_count', {}) ?? 0) >= 2, 'the start and the close were indexed, their lag measured');
    return true;
  });
  assert.ok((sample(text, 'nodejs_heap_size_used_bytes', {}) ?? 0) > 0);
  assert.ok(sample(text, 'nodejs_eventloop_lag_p99_seconds', {}) !== undefined);
  // An unknown workflow answers NOT_FOUND, counted as such.
  await env.client.workflow.getHandle('no-such-workflow').describe().catch(() => undefined);
  const after = await (await fetch(`${env.server.metricsUrl}/metrics`)).text();
  assert.ok((sample(after, 'hourglass_rpc_requests_total', { method: 'DescribeWorkflowExecution', namespace: 'default', code: 'NOT_FOUND' }) ?? 0) >= 1, 'errors by code');
});

file.test("a tenant's scrape with a metrics-read key has only its own namespace's series; other keys are refused", async (_t, env) => {
  const { operatorApiKey, ownerApiKey } = env.server.devCredentials();
  const admin = await exec(process.execPath, [serverBinPath(), 'admin', 'account', 'create', '--name', 'metrics-tenant', '--owner-email', 'owner@metrics.test', '--address', env.server.address], {
    env: { ...process.env, HOURGLASS_OPERATOR_API_KEY: operatorApiKey },
  });
  const owner = (JSON.parse(admin.stdout) as { ownerApiKey: string }).ownerApiKey;
  const raw = rawServiceClient(env.server.address);
  try {
    const namespace = (await raw.call(SERVICES.cloud, 'CreateNamespace', { spec: { name: 'orders', retentionDays: 3 } }, { apiKey: owner })).namespace as string;
    const keyFor = async (name: string, role: number): Promise<string> => {
      const sa = await raw.call(SERVICES.cloud, 'CreateServiceAccount', { spec: { name, access: { accountAccess: { role } } } }, { apiKey: owner });
      const expiry = { seconds: Math.floor(Date.now() / 1000) + 86_400 };
      return (await raw.call(SERVICES.cloud, 'CreateApiKey', { spec: { ownerId: sa.serviceAccountId, ownerType: 2, displayName: name, expiryTime: expiry } }, { apiKey: owner })).token as string;
    };
    const metricsKey = await keyFor('scraper', 6 /* ROLE_METRICS_READ */);
    const readKey = await keyFor('reader', 5 /* ROLE_READ */);
    // Traffic in the tenant's namespace (the workflow of the other tests ran in default, the dev account's).
    await raw.call(SERVICES.workflow, 'DescribeNamespace', { namespace }, { apiKey: owner });
    const scrape = (key?: string) => fetch(`${env.server.metricsUrl}/v1/metrics`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    const mine = await scrape(metricsKey);
    assert.equal(mine.status, 200);
    const text = await mine.text();
    assert.ok((sample(text, 'hourglass_rpc_requests_total', { method: 'DescribeNamespace', namespace, code: 'OK' }) ?? 0) >= 1, `its namespace's series:\n${text.slice(0, 2000)}`);
    const namespaces = new Set([...text.matchAll(/namespace="([^"]*)"/g)].map((m) => m[1]));
    assert.deepEqual([...namespaces], [namespace], 'no other namespace, and no cluster-wide series');
    for (const line of text.split('\n')) if (line && !line.startsWith('#')) assert.match(line, /namespace="/, `a series without a namespace: ${line}`);
    // The dev account's owner (an account admin) sees default, never the tenant's namespace.
    const dev = await (await scrape(ownerApiKey)).text();
    assert.ok(dev.includes('namespace="default"') && !dev.includes(`namespace="${namespace}"`), "the dev owner's scrape has default and not the tenant's namespace");
    const refused = await scrape(readKey);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /needs the account role metrics-read, admin or owner/);
    assert.equal((await scrape()).status, 401, 'no key');
    assert.equal((await scrape('hgk_nosuchkey_0000')).status, 401, 'a bad key');
  } finally {
    raw.close();
  }
});

file.test('a query no worker answers in time gets one warn line naming its namespace and workflow', async (_t, env) => {
  const mark = env.server.outputMark();
  const taskQueue = uniqueName('tq-gone');
  const workflowId = uniqueName('unanswered');
  // A worker runs the workflow's first task, then leaves: nobody is left to answer queries.
  const worker = await env.startExtraWorker({ taskQueue });
  await env.client.workflow.start(waitForFinish, { taskQueue, workflowId });
  await eventually(async () => (await env.client.workflow.getHandle(workflowId).fetchHistory()).events!.length >= 4);
  await worker.shutdown();
  const raw = rawServiceClient(env.server.address);
  try {
    const outcome = await raw.outcome(SERVICES.workflow, 'QueryWorkflow', { namespace: 'default', execution: { workflowId }, query: { queryType: 'anything' } }, { timeoutMs: 3000 });
    assert.equal(outcome.code, 4 /* DEADLINE_EXCEEDED */, outcome.details);
  } finally {
    raw.close();
  }
  const line = await eventually(() =>
    env.server
      .recentOutput(mark)
      .split('\n')
      .map((l) => l.replace(/^\[stderr\] /, ''))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'query timed out'),
  );
  assert.deepEqual([line.level, line.method, line.namespace, line.workflowId, line.code], [40, 'QueryWorkflow', 'default', workflowId, 'DEADLINE_EXCEEDED']);
  const after = await (await fetch(`${env.server.metricsUrl}/metrics`)).text();
  assert.ok((sample(after, 'hourglass_rpc_requests_total', { method: 'QueryWorkflow', namespace: 'default', code: 'DEADLINE_EXCEEDED' }) ?? 0) >= 1);
});
