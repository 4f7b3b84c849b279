/**
 * The frontend's chain, in its one fixed order:
 *
 *   telemetry → callContext → authentication → namespace → authorization → rateLimit → admission → validation → handler
 *
 * Telemetry first, so a call's span and latency cover all of it (and its log lines carry the trace id);
 * the logging context next, so every later failure is logged with method and namespace;
 * authentication before the namespace, because whether a missing namespace is NOT_FOUND or
 * PERMISSION_DENIED depends on who asks; the namespace before authorization, because permissions
 * are per namespace; authorization before rate limiting,
 * so an unauthorized caller cannot spend a tenant's quota; admission after the rate limit, so only
 * calls within their quota wait for a place (fairly across namespaces); validation last, so it runs
 * with the namespace's limits and only for calls that are allowed and admitted.
 */
import { DEFAULT_SETTINGS, FrontendSettings, SystemClock, type Logger, type Settings } from '@hourglass/common';
import { RequestValidator } from '../validation/request-validator';
import { FairAdmission, admissionInterceptor } from './admission';
import { ANONYMOUS_AUTHENTICATOR, authenticationInterceptor, type Authenticator } from './authentication';
import { NOOP_AUTHORIZER, authorizationInterceptor, type Authorizer } from './authorization';
import { NOOP_USAGE_METER, callContextInterceptor, type UsageMeter } from './call-context.interceptor';
import { InterceptorChain } from './chain';
import { OPEN_NAMESPACE_POLICY, namespaceInterceptor, type NamespaceLookup, type NamespacePolicy } from './namespace.interceptor';
import { rateLimitInterceptor, type RateLimiter } from './rate-limit';
import { NamespaceRateLimiter } from './rate-limiter';
import { telemetryInterceptor, type CallTelemetry } from './telemetry.interceptor';
import { validationInterceptor } from './validation.interceptor';

export const CHAIN_ORDER = ['telemetry', 'callContext', 'authentication', 'namespace', 'authorization', 'rateLimit', 'admission', 'validation'] as const;

export interface ChainDeps {
  logger: Logger;
  namespaces: NamespaceLookup;
  settings?: Settings;
  authenticator?: Authenticator;
  namespacePolicy?: NamespacePolicy;
  authorizer?: Authorizer;
  /** Default: per-namespace RPS, APS and poll limits from `settings` (rate-limiter.ts), on the system clock. */
  rateLimiter?: RateLimiter;
  meter?: UsageMeter;
  validator?: RequestValidator;
  admission?: FairAdmission;
  /** Metrics and tracing (none by default). */
  telemetry?: CallTelemetry;
}

export function frontendChain(deps: ChainDeps): InterceptorChain {
  const settings = deps.settings ?? DEFAULT_SETTINGS;
  return new InterceptorChain([
    telemetryInterceptor(deps.telemetry ?? {}),
    callContextInterceptor(deps.logger, deps.meter ?? NOOP_USAGE_METER),
    authenticationInterceptor(deps.authenticator ?? ANONYMOUS_AUTHENTICATOR),
    namespaceInterceptor(deps.namespaces, settings, deps.namespacePolicy ?? OPEN_NAMESPACE_POLICY),
    authorizationInterceptor(deps.authorizer ?? NOOP_AUTHORIZER),
    rateLimitInterceptor(deps.rateLimiter ?? new NamespaceRateLimiter(settings, new SystemClock())),
    admissionInterceptor(deps.admission ?? new FairAdmission(() => settings.get(FrontendSettings.maxConcurrentCalls))),
    validationInterceptor(deps.validator ?? new RequestValidator(settings)),
  ]);
}

export * from './chain';
export * from './authorization';
export * from './authentication';
export * from './rate-limit';
export { NamespaceRateLimiter, effectiveNamespaceLimits } from './rate-limiter';
export { FairAdmission, isAdmitted, type Release } from './admission';
export { NOOP_USAGE_METER, type UsageMeter } from './call-context.interceptor';
export { telemetryInterceptor, type CallTelemetry } from './telemetry.interceptor';
export { OPEN_NAMESPACE_POLICY, identityNamespacePolicy, type NamespaceLookup, type NamespacePolicy } from './namespace.interceptor';
