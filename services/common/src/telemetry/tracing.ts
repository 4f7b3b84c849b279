/**
 * Tracing with OpenTelemetry: off unless configured by the standard OTEL_* variables; when on, a
 * span per RPC (the frontend's telemetry interceptor) with internal work and store writes as child
 * spans, exported over OTLP/HTTP. The exporter and the sampler read their own variables
 * (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG...), as every OpenTelemetry SDK does.
 *
 * A caller's trace continues on the server from either carrier the Temporal SDKs and gRPC
 * instrumentations use: W3C `traceparent`/`tracestate` gRPC metadata, or the `_tracer-data` header
 * that @temporalio/interceptors-opentelemetry puts into the request's Temporal `Header` (a JSON
 * payload holding the same two fields) for start, signal, signal-with-start, query and update.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, propagation, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

export { SpanKind, SpanStatusCode, TraceFlags, context as otelContext, trace as otelTrace, type Context, type Span, type Tracer };

/** The name of the tracer every Hourglass span comes from. */
export const TRACER_NAME = 'hourglass';

export interface TracingSettings {
  /** Tracing runs (an exporter was configured, and the SDK not disabled). */
  enabled: boolean;
  serviceName: string;
}

/**
 * What the OTEL_* variables say (the caller passes the environment: config is read in one place).
 * Tracing is on when OTEL_TRACES_EXPORTER is `otlp`, or when it is unset and an OTLP endpoint is
 * given; OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn it off.
 */
export function tracingSettingsFromEnv(env: Record<string, string | undefined>, defaultServiceName = 'hourglass'): TracingSettings {
  const serviceName = env.OTEL_SERVICE_NAME || defaultServiceName;
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return { enabled: false, serviceName };
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (exporters.length > 0) return { enabled: exporters.includes('otlp'), serviceName };
  return { enabled: Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), serviceName };
}

export interface RunningTracing {
  readonly tracer: Tracer;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing for this process (the global tracer provider, context manager and W3C propagator)
 * or returns undefined when it is off. `exporter` replaces OTLP (tests).
 */
export function startTracing(settings: TracingSettings, exporter?: SpanExporter): RunningTracing | undefined {
  if (!settings.enabled && !exporter) return undefined;
  // OpenTelemetry's SDK and OTLP exporter are loaded here, only when tracing is on: together they
  // took close to half a second of every process's start, traced or not.
  const core = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const resources = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const traceBase = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const spanExporter = exporter ?? new (require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  const provider = new traceBase.BasicTracerProvider({ resource: new resources.Resource({ 'service.name': settings.serviceName }) });
  provider.addSpanProcessor(new traceBase.BatchSpanProcessor(spanExporter));
  sampledCalls = new SampledCallsContextManager();
  provider.register({ contextManager: sampledCalls, propagator: new core.W3CTraceContextPropagator() });
  return {
    tracer: provider.getTracer(TRACER_NAME),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/**
 * The process's context manager (Node's AsyncLocalStorage), with its async hooks on only while a
 * sampled call is in flight. Once entered, Node 20's AsyncLocalStorage runs hooks on every promise
 * the process creates: at a 1 % sampling rate that cost (several per cent of the busy CPU) would be
 * paid for the 99 % of calls that make no span. So the storage is disabled whenever the last sampled
 * call ends, and the next sampled call's `with` enables it again. Work a sampled call leaves
 * running after its answer (a task processed later) may then run outside its trace.
 */
class SampledCallsContextManager extends AsyncLocalStorageContextManager {
  private inFlight = 0;

  async runSampled<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    try {
      return await this.with(ctx, fn);
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.disable();
    }
  }
}

let sampledCalls: SampledCallsContextManager | undefined;

/**
 * Runs a sampled call's `fn` in `ctx` (its server span's context): what the call does, and the
 * spans and log lines it makes, see that span as active.
 */
export function withSampledCall<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
  return sampledCalls ? sampledCalls.runSampled(ctx, fn) : context.with(ctx, fn);
}

/**
 * Runs `fn` in a child span of the active span when that span is recording (a traced RPC), else
 * just runs it: no span objects at all when tracing is off or the call was not sampled.
 */
export function childSpan<T>(name: string, attributes: Record<string, string | number>, fn: () => Promise<T>): Promise<T> {
  const parent = trace.getActiveSpan();
  if (!parent?.isRecording()) return fn();
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message?.slice(0, 200) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The ids of the active span, for log lines; undefined outside a traced call. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

interface TextCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** Where the Temporal SDK's tracing interceptors put the trace context in a request's Header. */
export const TEMPORAL_TRACE_HEADER = '_tracer-data';

type PayloadLike = { data?: Uint8Array | null } | null | undefined;
type HeaderLike = { fields?: Record<string, PayloadLike> | null } | null | undefined;

/**
 * The caller's trace context: from `traceparent` metadata, else from the Temporal header of the
 * request (its `header`, a query's `query.header`, an update's `request.input.header`). ROOT_CONTEXT
 * when the caller sent none (or sent something unreadable: a bad carrier never fails a call).
 */
export function extractCallerContext(metadata: { get(key: string): unknown[] }, request: unknown): Context {
  const traceparent = metadata.get('traceparent')[0];
  if (typeof traceparent === 'string') {
    const tracestate = metadata.get('tracestate')[0];
    return propagation.extract(ROOT_CONTEXT, { traceparent, ...(typeof tracestate === 'string' ? { tracestate } : {}) });
  }
  const r = request as { header?: HeaderLike; query?: { header?: HeaderLike } | null; request?: { input?: { header?: HeaderLike } | null } | null } | null;
  const header = r?.header ?? r?.query?.header ?? r?.request?.input?.header;
  const data = header?.fields?.[TEMPORAL_TRACE_HEADER]?.data;
  if (!data || data.length > 4096) return ROOT_CONTEXT;
  try {
    const carrier = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as TextCarrier;
    if (typeof carrier?.traceparent !== 'string') return ROOT_CONTEXT;
    return propagation.extract(ROOT_CONTEXT, { traceparent: carrier.traceparent, ...(typeof carrier.tracestate === 'string' ? { tracestate: carrier.tracestate } : {}) });
  } catch {
    return ROOT_CONTEXT;
  }
}

/**
 * `service` with each method call a child span `<prefix>.<method>` of the active span, when that is
 * recording (internal calls of a traced RPC: frontend → history, → matching). Sync methods stay
 * sync. Wrap only when tracing is on: off, the service is used as it is.
 */
export function tracedService<T extends object>(service: T, prefix: string): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(service, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      let traced = wrapped.get(property);
      if (!traced) {
        const method = value as (...args: unknown[]) => unknown;
        const name = `${prefix}.${property}`;
        traced = function (this: unknown, ...args: unknown[]): unknown {
          const parent = trace.getActiveSpan();
          if (!parent?.isRecording()) return method.apply(target, args);
          const span = trace.getTracer(TRACER_NAME).startSpan(name, { kind: SpanKind.INTERNAL });
          const fail = (err: unknown): never => {
            span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message?.slice(0, 200) });
            span.end();
            throw err;
          };
          let result: unknown;
          try {
            result = context.with(trace.setSpan(context.active(), span), () => method.apply(target, args));
          } catch (err) {
            return fail(err);
          }
          if (result && typeof (result as Promise<unknown>).then === 'function') {
            return (result as Promise<unknown>).then((v) => {
              span.end();
              return v;
            }, fail);
          }
          span.end();
          return result;
        };
        wrapped.set(property, traced);
      }
      return traced;
    },
  });
}
