export { createFrontend, type FrontendDeps } from './frontend';
export { FrontendServer, type ServiceRegistration } from './frontend-server';
export { WorkflowService, type WorkflowServiceDeps } from './workflow-service';
export { DEFAULT_FRONTEND_CONFIG, type FrontendConfig } from './config';
export type { CallContext } from './call-context';
export { METHOD_TABLE, methodSpec, WORKFLOW_SERVICE, OPERATOR_SERVICE, TEST_SERVICE, type MethodSpec, type NamespaceRule, type Permission, type RateLimit, type RateLimitBucket, type Polling } from './method-table';
export {
  CHAIN_ORDER,
  frontendChain,
  InterceptorChain,
  NOOP_AUTHORIZER,
  ANONYMOUS_CLAIM_MAPPER,
  NOOP_RATE_LIMITER,
  NamespaceRateLimiter,
  NOOP_USAGE_METER,
  type Authorizer,
  type AuthorizationResult,
  type CallTarget,
  type Claims,
  type ClaimMapper,
  type Role,
  type RateLimiter,
  type RateLimitRequest,
  type RateLimitRelease,
  type UsageMeter,
  type HandlerContext,
  type UnaryHandler,
} from './interceptors';
export { validateNamespaceName, isValidNamespaceName, NAMESPACE_NAME_RULE } from './validation/namespace-name';
export { testServiceHandlers } from './test-service';
