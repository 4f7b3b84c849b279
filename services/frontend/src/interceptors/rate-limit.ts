/**
 * Rate limiting keyed by the method table's bucket and priority (Temporal's frontend quotas: one
 * execution, one visibility and one namespace-replication bucket per namespace, each serving
 * priority 0 first). The default limiter admits everything; a real one refuses with
 * ResourceExhaustedError carrying ResourceExhaustedFailure (cause RPS_LIMIT), which the SDK backs
 * off on.
 */
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
  /** The caller's subject, when the claim mapper knows it. */
  readonly caller: string | undefined;
}

export interface RateLimiter {
  /** Resolves when the call may proceed; throws ResourceExhaustedError to refuse it. */
  acquire(request: RateLimitRequest): void | Promise<void>;
}

export const NOOP_RATE_LIMITER: RateLimiter = { acquire: () => undefined };

export function rateLimitInterceptor(limiter: RateLimiter): Interceptor {
  return {
    name: 'rateLimit',
    async intercept(call, next) {
      const { bucket } = call.spec.rateLimit;
      if (bucket !== 'none') {
        await limiter.acquire({
          bucket,
          priority: callPriority(call.spec, call.request),
          namespace: call.namespaceName,
          method: call.method,
          caller: call.principal ? `${call.principal.type}:${call.principal.id}` : undefined,
        });
      }
      return next();
    },
  };
}
