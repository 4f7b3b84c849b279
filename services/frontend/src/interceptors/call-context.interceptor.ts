/**
 * First in the chain: the logging context of the call (method, and the namespace the request names)
 * and its outcome — a debug line for a failed call, and a usage record for a billable one that
 * succeeded (the metering hook).
 */
import { isHourglassError, type Logger } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import { namespaceField } from '../method-table';
import type { Interceptor } from './chain';

/** Receives one record per successful billable call (an Action). */
export interface UsageMeter {
  recordAction(record: { method: string; namespace: NamespaceRecord | undefined; namespaceName: string }): void;
}

export const NOOP_USAGE_METER: UsageMeter = { recordAction: () => undefined };

/** Characters of a namespace name kept in log lines (a 1000-byte name is legal but unreadable). */
const LOGGED_NAME_LIMIT = 100;

export function callContextInterceptor(logger: Logger, meter: UsageMeter): Interceptor {
  return {
    name: 'callContext',
    async intercept(call, next) {
      const field = namespaceField(call.spec);
      const named = field ? (call.request as Record<string, unknown> | null)?.[field] : undefined;
      const namespace = typeof named === 'string' && named ? named.slice(0, LOGGED_NAME_LIMIT) : undefined;
      call.logger = lazyChild(logger, namespace ? { method: call.method, namespace } : { method: call.method });
      try {
        const response = await next();
        if (call.spec.billable) meter.recordAction({ method: call.method, namespace: call.namespace, namespaceName: call.namespaceName });
        return response;
      } catch (err) {
        if (isHourglassError(err)) {
          const who = call.principal ? { principal: `${call.principal.type}:${call.principal.id}`, apiKeyId: call.principal.apiKeyId } : {};
          call.logger.debug({ code: err.code, message: err.message.slice(0, 300), ...who }, 'rpc failed');
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
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  return new Proxy({} as Logger, {
    get(_target, property) {
      child ??= parent.child(bindings);
      const value: unknown = Reflect.get(child, property, child);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(child) : value;
    },
  });
}
