/**
 * Authorization, in the shape of Temporal's `Authorizer.Authorize(claims, CallTarget)`: the
 * authenticated principal against the method table's permission class of the method, on the
 * resolved namespace. With identity configured (IdentityAuthorizer) that is Temporal Cloud's
 * model (@hourglass/identity's authorizeCall); without it (unit tests, the time-skipping test
 * server) every call is allowed.
 */
import { PermissionDeniedError } from '@hourglass/common';
import { authorizeCall, type Principal } from '@hourglass/identity';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { Permission } from '../method-table';
import type { Interceptor } from './chain';

/** What is being called. */
export interface CallTarget {
  /** `/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution`. */
  readonly method: string;
  /** The method's short name, for messages. */
  readonly methodName: string;
  /** The namespace the request names; '' for cluster-scoped methods. */
  readonly namespaceName: string;
  /** The resolved namespace, when the method's row resolves one. */
  readonly namespace: NamespaceRecord | undefined;
  /** The decoded request, for decisions that depend on it. */
  readonly request: unknown;
  /** The method table's permission class of the method. */
  readonly permission: Permission;
}

export interface Authorizer {
  /** Throws PermissionDeniedError (or UnauthenticatedError) to refuse the call. */
  authorize(principal: Principal | undefined, target: CallTarget): void | Promise<void>;
}

/** Allows every call (Temporal's noopAuthorizer). */
export const NOOP_AUTHORIZER: Authorizer = { authorize: () => undefined };

/** Temporal Cloud's permissions, for deployments with identity. */
export const IDENTITY_AUTHORIZER: Authorizer = {
  authorize(principal, target) {
    if (target.permission === 'none') return;
    // The authenticator lets a key-less call through only for methods that need nothing.
    if (!principal) throw new PermissionDeniedError(`${target.methodName}: an anonymous caller may not call it`, { type: 'PermissionDeniedFailure', reason: 'anonymous' });
    authorizeCall(principal, target.methodName, target.permission, target.namespace);
  },
};

export function authorizationInterceptor(authorizer: Authorizer): Interceptor {
  return {
    name: 'authorization',
    async intercept(call, next) {
      await authorizer.authorize(call.principal, {
        method: call.fullMethod,
        methodName: call.method,
        namespaceName: call.namespaceName,
        namespace: call.namespace,
        request: call.request,
        permission: call.spec.permission,
      });
      return next();
    },
  };
}
