/**
 * The decision in front of every data-plane call (WorkflowService, OperatorService): the method
 * table's permission class of the method, against what the principal holds on the call's
 * namespace. Temporal Cloud's workflow-level permissions: reads (describe, list, count, query,
 * history) need namespace read; everything that changes an execution or runs as a worker needs
 * write; namespace administration needs admin; creating a namespace needs the account role
 * developer, admin or owner.
 */
import { PermissionDeniedError } from '@hourglass/common';
import type { NamespacePermission, NamespaceRecord } from '@hourglass/persistence';
import { assertAccountActive } from './identity-service';
import { accountIdOfNamespaceName } from './names';
import { describePrincipal, includes, isAccountAdmin, mayCreateNamespaces, mayReadBilling, namespacePermission, type Principal } from './principal';

/**
 * What a method needs (the frontend's method table names one per method):
 * - `none`: nothing (capabilities, the test server's clock);
 * - `read`, `write`, `worker`, `namespaceAdmin`: that much on the call's namespace (`worker`: polls and
 *   task completions, which Cloud grants with write);
 * - `developer`: the account role developer, admin or owner (creating namespaces, Nexus endpoints);
 * - `accountMember`: any key of an active account (Cloud's account APIs; IdentityService decides the rest);
 * - `accountAdmin`: the account role admin or owner; `finance`: finance admin, admin or owner;
 * - `system`: administration of the cluster itself (remote clusters), which no account may do;
 * - `operator`: the platform's operator API, for operator keys only.
 */
export type PermissionClass = 'none' | 'read' | 'write' | 'worker' | 'namespaceAdmin' | 'developer' | 'accountMember' | 'accountAdmin' | 'finance' | 'system' | 'operator';

const NEEDED: Record<'read' | 'write' | 'worker' | 'namespaceAdmin', NamespacePermission> = {
  read: 'read',
  write: 'write',
  worker: 'write',
  namespaceAdmin: 'admin',
};

/**
 * Throws PERMISSION_DENIED unless `principal` may call `method` (of permission class `needed`) on
 * `namespace` (undefined for cluster-scoped calls, whose results the handler filters).
 */
export function authorizeCall(principal: Principal, method: string, needed: PermissionClass, namespace: NamespaceRecord | undefined): void {
  if (needed === 'none') return;
  if (needed === 'operator' || principal.type === 'operator') {
    if (needed === 'operator' && principal.type === 'operator') return;
    throw needed === 'operator'
      ? new PermissionDeniedError(`${method}: the operator API needs an operator key`, { type: 'PermissionDeniedFailure', reason: 'not an operator key' })
      : new PermissionDeniedError(`${method}: an operator key cannot call account or workflow APIs; use an account's API key`, { type: 'PermissionDeniedFailure', reason: 'operator key' });
  }
  assertAccountActive(principal);
  if (needed === 'system') throw deny(method, principal, 'administer the cluster');
  if (needed === 'accountMember') return;
  if (needed === 'developer') {
    if (!mayCreateNamespaces(principal)) throw deny(method, principal, `call ${method} (it needs the account role developer, admin or owner)`);
    return;
  }
  if (needed === 'accountAdmin') {
    if (!isAccountAdmin(principal)) throw deny(method, principal, `call ${method} (it needs the account role admin or owner)`);
    return;
  }
  if (needed === 'finance') {
    if (!mayReadBilling(principal)) throw deny(method, principal, `call ${method} (it needs the account role finance admin, admin or owner)`);
    return;
  }
  // Temporal Cloud's workflow APIs are for users and service accounts with namespace permissions;
  // the metrics-read role reads metrics only.
  if (principal.role === 'metricsRead' && !namespace) throw deny(method, principal, `call ${method} (the metrics-read role only reads metrics)`);
  // Cluster-scoped reads (ListNamespaces): allowed, and the handler lists only what the caller may see.
  if (!namespace) return;
  const held = namespacePermission(principal, namespace);
  if (!includes(held, NEEDED[needed])) {
    throw deny(method, principal, held === undefined ? `use namespace ${namespace.name}` : `call ${method} on namespace ${namespace.name} (it needs namespace ${NEEDED[needed]}; the caller has ${held})`);
  }
}

/**
 * How a namespace name the caller named may be answered. A name in the caller's own space (its
 * account's suffix; for the development account, unsuffixed names) that does not exist is
 * NOT_FOUND; any name of another account is PERMISSION_DENIED whether it exists or not, so no
 * caller learns another tenant's namespaces.
 */
export function namespaceLookupOutcome(principal: Principal, name: string, found: NamespaceRecord | undefined, devAccountId: string | undefined): 'visible' | 'notFound' | 'denied' {
  if (found && found.state !== 'deleted' && namespacePermission(principal, found) !== undefined) return 'visible';
  const space = accountIdOfNamespaceName(name) ?? devAccountId;
  const ownSpace = space !== undefined && space === principal.accountId && (!principal.restrictedToNamespaces || principal.restrictedToNamespaces.has(name) || !found);
  if (ownSpace && (!found || found.state === 'deleted')) return 'notFound';
  return 'denied';
}

export function namespaceDenied(method: string, principal: Principal, name: string): PermissionDeniedError {
  return deny(method, principal, `use namespace ${name}`);
}

function deny(method: string, principal: Principal, what: string): PermissionDeniedError {
  return new PermissionDeniedError(`${method}: ${describePrincipal(principal)} may not ${what}`, { type: 'PermissionDeniedFailure', reason: what });
}
