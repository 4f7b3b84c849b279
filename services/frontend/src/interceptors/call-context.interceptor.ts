/**
 * The logging context of the call (method, the namespace and the workflow id the request names; the
 * trace id comes from the span it runs in) and its outcome: a debug line for a failed call, one line
 * at warn for what an operator should see (a worker's commands rejected, a method Hourglass does not
 * implement, a query no worker answered in time), rate limited per kind and method, and a usage
 * record for a billable call that succeeded (the metering hook).
 */
import { CommandRejectedError, RateLimitedLog, isHourglassError, type HourglassError, type Logger } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import { namespaceField } from '../method-table';
import type { Call, Interceptor } from './chain';

/** Receives one record per successful billable call (an Action). */
export interface UsageMeter {
  recordAction(record: { method: string; namespace: NamespaceRecord | undefined; namespaceName: string }): void;
}

export const NOOP_USAGE_METER: UsageMeter = { recordAction: () => undefined };

/** Characters of a namespace name kept in log lines (a 1000-byte name is legal but unreadable). */
const LOGGED_NAME_LIMIT = 100;

/** A failure an operator should see in the log, and the line it gets. */
function notable(call: Call, err: HourglassError): string | undefined {
  if (err.code === 'UNIMPLEMENTED') return 'method not implemented';
  // Only history's refusal of a command ('UnhandledCommand' is none: events arrived while the worker decided, and it retries).
  if (err instanceof CommandRejectedError) return 'workflow task commands rejected';
  if (call.method === 'QueryWorkflow' && err.code === 'DEADLINE_EXCEEDED') return 'query timed out';
  return undefined;
}

/** The workflow id a request names, if any (start, signal, query, describe, history, reset...). */
function workflowIdOf(request: unknown): string | undefined {
  const r = request as { workflowId?: unknown; workflowExecution?: { workflowId?: unknown } | null; execution?: { workflowId?: unknown } | null } | null;
  const id = r?.workflowId ?? r?.workflowExecution?.workflowId ?? r?.execution?.workflowId;
  return typeof id === 'string' && id !== '' ? id.slice(0, LOGGED_NAME_LIMIT) : undefined;
}

export function callContextInterceptor(logger: Logger, meter: UsageMeter, notableLog: RateLimitedLog = new RateLimitedLog()): Interceptor {
  return {
    name: 'callContext',
    async intercept(call, next) {
      call.logger = lazyChild(logger, () => {
        const field = namespaceField(call.spec);
        const named = field ? (call.request as Record<string, unknown> | null)?.[field] : undefined;
        const namespace = typeof named === 'string' && named ? named.slice(0, LOGGED_NAME_LIMIT) : undefined;
        const workflowId = workflowIdOf(call.request) ?? call.taskToken?.workflowId;
        return { method: call.method, ...(namespace ? { namespace } : {}), ...(workflowId ? { workflowId } : {}) };
      });
      try {
        const response = await next();
        if (call.spec.billable) meter.recordAction({ method: call.method, namespace: call.namespace, namespaceName: call.namespaceName });
        return response;
      } catch (err) {
        if (isHourglassError(err)) {
          const who = call.principal ? { principal: `${call.principal.type}:${call.principal.id}`, apiKeyId: call.principal.apiKeyId } : {};
          const line = notable(call, err);
          const admitted = line ? notableLog.admit(`${line}\u0000${call.method}`) : undefined;
          if (line && admitted) {
            call.logger.warn({ code: err.code, message: err.message.slice(0, 300), ...who, ...(admitted.suppressed > 0 ? { suppressedSinceLast: admitted.suppressed } : {}) }, line);
          } else if (!line) {
            call.logger.debug({ code: err.code, message: err.message.slice(0, 300), ...who }, 'rpc failed');
          }
        }
        throw err;
      }
    },
  };
}

/**
 * A child logger made on first use. A call logs only when something goes wrong, and a pino child
 * per call (it serializes its bindings) cost about as much as authenticating the call.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown> | (() => Record<string, unknown>)): Logger {
  let child: Logger | undefined;
  return new Proxy({} as Logger, {
    get(_target, property) {
      child ??= parent.child(typeof bindings === 'function' ? bindings() : bindings);
      const value: unknown = Reflect.get(child, property, child);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(child) : value;
    },
  });
}
