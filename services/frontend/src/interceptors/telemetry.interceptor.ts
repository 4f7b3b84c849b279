/**
 * First in the chain: the call's metrics (count by outcome, latency, rate-limit refusals, by method
 * and namespace) and, with tracing on, its server span, continuing the caller's trace (W3C
 * traceparent metadata or the Temporal SDK's `_tracer-data` header: common/telemetry/tracing.ts).
 * Everything the chain and the handler do runs inside that span, so store writes and internal
 * calls become its children and log lines carry its trace id.
 *
 * Cheap when off: without a tracer no span object is made; metric label sets are cached per
 * (service, method, namespace) by ServerMetrics.rpc(). Task-queue polls are traced only inside a
 * sampled caller trace.
 */
import { performance } from 'node:perf_hooks';
import { SpanKind, SpanStatusCode, TraceFlags, extractCallerContext, isHourglassError, otelTrace, withSampledCall, type ServerMetrics, type Tracer } from '@hourglass/common';
import type { Call, Interceptor, Next } from './chain';

export interface CallTelemetry {
  metrics?: ServerMetrics;
  /** Present when tracing is on. */
  tracer?: Tracer;
}

/** ResourceExhaustedFailure causes (temporal.api.enums.v1.ResourceExhaustedCause) as metric labels. */
const EXHAUSTED_CAUSE: Record<number, string> = { 1: 'rps', 2: 'concurrent', 3: 'system', 4: 'persistence', 5: 'busy_workflow', 6: 'aps', 7: 'storage', 8: 'circuit_breaker', 9: 'ops' };

function outcome(err: unknown): string {
  return isHourglassError(err) ? err.code : 'INTERNAL';
}

/** The short service name (WorkflowService) of a full one (temporal.api.workflowservice.v1.WorkflowService). */
function shortService(service: string): string {
  return service.slice(service.lastIndexOf('.') + 1);
}

export function telemetryInterceptor({ metrics, tracer }: CallTelemetry): Interceptor {
  const record = (call: Call, code: string, started: number, err?: unknown): void => {
    if (!metrics) return;
    const namespace = call.namespace?.name ?? '';
    metrics.rpc(shortService(call.service), call.method, namespace).done(code, (performance.now() - started) / 1000);
    if (err && isHourglassError(err) && err.detail?.type === 'ResourceExhaustedFailure') {
      metrics.rateLimitRejections.inc({ namespace, cause: EXHAUSTED_CAUSE[err.detail.cause] ?? String(err.detail.cause) });
    }
  };
  const measured = async (call: Call, next: Next): Promise<unknown> => {
    const started = performance.now();
    try {
      const response = await next();
      record(call, 'OK', started);
      return response;
    } catch (err) {
      record(call, outcome(err), started, err);
      throw err;
    }
  };
  if (!tracer) return { name: 'telemetry', intercept: measured };
  return {
    name: 'telemetry',
    intercept(call, next) {
      const parent = extractCallerContext(call.context.metadata, call.request);
      // A task-queue poll is held up to a minute and a worker keeps dozens open: sampled at the
      // process's ratio, one would be in flight nearly all the time, and with it the context
      // manager's hooks on every promise of every call. Polls are traced only when the caller's
      // own trace is sampled (a worker whose poller carries a sampled context).
      if (call.spec.polling === 'always' && ((otelTrace.getSpanContext(parent)?.traceFlags ?? 0) & TraceFlags.SAMPLED) === 0) return measured(call, next);
      const span = tracer.startSpan(
        `${shortService(call.service)}/${call.method}`,
        { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': call.service, 'rpc.method': call.method } },
        parent,
      );
      if (!span.isRecording()) return measured(call, next);
      return withSampledCall(otelTrace.setSpan(parent, span), async () => {
        try {
          const response = await measured(call, next);
          span.setStatus({ code: SpanStatusCode.OK });
          return response;
        } catch (err) {
          const code = outcome(err);
          span.setAttribute('rpc.grpc.status_code_name', code);
          span.setStatus({ code: SpanStatusCode.ERROR, message: code });
          throw err;
        } finally {
          if (call.namespace) span.setAttribute('temporal.namespace', call.namespace.name);
          span.end();
        }
      });
    },
  };
}
