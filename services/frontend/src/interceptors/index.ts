/**
 * The frontend's chain, in its one fixed order:
 *
 *   callContext → namespace → authorization → rateLimit → admission → validation → handler
 *
 * Logging context first, so every later failure is logged with method and namespace; the namespace
 * before authorization, because permissions are per namespace; authorization before rate limiting,
 * so an unauthorized caller cannot spend a tenant's quota; admission after the rate limit, so only
 * calls within their quota wait for a place (fairly across namespaces); validation last, so it runs
 * with the namespace's limits and only for calls that are allowed and admitted.
 */
import { DEFAULT_SETTINGS, FrontendSettings, SystemClock, type Logger, type Settings } from '@hourglass/common';
import { RequestValidator } from '../validation/request-validator';
import { FairAdmission, admissionInterceptor } from './admission';
import { ANONYMOUS_CLAIM_MAPPER, NOOP_AUTHORIZER, authorizationInterceptor, type Authorizer, type ClaimMapper } from './authorization';
import { NOOP_USAGE_METER, callContextInterceptor, type UsageMeter } from './call-context.interceptor';
import { InterceptorChain } from './chain';
import { namespaceInterceptor, type NamespaceLookup } from './namespace.interceptor';
import { rateLimitInterceptor, type RateLimiter } from './rate-limit';
import { NamespaceRateLimiter } from './rate-limiter';
import { validationInterceptor } from './validation.interceptor';

export const CHAIN_ORDER = ['callContext', 'namespace', 'authorization', 'rateLimit', 'admission', 'validation'] as const;

export interface ChainDeps {
  logger: Logger;
  namespaces: NamespaceLookup;
  settings?: Settings;
  claimMapper?: ClaimMapper;
  authorizer?: Authorizer;
  /** Default: per-namespace RPS, APS and poll limits from `settings` (rate-limiter.ts), on the system clock. */
  rateLimiter?: RateLimiter;
  meter?: UsageMeter;
  validator?: RequestValidator;
  admission?: FairAdmission;
}

export function frontendChain(deps: ChainDeps): InterceptorChain {
  const settings = deps.settings ?? DEFAULT_SETTINGS;
  return new InterceptorChain([
    callContextInterceptor(deps.logger, deps.meter ?? NOOP_USAGE_METER),
    namespaceInterceptor(deps.namespaces, settings),
    authorizationInterceptor(deps.claimMapper ?? ANONYMOUS_CLAIM_MAPPER, deps.authorizer ?? NOOP_AUTHORIZER),
    rateLimitInterceptor(deps.rateLimiter ?? new NamespaceRateLimiter(settings, new SystemClock())),
    admissionInterceptor(deps.admission ?? new FairAdmission(() => settings.get(FrontendSettings.maxConcurrentCalls))),
    validationInterceptor(deps.validator ?? new RequestValidator(settings)),
  ]);
}

export * from './chain';
export * from './authorization';
export * from './rate-limit';
export { NamespaceRateLimiter } from './rate-limiter';
export { FairAdmission, isAdmitted, type Release } from './admission';
export { NOOP_USAGE_METER, type UsageMeter } from './call-context.interceptor';
export type { NamespaceLookup } from './namespace.interceptor';
