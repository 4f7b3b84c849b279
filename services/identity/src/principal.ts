/**
 * Who is calling, and what that principal may do: Temporal Cloud's model. An API key acts as its
 * owner (a user or a service account) and never grants more than the owner has. Account roles
 * give account-wide rights; namespace permissions (admin > write > read) give rights inside one
 * namespace; an account owner or admin is namespace admin on every namespace of its account.
 * Nothing here reads a store: a Principal is resolved once per call (authenticator.ts) and these
 * functions decide from it alone.
 */
import type { AccountRecord, AccountRole, NamespacePermission, NamespaceRecord, PrincipalType } from '@hourglass/persistence';

export interface Principal {
  type: PrincipalType;
  /** User, service account or operator key id. */
  id: string;
  /** Email of a user, name of a service account, 'operator'. */
  name: string;
  /** '' for the operator. */
  accountId: string;
  account: AccountRecord | undefined;
  /** Account role; undefined for a namespace-scoped service account and for the operator. */
  role: AccountRole | undefined;
  /** Namespace id → the permission granted on it. */
  grants: ReadonlyMap<string, NamespacePermission>;
  /** The key the call presented; '' for the key-less dev caller. */
  apiKeyId: string;
  /**
   * The key-less dev caller (plaintext dev port only): the dev account's owner, limited to the
   * namespaces `start-dev` serves by name.
   */
  restrictedToNamespaces?: ReadonlySet<string>;
}

const RANK: Record<NamespacePermission, number> = { read: 1, write: 2, admin: 3 };

/** Whether `held` includes `needed` (admin includes write includes read). */
export function includes(held: NamespacePermission | undefined, needed: NamespacePermission): boolean {
  return held !== undefined && RANK[held] >= RANK[needed];
}

/** The stronger of two permissions. */
export function strongest(a: NamespacePermission | undefined, b: NamespacePermission | undefined): NamespacePermission | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/** Owner and admin administer the whole account, every namespace included. */
export function isAccountAdmin(principal: Principal): boolean {
  return principal.role === 'owner' || principal.role === 'admin';
}

/** The principal's permission on a namespace; undefined when it has none (another account's included). */
export function namespacePermission(principal: Principal, namespace: Pick<NamespaceRecord, 'id' | 'name' | 'accountId'>): NamespacePermission | undefined {
  if (principal.type === 'operator' || principal.accountId === '' || namespace.accountId !== principal.accountId) return undefined;
  if (principal.restrictedToNamespaces && !principal.restrictedToNamespaces.has(namespace.name)) return undefined;
  if (isAccountAdmin(principal)) return 'admin';
  return principal.grants.get(namespace.id);
}

/** Account roles that may create namespaces (and become their admin). */
export function mayCreateNamespaces(principal: Principal): boolean {
  return principal.role === 'owner' || principal.role === 'admin' || principal.role === 'developer';
}

/**
 * Whether the principal may read a namespace's metrics (the namespace-scoped metrics endpoint, as
 * Temporal Cloud's OpenMetrics endpoint): the account roles metrics-read, admin and owner, on their
 * own account's namespaces only.
 */
export function mayReadNamespaceMetrics(principal: Principal, namespace: Pick<NamespaceRecord, 'name' | 'accountId' | 'state'>): boolean {
  if (principal.type === 'operator' || principal.accountId === '' || namespace.accountId !== principal.accountId || namespace.state === 'deleted') return false;
  if (principal.restrictedToNamespaces && !principal.restrictedToNamespaces.has(namespace.name)) return false;
  return principal.role === 'metricsRead' || isAccountAdmin(principal);
}

/** Whether the principal may use the metrics endpoint at all (some namespace may then be readable). */
export function mayReadMetrics(principal: Principal): boolean {
  return principal.type !== 'operator' && principal.accountId !== '' && (principal.role === 'metricsRead' || isAccountAdmin(principal));
}

/** Account roles that see usage and billing. */
export function mayReadBilling(principal: Principal): boolean {
  return principal.role === 'owner' || principal.role === 'admin' || principal.role === 'financeAdmin';
}

/** A name for messages and audit: `user alice@example.com`, `service account ci-deployer`. */
export function describePrincipal(principal: Pick<Principal, 'type' | 'name'>): string {
  switch (principal.type) {
    case 'user':
      return `user ${principal.name}`;
    case 'serviceAccount':
      return `service account ${principal.name}`;
    case 'operator':
      return 'the operator';
  }
}

/**
 * The operator as the server itself acts for it when it bootstraps (start-dev's development
 * account, `hourglass admin bootstrap`): audit records name it `bootstrap`.
 */
export function bootstrapPrincipal(name = 'bootstrap'): Principal {
  return { type: 'operator', id: name, name, accountId: '', account: undefined, role: undefined, grants: new Map(), apiKeyId: '' };
}
