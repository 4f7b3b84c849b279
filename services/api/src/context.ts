/**
 * What every resolver gets: the caller (authenticated once per request), the domain services, and
 * the request's loaders. Services are reached through counting wrappers so a request knows how
 * many service calls it made (`extensions.serviceCalls` of each answer): a list page must cost the
 * same whatever its size.
 */
import DataLoader from 'dataloader';
import { UnauthenticatedError } from '@hourglass/common';
import type { ActorContext, IdentityService, Principal } from '@hourglass/identity';
import type { NamespaceLimits, NamespaceRecord, PortalStore } from '@hourglass/persistence';
import type { Billing } from '@hourglass/usage';
import type { Caller, PortalAuth } from './portal-auth';

/** The gRPC services the API calls in process, through the frontend's interceptor chain and method table. */
export type GatewayService = 'WorkflowService' | 'OperatorService';

/**
 * Calls a WorkflowService or OperatorService method as `principal`, exactly as a gRPC call would be
 * served (namespace resolution, authorization, rate limits, validation, metering), in process.
 */
export interface WorkflowGateway {
  call(service: GatewayService, method: string, request: object, principal: Principal, signal?: AbortSignal): Promise<any>;
}

/** What OperatorService ListSearchAttributes answers: attribute name → IndexedValueType. */
export interface SearchAttributesResponse {
  customAttributes?: Record<string, number> | null;
  systemAttributes?: Record<string, number> | null;
}

export interface ApiDeps {
  identity: IdentityService;
  auth: PortalAuth;
  /** Saved workflow views. */
  portal: PortalStore;
  gateway: WorkflowGateway;
  billing: Billing | undefined;
  /** A namespace's limits as rate limiting applies them. */
  limitsOf: (ns: NamespaceRecord) => Required<NamespaceLimits>;
  /** The public base URL of billing report downloads. */
  downloadBaseUrl: () => string | undefined;
}

/** A field resolver of Query or Mutation. */
export type Resolver = (parent: unknown, args: Record<string, any>, ctx: ApiContext) => Promise<unknown>;

/** One area's Query and Mutation fields. */
export interface ResolverMap {
  Query: Record<string, Resolver>;
  Mutation: Record<string, Resolver>;
}

/** What a resolver returns for an object type: plain values and lazily resolved fields. */
export type ObjectView = Record<string, unknown>;

export interface ApiContext {
  deps: ApiDeps;
  /** The caller; throws UNAUTHENTICATED when the request carried no valid credential. */
  caller(): Caller;
  principal(): Principal;
  actor(operation: string): ActorContext;
  /** The identity service, counted. */
  identity: IdentityService;
  /** A gateway call as the caller, counted. */
  call(service: GatewayService, method: string, request: object): Promise<any>;
  /** Namespaces by name, loaded once per request whatever the number of rows that name them. */
  namespaceByName: DataLoader<string, NamespaceRecord>;
  /** ListSearchAttributes answers by namespace name, once per request per namespace. */
  searchAttributesOf: DataLoader<string, SearchAttributesResponse>;
  /** Shared by every copy Apollo makes of the context (it copies it per operation). */
  stats: { serviceCalls: number };
  signal: AbortSignal | undefined;
  xForwardedFor: string;
}

export function createContext(deps: ApiDeps, authenticated: { caller?: Caller; error?: unknown }, request: { xForwardedFor: string; signal?: AbortSignal }): ApiContext {
  const ctx: ApiContext = {
    deps,
    stats: { serviceCalls: 0 },
    signal: request.signal,
    xForwardedFor: request.xForwardedFor,
    caller() {
      if (authenticated.caller) return authenticated.caller;
      throw authenticated.error ?? new UnauthenticatedError('this API needs a credential: send "Authorization: Bearer <API key or session token>" (signIn returns a session token)');
    },
    principal() {
      return ctx.caller().principal;
    },
    actor(operation) {
      return { principal: ctx.principal(), operation, ...(ctx.xForwardedFor ? { xForwardedFor: ctx.xForwardedFor } : {}) };
    },
    identity: counted(deps.identity, () => (ctx.stats.serviceCalls += 1)),
    call(service, method, request) {
      ctx.stats.serviceCalls += 1;
      return deps.gateway.call(service, method, request, ctx.principal(), ctx.signal);
    },
    namespaceByName: new DataLoader<string, NamespaceRecord>(
      // One identity read per distinct name: a page whose rows all name one namespace reads it once.
      async (names) => Promise.all(names.map((name) => ctx.identity.getNamespace(ctx.actor('GetNamespace'), name).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))))),
    ),
    searchAttributesOf: new DataLoader<string, SearchAttributesResponse>(async (names) =>
      Promise.all(names.map((name) => (ctx.call('OperatorService', 'ListSearchAttributes', { namespace: name }) as Promise<SearchAttributesResponse>).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))))),
    ),
  };
  return ctx;
}

/** The service with every method call counted. */
function counted<T extends object>(service: T, count: () => void): T {
  return new Proxy(service, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        count();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
