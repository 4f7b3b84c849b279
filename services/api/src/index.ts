export { ApiServer, GRAPHQL_PATH, MAX_QUERY_COST, MAX_QUERY_DEPTH, type ApiServerOptions } from './api-server';
export { createContext, type ApiContext, type ApiDeps, type GatewayService, type WorkflowGateway } from './context';
export { PortalAuth, SESSION_PREFIX, MIN_PASSWORD_LENGTH, newPassword, type Caller, type PortalAuthOptions } from './portal-auth';
export { GRAPHQL_CODE, toGraphQLError } from './errors';
export { typeDefs } from './schema';
export { OidcVerifier, oidcSettingsFromEnv, type OidcIdentity, type OidcSettings } from './oidc';
