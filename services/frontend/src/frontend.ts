/**
 * Builds the frontend of one deployable: the interceptor chain and the services it serves
 * (WorkflowService and OperatorService; CloudService with identity; the TestService too when a
 * time-skipping clock is given).
 */
import { DEFAULT_SETTINGS, type Logger, type Settings, type TimeSkippingClock } from '@hourglass/common';
import type { HistoryService, MatchingService } from '@hourglass/contracts';
import type { NamespaceRegistry } from '@hourglass/history';
import type { FrontendConfig } from './config';
import { FrontendServer, type ServiceRegistration } from './frontend-server';
import type { IdentityService } from '@hourglass/identity';
import type { NamespaceLimits, NamespaceRecord } from '@hourglass/persistence';
import type { VisibilitySearch } from '@hourglass/visibility';
import type { Billing } from '@hourglass/usage';
import { cloudServiceHandlers } from './cloud-service';
import { operatorApiHandlers } from './operator-api';
import { frontendChain, type Authenticator, type Authorizer, type NamespacePolicy, type RateLimiter, type UsageMeter, type CallTelemetry } from './interceptors';
import { CLOUD_SERVICE, OPERATOR_API, OPERATOR_SERVICE, TEST_SERVICE, WORKFLOW_SERVICE } from './method-table';
import { operatorHandlers } from './operator-delete-namespace';
import { testServiceHandlers } from './test-service';
import { WorkflowService, type ClusterInfo } from './workflow-service';

export interface FrontendDeps {
  config: FrontendConfig;
  /** For GetClusterInfo. */
  cluster?: ClusterInfo;
  logger: Logger;
  history: HistoryService;
  matching: MatchingService;
  namespaces: NamespaceRegistry;
  /** List, scan and count over executions; absent: those RPCs answer UNIMPLEMENTED. */
  visibility?: VisibilitySearch;
  /** Limits are read here (`Limits.*`); default: every setting's default. */
  settings?: Settings;
  /** Serves the TestService over this clock (the time-skipping test server). */
  timeSkippingClock?: TimeSkippingClock;
  /** Accounts and API keys: with it, every call is authenticated and authorized and CloudService is served. */
  identity?: FrontendIdentity;
  rateLimiter?: RateLimiter;
  meter?: UsageMeter;
  /** Metrics and tracing of every call (none by default). */
  telemetry?: CallTelemetry;
}

export interface FrontendIdentity {
  service: IdentityService;
  authenticator: Authenticator;
  authorizer: Authorizer;
  namespacePolicy: NamespacePolicy;
  /** The account of start-dev's unsuffixed namespaces; undefined outside development. */
  devAccountId: () => string | undefined;
  /** Where customers connect (namespace endpoints in CloudService). */
  grpcAddress: () => string;
  /** A namespace's limits as rate limiting applies them (its own, else the defaults). */
  effectiveLimits: (ns: NamespaceRecord) => Required<NamespaceLimits>;
  /** Usage and billing (CloudService GetUsage and billing reports, the operator API's usage and invoices). */
  billing?: Billing;
}

export function createFrontend(deps: FrontendDeps): FrontendServer {
  const settings = deps.settings ?? DEFAULT_SETTINGS;
  const { identity } = deps;
  const service = new WorkflowService({
    config: deps.config,
    ...(deps.cluster ? { cluster: deps.cluster } : {}),
    history: deps.history,
    matching: deps.matching,
    namespaces: deps.namespaces,
    settings,
    ...(deps.visibility ? { visibility: deps.visibility } : {}),
    ...(identity ? { identity: { service: identity.service, devAccountId: identity.devAccountId } } : {}),
  });
  const registrations: ServiceRegistration[] = [
    { serviceName: WORKFLOW_SERVICE, handlers: service.handlers() },
    {
      serviceName: OPERATOR_SERVICE,
      handlers: operatorHandlers({ history: deps.history, namespaces: deps.namespaces, ...(identity ? { identity: identity.service } : {}) }),
    },
  ];
  if (identity) {
    registrations.push({
      serviceName: CLOUD_SERVICE,
      handlers: cloudServiceHandlers({
        identity: identity.service,
        grpcAddress: identity.grpcAddress,
        actionsPerSecondLimit: (ns) => identity.effectiveLimits(ns).aps,
        ...(identity.billing ? { billing: identity.billing } : {}),
      }),
    });
    registrations.push({
      serviceName: OPERATOR_API,
      handlers: operatorApiHandlers({ identity: identity.service, effectiveLimits: identity.effectiveLimits, ...(identity.billing ? { billing: identity.billing } : {}) }),
    });
  }
  if (deps.timeSkippingClock) registrations.push({ serviceName: TEST_SERVICE, handlers: testServiceHandlers(deps.timeSkippingClock) });
  const chain = frontendChain({
    logger: deps.logger,
    namespaces: deps.namespaces,
    settings,
    ...(identity ? { authenticator: identity.authenticator, authorizer: identity.authorizer, namespacePolicy: identity.namespacePolicy } : {}),
    ...(deps.rateLimiter ? { rateLimiter: deps.rateLimiter } : {}),
    ...(deps.meter ? { meter: deps.meter } : {}),
    ...(deps.telemetry ? { telemetry: deps.telemetry } : {}),
  });
  return new FrontendServer(deps.config, deps.logger, chain, registrations, settings);
}
