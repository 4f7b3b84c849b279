/**
 * Authentication and authorization, in the shape of Temporal's `ClaimMapper` and
 * `Authorizer.Authorize(claims, CallTarget)`: the claim mapper turns what the caller presented
 * (metadata: an API key, a JWT, a TLS identity) into Claims; the authorizer decides whether those
 * claims may call `target.method` on `target.namespace`, with the method table's permission class
 * at hand. Both default to allowing everything until accounts and API keys exist.
 */
import { PermissionDeniedError } from '@hourglass/common';
import type { CallContext } from '../call-context';
import type { Permission } from '../method-table';
import type { Interceptor } from './chain';

/** A role on one namespace or on the whole system. */
export type Role = 'reader' | 'writer' | 'worker' | 'admin';

/** Who the caller is, as the claim mapper established it. */
export interface Claims {
  /** The authenticated principal (user, service account, API key id). */
  subject?: string;
  /** Account/cluster-wide role. */
  system?: Role;
  /** Namespace name → role. */
  namespaces?: Readonly<Record<string, Role>>;
  /** Whatever else a claim mapper wants to pass its authorizer. */
  extensions?: unknown;
}

/** What is being called. */
export interface CallTarget {
  /** `/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution`. */
  readonly method: string;
  /** The namespace the request names; '' for cluster-scoped methods. */
  readonly namespace: string;
  /** The decoded request, for decisions that depend on it. */
  readonly request: unknown;
  /** The method table's permission class of the method. */
  readonly permission: Permission;
}

export type AuthorizationResult = { readonly decision: 'allow' } | { readonly decision: 'deny'; readonly reason: string };

export interface Authorizer {
  authorize(claims: Claims | undefined, target: CallTarget): AuthorizationResult | Promise<AuthorizationResult>;
}

export interface ClaimMapper {
  /** Claims of the caller; undefined for an anonymous caller. Throw UnauthenticatedError for bad credentials. */
  claims(context: CallContext): Claims | undefined | Promise<Claims | undefined>;
}

const ALLOW: AuthorizationResult = { decision: 'allow' };

/** Allows every call (Temporal's noopAuthorizer). */
export const NOOP_AUTHORIZER: Authorizer = { authorize: () => ALLOW };

/** Every caller is anonymous. */
export const ANONYMOUS_CLAIM_MAPPER: ClaimMapper = { claims: () => undefined };

export function authorizationInterceptor(claimMapper: ClaimMapper, authorizer: Authorizer): Interceptor {
  return {
    name: 'authorization',
    async intercept(call, next) {
      call.claims = await claimMapper.claims(call.context);
      const result = await authorizer.authorize(call.claims, { method: call.fullMethod, namespace: call.namespaceName, request: call.request, permission: call.spec.permission });
      if (result.decision === 'deny') {
        throw new PermissionDeniedError(`${call.method}: permission denied: ${result.reason}`, { type: 'PermissionDeniedFailure', reason: result.reason });
      }
      return next();
    },
  };
}
