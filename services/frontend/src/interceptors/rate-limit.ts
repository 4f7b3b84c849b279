/**
 * The rate-limit step of the chain: it describes the call to a RateLimiter from the method table's
 * row (bucket, priority, billable, polls, a worker's call) and the resolved namespace's operator-set
 * limits, and runs the call only if the limiter admits it. A limiter refuses by throwing
 * ResourceExhaustedError with ResourceExhaustedFailure details, which the SDKs back off on. The
 * default limiter is the per-namespace one in rate-limiter.ts; NOOP_RATE_LIMITER admits everything.
 */
import type { NamespaceLimits } from '@hourglass/persistence';
import type { RateLimitBucket } from '../method-table';
import { callPriority } from '../method-table';
import type { Interceptor } from './chain';

export interface RateLimitRequest {
  readonly bucket: Exclude<RateLimitBucket, 'none'>;
  /** 0 is served first; a long-polling call gets its row's polling priority. */
  readonly priority: number;
  /** '' for cluster-scoped methods. */
  readonly namespace: string;
  readonly method: string;
  /** The caller, `type:id`, when authenticated. */
  readonly caller: string | undefined;
  /** The caller's account id ('' for the operator): what the `control` bucket (account APIs) is keyed by. */
  readonly account: string | undefined;
  /** The resolved namespace record's operator-set limits; undefined when no record was resolved (RegisterNamespace). */
  readonly limits: NamespaceLimits | undefined;
  /** An Action (the row's `billable`): counted against actions per second too. */
  readonly billable: boolean;
  /** A task-queue or update poll (the row's polling `always`): holds a place until it returns. */
  readonly poll: boolean;
  /** A worker's call (the row's permission `worker`: polls, task completions, heartbeats): worker progress. */
  readonly workerProgress: boolean;
}

/** Gives back what a call held (a poll's place); called once, when the call returns. */
export type RateLimitRelease = () => void;

export interface RateLimiter {
  /**
   * Admits the call, or throws ResourceExhaustedError to refuse it. A call that holds a place while
   * it runs (a poll) gets a release, which the interceptor calls when the call returns.
   */
  acquire(request: RateLimitRequest): void | RateLimitRelease | Promise<void | RateLimitRelease>;
}

export const NOOP_RATE_LIMITER: RateLimiter = { acquire: () => undefined };

export function rateLimitInterceptor(limiter: RateLimiter): Interceptor {
  return {
    name: 'rateLimit',
    async intercept(call, next) {
      const { spec } = call;
      if (spec.rateLimit.bucket === 'none') return next();
      const release = await limiter.acquire({
        bucket: spec.rateLimit.bucket,
        priority: callPriority(spec, call.request),
        namespace: call.namespaceName,
        method: call.method,
        caller: call.principal ? `${call.principal.type}:${call.principal.id}` : undefined,
        account: call.principal?.accountId,
        limits: call.namespace?.limits,
        billable: spec.billable,
        poll: spec.polling === 'always',
        workerProgress: spec.permission === 'worker',
      });
      if (!release) return next();
      try {
        return await next();
      } finally {
        release();
      }
    },
  };
}
