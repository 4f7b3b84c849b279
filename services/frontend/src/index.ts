export { FrontendServer, type ServiceRegistration } from './frontend-server';
export { WorkflowService, type WorkflowServiceDeps, type UnaryHandler } from './workflow-service';
export { DEFAULT_FRONTEND_CONFIG, type FrontendConfig } from './config';
export type { CallContext } from './call-context';
export { WORKFLOW_SERVICE, OPERATOR_SERVICE, TEST_SERVICE } from './grpc/service-definition';
export { testServiceHandlers } from './test-service';
