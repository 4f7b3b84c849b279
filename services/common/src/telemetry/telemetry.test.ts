import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, context as otelContext, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createLogger } from '../logger';
import { ServerMetrics, filterExposition } from './metrics';
import { TEMPORAL_TRACE_HEADER, childSpan, extractCallerContext, startTracing, tracingSettingsFromEnv, withSampledCall } from './tracing';

const noMetadata = { get: () => [] };

describe('metrics', () => {
  it("a namespace's exposition keeps only its series, with their HELP and TYPE lines", async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    metrics.rpc('WorkflowService', 'StartWorkflowExecution', 'a').done('OK', 0.01);
    metrics.rpc('WorkflowService', 'StartWorkflowExecution', 'b').done('OK', 0.01);
    metrics.rpc('WorkflowService', 'GetSystemInfo', '').done('OK', 0.001);
    metrics.shardsOwned.set(4);
    const text = await metrics.namespaceExposition((ns) => ns === 'a');
    assert.match(text, /^# TYPE hourglass_rpc_requests_total counter$/m);
    assert.match(text, /^hourglass_rpc_requests_total\{service="WorkflowService",method="StartWorkflowExecution",namespace="a",code="OK"\} 1$/m);
    assert.doesNotMatch(text, /namespace="b"|namespace=""|hourglass_shards_owned/);
    assert.equal(filterExposition(await metrics.exposition(), () => false), '', 'nothing at all for a caller with no namespace');
  });

  it('keeps the latency histogram cumulative, with its sum and count', async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    const rpc = metrics.rpc('WorkflowService', 'QueryWorkflow', 'a');
    rpc.done('OK', 0.003);
    rpc.done('OK', 0.0005);
    rpc.done('DEADLINE_EXCEEDED', 120);
    const text = await metrics.exposition();
    const bucket = (le: string) => new RegExp(`^hourglass_rpc_latency_seconds_bucket\\{service="WorkflowService",method="QueryWorkflow",namespace="a",le="${le.replace('+', '\\+')}"\\} (\\d+)$`, 'm').exec(text)?.[1];
    assert.deepEqual(['0.001', '0.0025', '0.005', '90', '+Inf'].map(bucket), ['1', '1', '2', '2', '3']);
    assert.match(text, /^hourglass_rpc_latency_seconds_sum\{service="WorkflowService",method="QueryWorkflow",namespace="a"\} 120\.0035$/m);
    assert.match(text, /^hourglass_rpc_latency_seconds_count\{service="WorkflowService",method="QueryWorkflow",namespace="a"\} 3$/m);
    assert.match(text, /^# TYPE hourglass_rpc_latency_seconds histogram$/m);
  });

  it('counts repeated calls on the cached label set', async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    for (let i = 0; i < 3; i++) metrics.rpc('WorkflowService', 'SignalWorkflowExecution', 'a').done(i === 2 ? 'NOT_FOUND' : 'OK', 0.002);
    const text = await metrics.exposition();
    assert.match(text, /method="SignalWorkflowExecution",namespace="a",code="OK"\} 2$/m);
    assert.match(text, /method="SignalWorkflowExecution",namespace="a",code="NOT_FOUND"\} 1$/m);
  });
});

describe('tracing settings', () => {
  it('is off unless an OTLP exporter is configured, and OTEL_SDK_DISABLED wins', () => {
    assert.equal(tracingSettingsFromEnv({}).enabled, false);
    assert.equal(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).enabled, true);
    assert.equal(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).enabled, true);
    assert.equal(tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }).enabled, true);
    assert.equal(tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' }).enabled, false);
    assert.equal(tracingSettingsFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }).enabled, false);
    assert.equal(tracingSettingsFromEnv({ OTEL_SERVICE_NAME: 'frontend' }).serviceName, 'frontend');
  });

  it('reads no context from a request without a carrier, or with a broken one', () => {
    assert.equal(extractCallerContext(noMetadata, { namespace: 'x' }), ROOT_CONTEXT);
    const broken = { header: { fields: { [TEMPORAL_TRACE_HEADER]: { data: Buffer.from('{not json') } } } };
    assert.equal(trace.getSpanContext(extractCallerContext(noMetadata, broken)), undefined);
  });
});

describe('log lines', () => {
  it('carry the trace and span id inside a traced call, and never a secret', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) } });
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing({ enabled: true, serviceName: 'test' }, exporter);
    assert.ok(tracing);
    try {
      await tracing.tracer.startActiveSpan('rpc', async (span) => {
        await childSpan('store.commit', { shard: 1 }, async () => logger.info({ authorization: 'Bearer hgk_secret', request: { apiKey: 'hgk_other', token: 't' } }, 'inside'));
        span.end();
      });
      logger.info('outside');
      await tracing.flush();
      const [inside, outside] = lines;
      const spans = exporter.getFinishedSpans();
      const commit = spans.find((s) => s.name === 'store.commit');
      assert.ok(commit, `spans: ${spans.map((s) => s.name).join(', ')}`);
      assert.equal(inside?.traceId, commit.spanContext().traceId);
      assert.equal(inside?.spanId, commit.spanContext().spanId, 'the line names the innermost span');
      assert.equal(commit.parentSpanId, spans.find((s) => s.name === 'rpc')?.spanContext().spanId);
      assert.equal(outside?.traceId, undefined, 'no trace outside a traced call');
      const text = JSON.stringify(lines);
      assert.ok(!text.includes('hgk_secret') && !text.includes('hgk_other'), text);
      assert.equal(inside?.authorization, '[redacted]');
    } finally {
      await tracing.shutdown();
      trace.disable();
      otelContext.disable();
      propagation.disable();
    }
  });

  it('sampled calls each see their own span until they end, however they interleave; after the last, no context is left active', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing({ enabled: true, serviceName: 'test' }, exporter);
    assert.ok(tracing);
    try {
      const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
      const spanA = tracing.tracer.startSpan('a');
      const spanB = tracing.tracer.startSpan('b');
      let releaseA!: () => void;
      const aMayEnd = new Promise<void>((resolve) => (releaseA = resolve));
      const seen: string[] = [];
      const a = withSampledCall(trace.setSpan(ROOT_CONTEXT, spanA), async () => {
        await aMayEnd;
        seen.push(`a:${trace.getActiveSpan() === spanA}`);
        await childSpan('a.child', {}, async () => undefined);
      });
      const b = withSampledCall(trace.setSpan(ROOT_CONTEXT, spanB), async () => {
        await tick();
        seen.push(`b-before:${trace.getActiveSpan() === spanB}`);
        releaseA();
        // A ends while B is still in flight: B keeps its context.
        await a;
        await tick();
        seen.push(`b-after:${trace.getActiveSpan() === spanB}`);
        await childSpan('b.child', {}, async () => undefined);
      });
      await Promise.all([a, b]);
      spanA.end();
      spanB.end();
      assert.deepEqual(seen, ['b-before:true', 'a:true', 'b-after:true']);
      assert.equal(trace.getActiveSpan(), undefined, 'a context is still active after the last sampled call');
      // The next sampled call sees its span again (the storage is re-entered).
      const spanC = tracing.tracer.startSpan('c');
      let leftBehind: Promise<unknown> | undefined;
      await withSampledCall(trace.setSpan(ROOT_CONTEXT, spanC), async () => {
        await tick();
        assert.equal(trace.getActiveSpan(), spanC);
        // Work the call leaves running after it ends.
        leftBehind = tick().then(tick).then(tick).then(() => trace.getActiveSpan());
      });
      spanC.end();
      // The storage (and its async hooks) went off with the last sampled call: that work runs outside it.
      assert.equal(await leftBehind, undefined);
      await tracing.flush();
      const parents = new Map(exporter.getFinishedSpans().map((s) => [s.name, s.parentSpanId]));
      assert.equal(parents.get('a.child'), spanA.spanContext().spanId);
      assert.equal(parents.get('b.child'), spanB.spanContext().spanId);
    } finally {
      await tracing.shutdown();
      trace.disable();
      otelContext.disable();
      propagation.disable();
    }
  });
});
