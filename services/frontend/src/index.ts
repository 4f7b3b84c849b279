export { createFrontend, type FrontendDeps, type FrontendIdentity } from './frontend';
export { PROTO_DIR, hourglassProtoRoot } from './grpc/hourglass-protos';
export { FrontendServer, ListenError, type ServiceRegistration } from './frontend-server';
export { WorkflowService, type WorkflowServiceDeps, type ClusterInfo } from './workflow-service';
export { DEFAULT_FRONTEND_CONFIG, type FrontendConfig, type FrontendTlsConfig } from './config';
export type { CallContext, Transport } from './call-context';
export { METHOD_TABLE, methodSpec, WORKFLOW_SERVICE, OPERATOR_SERVICE, TEST_SERVICE, CLOUD_SERVICE, OPERATOR_API, type MethodSpec, type NamespaceRule, type Permission, type RateLimit, type RateLimitBucket, type Polling } from './method-table';
export {
  CHAIN_ORDER,
  frontendChain,
  InterceptorChain,
  NOOP_AUTHORIZER,
  IDENTITY_AUTHORIZER,
  ANONYMOUS_AUTHENTICATOR,
  ApiKeyCallAuthenticator,
  OPEN_NAMESPACE_POLICY,
  identityNamespacePolicy,
  effectiveNamespaceLimits,
  NOOP_RATE_LIMITER,
  NamespaceRateLimiter,
  NOOP_USAGE_METER,
  type Authorizer,
  type Authenticator,
  type CallTarget,
  type NamespacePolicy,
  type RateLimiter,
  type RateLimitRequest,
  type RateLimitRelease,
  type UsageMeter,
  type HandlerContext,
  type UnaryHandler,
} from './interceptors';
export { validateNamespaceName, isValidNamespaceName, NAMESPACE_NAME_RULE } from './validation/namespace-name';
export { testServiceHandlers } from './test-service';
