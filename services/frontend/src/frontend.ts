/**
 * Builds the frontend of one deployable: the interceptor chain and the services it serves
 * (WorkflowService and OperatorService; the TestService too when a time-skipping clock is given).
 */
import { DEFAULT_SETTINGS, type Logger, type Settings, type TimeSkippingClock } from '@hourglass/common';
import type { HistoryService, MatchingService } from '@hourglass/contracts';
import type { NamespaceRegistry } from '@hourglass/history';
import type { FrontendConfig } from './config';
import { FrontendServer, type ServiceRegistration } from './frontend-server';
import { frontendChain, type Authorizer, type ClaimMapper, type RateLimiter, type UsageMeter } from './interceptors';
import { OPERATOR_SERVICE, TEST_SERVICE, WORKFLOW_SERVICE } from './method-table';
import { operatorServiceHandlers } from './operator-service';
import { testServiceHandlers } from './test-service';
import { WorkflowService } from './workflow-service';

export interface FrontendDeps {
  config: FrontendConfig;
  logger: Logger;
  history: HistoryService;
  matching: MatchingService;
  namespaces: NamespaceRegistry;
  /** Limits are read here (`Limits.*`); default: every setting's default. */
  settings?: Settings;
  /** Serves the TestService over this clock (the time-skipping test server). */
  timeSkippingClock?: TimeSkippingClock;
  claimMapper?: ClaimMapper;
  authorizer?: Authorizer;
  rateLimiter?: RateLimiter;
  meter?: UsageMeter;
}

export function createFrontend(deps: FrontendDeps): FrontendServer {
  const settings = deps.settings ?? DEFAULT_SETTINGS;
  const service = new WorkflowService({ config: deps.config, history: deps.history, matching: deps.matching, namespaces: deps.namespaces });
  const registrations: ServiceRegistration[] = [
    { serviceName: WORKFLOW_SERVICE, handlers: service.handlers() },
    { serviceName: OPERATOR_SERVICE, handlers: operatorServiceHandlers() },
  ];
  if (deps.timeSkippingClock) registrations.push({ serviceName: TEST_SERVICE, handlers: testServiceHandlers(deps.timeSkippingClock) });
  const chain = frontendChain({
    logger: deps.logger,
    namespaces: deps.namespaces,
    settings,
    ...(deps.claimMapper ? { claimMapper: deps.claimMapper } : {}),
    ...(deps.authorizer ? { authorizer: deps.authorizer } : {}),
    ...(deps.rateLimiter ? { rateLimiter: deps.rateLimiter } : {}),
    ...(deps.meter ? { meter: deps.meter } : {}),
  });
  return new FrontendServer(deps.config, deps.logger, chain, registrations, settings);
}
