/**
 * The identity domain: every rule about accounts, users, service accounts, API keys, namespaces as
 * an account's resources, and the audit log, in one place. CloudService (Temporal Cloud's Cloud
 * Ops API), the operator API and the portal's GraphQL API all call these methods with the calling
 * principal; none of them re-implements a rule. Who may do what follows Temporal Cloud's
 * permissions reference (account roles: owner, admin, developer, finance admin, read, metrics
 * read; namespace permissions: admin, write, read).
 *
 * Every change is one store commit with its audit record and its async operation (Hourglass
 * applies changes synchronously, so operations are recorded fulfilled). A change names the
 * resource version it was made against; a stale one is refused with FAILED_PRECONDITION and
 * nothing changes. Refused calls write nothing, not even an audit record.
 */
import { randomUUID } from 'node:crypto';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  quote,
  type Clock,
  type Logger,
} from '@hourglass/common';
import { ConditionFailedError } from '@hourglass/persistence';
import type {
  AccountRecord,
  AccountRole,
  ApiKeyRecord,
  AsyncOperationRecord,
  AuditRecord,
  GrantWrite,
  IdentityCommit,
  IdentityPage,
  IdentityStore,
  IdentityWrite,
  ListPage,
  NamespaceGrantRecord,
  NamespaceLimits,
  NamespacePermission,
  NamespaceRecord,
  NamespaceStore,
  ServiceAccountRecord,
  UserRecord,
} from '@hourglass/persistence';
import {
  accountIdOfNamespaceName,
  checkNamespaceShortName,
  cloudNamespaceName,
  emailProblem,
  newAccountId,
  normalizeEmail,
} from './names';
import { describePrincipal, includes, isAccountAdmin, mayCreateNamespaces, namespacePermission, type Principal } from './principal';
import { hashSecret, newKeyId, newToken } from './tokens';

export const ACCOUNT_ROLES: readonly AccountRole[] = ['owner', 'admin', 'developer', 'financeAdmin', 'read', 'metricsRead'];
export const NAMESPACE_PERMISSIONS: readonly NamespacePermission[] = ['admin', 'write', 'read'];

/** Temporal Cloud's retention bounds and default, in days. */
export const RETENTION_DAYS = { min: 1, max: 90, default: 30 } as const;
const DAY_MS = 86_400_000;
/** Cloud caps API key lifetimes at two years. */
const MAX_KEY_LIFETIME_MS = 2 * 366 * DAY_MS;
const AUDIT_PAGE_MAX = 1000;

/** Who is calling, and for which RPC (the audit log names both). */
export interface ActorContext {
  principal: Principal;
  /** The RPC name, e.g. `CreateApiKey`. */
  operation: string;
  xForwardedFor?: string;
  /** The caller's idempotency id for this change (Cloud's async_operation_id). */
  asyncOperationId?: string;
}

/** A namespace permission granted to a principal, with its namespace. */
export interface NamespaceAccessView {
  namespace: NamespaceRecord;
  permission: NamespacePermission;
}

export interface UserView {
  user: UserRecord;
  access: NamespaceAccessView[];
}

export interface ServiceAccountView {
  serviceAccount: ServiceAccountRecord;
  access: NamespaceAccessView[];
  /** The namespace of a namespace-scoped service account. */
  scopedNamespace: NamespaceRecord | undefined;
}

export interface Changed<T> {
  result: T;
  operation: AsyncOperationRecord;
}

export interface UserSpec {
  email: string;
  role: AccountRole;
  /** Namespace name → permission. */
  namespaceAccess: ReadonlyMap<string, NamespacePermission>;
}

export interface ServiceAccountSpec {
  name: string;
  description: string;
  /** Account role of an account-level service account. */
  role?: AccountRole;
  namespaceAccess?: ReadonlyMap<string, NamespacePermission>;
  /** A namespace-scoped service account: its one namespace and permission (then no role). */
  scoped?: { namespace: string; permission: NamespacePermission };
}

export interface NamespaceSpec {
  /** The short name (2–39 characters); the namespace is `<name>.<account id>`. */
  name: string;
  retentionDays?: number;
  description?: string;
  /** Custom search attributes (name → type), already checked by the caller against the caps. */
  searchAttributes?: Record<string, string>;
}

export interface ApiKeySpec {
  ownerType: 'user' | 'serviceAccount';
  ownerId: string;
  displayName: string;
  description: string;
  /** ms since epoch; undefined: never (operator and dev keys only; Cloud requires one). */
  expiresAt: number | undefined;
  disabled: boolean;
}

export interface CreatedKey {
  key: ApiKeyRecord;
  /** The token, shown once. */
  token: string;
}

export interface IdentityServiceOptions {
  store: IdentityStore;
  namespaces: NamespaceStore;
  clock: Clock;
  logger: Logger;
  /** Told of every namespace this service creates or changes (the namespace caches refresh). */
  onNamespaceChanged?: (record: NamespaceRecord) => void;
  /** Told of every account whose principals changed (the authenticator's cache drops them). */
  onAccountChanged?: (accountId: string) => void;
  /** Told of every key changed (disabled, deleted). */
  onApiKeyChanged?: (keyId: string) => void;
}

export class IdentityService {
  constructor(private readonly options: IdentityServiceOptions) {}

  private get store(): IdentityStore {
    return this.options.store;
  }

  private now(): number {
    return this.options.clock.now();
  }

  // --- Accounts -------------------------------------------------------------------------------

  /** Async so that a refusal is a rejection, like every other method's. */
  async getAccount(ctx: ActorContext): Promise<AccountRecord> {
    return this.member(ctx);
  }

  /** The operator creates an account with its owner user and that user's first API key (shown once). */
  async createAccount(ctx: ActorContext, args: { name: string; ownerEmail: string }): Promise<Changed<{ account: AccountRecord; owner: UserRecord; ownerKey: CreatedKey }>> {
    this.operator(ctx);
    const name = args.name.trim();
    if (name === '' || name.length > 200) throw new InvalidArgumentError(`account name ${quote(args.name)} must be 1 to 200 characters long`);
    const email = this.checkEmail(args.ownerEmail);
    for (let attempt = 0; ; attempt++) {
      const now = this.now();
      const account: AccountRecord = { id: newAccountId(), name, state: 'active', stateReason: '', resourceVersion: 1, createdAt: now, updatedAt: now };
      const owner: UserRecord = { id: newId('u'), accountId: account.id, email, role: 'owner', deleted: false, resourceVersion: 1, createdAt: now, updatedAt: now };
      const ownerKey = await this.newKey(account.id, 'user', owner.id, { displayName: 'owner key', description: `first key of ${email}`, expiresAt: undefined, disabled: false });
      try {
        const operation = await this.commit(ctx, account.id, {
          writes: [{ kind: 'account', record: account }, { kind: 'user', record: owner }, { kind: 'apiKey', record: ownerKey.key }],
          details: { accountId: account.id, name, ownerEmail: email, ownerApiKeyId: ownerKey.key.id },
        });
        return { result: { account, owner, ownerKey }, operation };
      } catch (err) {
        // Two accounts drawing the same id: draw again (60 million ids; rare).
        if (err instanceof AlreadyExistsError && attempt < 5 && /account/.test(err.message)) continue;
        throw err;
      }
    }
  }

  /** The operator suspends, resumes or deletes an account. Nothing of a suspended account is deleted. */
  async setAccountState(ctx: ActorContext, accountId: string, state: AccountRecord['state'], reason = ''): Promise<Changed<AccountRecord>> {
    this.operator(ctx);
    const account = await this.store.getAccount(accountId);
    if (!account || account.state === 'deleted') throw new NotFoundError(`account ${quote(accountId)} not found`);
    const updated = this.next(account, { state, stateReason: state === 'suspended' ? reason : '' });
    const operation = await this.commit(ctx, account.id, { writes: [{ kind: 'account', record: updated, expectedVersion: account.resourceVersion }], details: { accountId, state, reason } });
    this.options.onAccountChanged?.(account.id);
    return { result: updated, operation };
  }

  /**
   * The operator issues a key for a user or service account of any account, with or without an
   * expiry (start-dev's owner key; a replacement when an owner has lost every key).
   */
  async issueApiKey(ctx: ActorContext, args: { accountId: string; ownerType: 'user' | 'serviceAccount'; ownerId: string; displayName: string; description?: string; expiresAt?: number }): Promise<Changed<CreatedKey>> {
    this.operator(ctx);
    const account = await this.store.getAccount(args.accountId);
    if (!account || account.state === 'deleted') throw new NotFoundError(`account ${quote(args.accountId)} not found`);
    if (args.ownerType === 'user') await this.user(account.id, args.ownerId);
    else await this.serviceAccount(account.id, args.ownerId);
    this.checkExpiry(args.expiresAt, false);
    const created = await this.newKey(account.id, args.ownerType, args.ownerId, { displayName: args.displayName, description: args.description ?? '', expiresAt: args.expiresAt, disabled: false });
    const operation = await this.commit(ctx, account.id, {
      writes: [{ kind: 'apiKey', record: created.key }],
      details: { keyId: created.key.id, ownerType: args.ownerType, ownerId: args.ownerId, displayName: created.key.displayName, issuedByOperator: true },
    });
    return { result: created, operation };
  }

  /** A new operator key (the operator API's credential), issued by an operator or by bootstrap. */
  async createOperatorKey(ctx: ActorContext, displayName: string): Promise<Changed<CreatedKey>> {
    this.operator(ctx);
    const created = await this.newKey('', 'operator', 'operator', { displayName, description: 'operator key', expiresAt: undefined, disabled: false });
    const operation = await this.commit(ctx, '', { writes: [{ kind: 'apiKey', record: created.key }], details: { keyId: created.key.id, displayName: created.key.displayName } });
    return { result: created, operation };
  }

  /** Operator keys that are not deleted (to tell whether a deployment was bootstrapped). */
  async listOperatorKeys(ctx: ActorContext): Promise<ApiKeyRecord[]> {
    this.operator(ctx);
    return (await this.store.listApiKeys('', { ownerId: 'operator' }, { pageSize: 1000 })).items.filter((k) => k.ownerType === 'operator');
  }

  listAccounts(ctx: ActorContext, page: IdentityPage): Promise<ListPage<AccountRecord>> {
    this.operator(ctx);
    return this.store.listAccounts(page);
  }

  /** The operator sets a namespace's rate limits (undefined fields go back to the defaults). */
  async setNamespaceLimits(ctx: ActorContext, namespaceName: string, limits: NamespaceLimits): Promise<Changed<NamespaceRecord>> {
    this.operator(ctx);
    for (const [field, value] of Object.entries(limits)) {
      if (value !== undefined && (!Number.isFinite(value) || value <= 0)) throw new InvalidArgumentError(`limit ${field} must be a number above 0, got ${String(value)}`);
    }
    const ns = await this.options.namespaces.getNamespaceByName(namespaceName);
    if (!ns || ns.state === 'deleted') throw new NotFoundError(`namespace ${quote(namespaceName)} not found`);
    const updated: NamespaceRecord = { ...ns, limits: { ...limits }, resourceVersion: ns.resourceVersion + 1, updatedAt: this.later(ns.updatedAt) };
    const operation = await this.commit(ctx, ns.accountId, { namespace: { record: updated, expectedUpdatedAt: ns.updatedAt }, details: { namespace: ns.name, limits } });
    this.options.onNamespaceChanged?.(updated);
    return { result: updated, operation };
  }

  // --- Users ----------------------------------------------------------------------------------

  async listUsers(ctx: ActorContext, page: IdentityPage, filter: { email?: string } = {}): Promise<ListPage<UserView>> {
    const account = this.member(ctx);
    if (filter.email) {
      const user = await this.store.getUserByEmail(account.id, normalizeEmail(filter.email));
      return { items: user ? [await this.userView(user)] : [] };
    }
    const users = await this.store.listUsers(account.id, page);
    return { ...users, items: await Promise.all(users.items.map((u) => this.userView(u))) };
  }

  async getUser(ctx: ActorContext, userId: string): Promise<UserView> {
    const account = this.member(ctx);
    return this.userView(await this.user(account.id, userId));
  }

  async createUser(ctx: ActorContext, spec: UserSpec): Promise<Changed<UserView>> {
    const account = this.member(ctx);
    this.requireAdmin(ctx, 'create users');
    this.checkRoleGrant(ctx, spec.role);
    const email = this.checkEmail(spec.email);
    if (await this.store.getUserByEmail(account.id, email)) throw new AlreadyExistsError(`user ${email} already exists in account ${account.id}`);
    const grants = await this.grantsFor(ctx, account, spec.namespaceAccess, false);
    const now = this.now();
    const user: UserRecord = { id: newId('u'), accountId: account.id, email, role: spec.role, deleted: false, resourceVersion: 1, createdAt: now, updatedAt: now };
    const operation = await this.commit(ctx, account.id, {
      writes: [{ kind: 'user', record: user }],
      grants: grants.map((g) => ({ set: { accountId: account.id, principalType: 'user', principalId: user.id, namespaceId: g.namespace.id, permission: g.permission } })),
      details: { userId: user.id, email, role: spec.role, namespaceAccess: Object.fromEntries(spec.namespaceAccess) },
    });
    return { result: { user, access: grants }, operation };
  }

  async updateUser(ctx: ActorContext, userId: string, spec: UserSpec, resourceVersion: string): Promise<Changed<UserView>> {
    const account = this.member(ctx);
    this.requireAdmin(ctx, 'update users');
    const user = await this.user(account.id, userId);
    checkVersion(`user ${userId}`, user.resourceVersion, resourceVersion);
    this.checkRoleGrant(ctx, spec.role);
    if (user.role === 'owner' && user.role !== spec.role) this.checkRoleGrant(ctx, 'owner');
    const email = this.checkEmail(spec.email);
    if (email !== user.email && (await this.store.getUserByEmail(account.id, email))) throw new AlreadyExistsError(`user ${email} already exists in account ${account.id}`);
    if (user.role === 'owner' && spec.role !== 'owner') await this.keepAnOwner(account.id, user.id);
    const grants = await this.grantsFor(ctx, account, spec.namespaceAccess, false);
    const updated = this.next(user, { email, role: spec.role });
    const operation = await this.commit(ctx, account.id, {
      writes: [{ kind: 'user', record: updated, expectedVersion: user.resourceVersion }],
      grants: await this.replaceGrants(account.id, 'user', user.id, grants),
      details: { userId, email, role: spec.role, namespaceAccess: Object.fromEntries(spec.namespaceAccess) },
    });
    this.options.onAccountChanged?.(account.id);
    return { result: { user: updated, access: grants }, operation };
  }

  /** Deletes the user, its grants and its API keys. The last owner of an account cannot go. */
  async deleteUser(ctx: ActorContext, userId: string, resourceVersion: string): Promise<Changed<UserRecord>> {
    const account = this.member(ctx);
    this.requireAdmin(ctx, 'delete users');
    const user = await this.user(account.id, userId);
    checkVersion(`user ${userId}`, user.resourceVersion, resourceVersion);
    if (user.role === 'owner') {
      this.checkRoleGrant(ctx, 'owner');
      await this.keepAnOwner(account.id, user.id);
    }
    const deleted = this.next(user, { deleted: true });
    const operation = await this.commit(ctx, account.id, {
      writes: [{ kind: 'user', record: deleted, expectedVersion: user.resourceVersion }, ...(await this.deleteKeysOf(account.id, user.id))],
      grants: await this.replaceGrants(account.id, 'user', user.id, []),
      details: { userId, email: user.email },
    });
    this.options.onAccountChanged?.(account.id);
    return { result: deleted, operation };
  }

  /** Sets (or, with undefined, removes) a user's permission on one namespace: namespace admins only. */
  async setUserNamespaceAccess(ctx: ActorContext, namespaceName: string, userId: string, permission: NamespacePermission | undefined, resourceVersion: string): Promise<Changed<UserView>> {
    const account = this.member(ctx);
    const ns = await this.namespace(ctx, namespaceName, 'admin', 'change who may use it');
    const user = await this.user(account.id, userId);
    checkVersion(`user ${userId}`, user.resourceVersion, resourceVersion);
    const updated = this.next(user, {});
    const operation = await this.commit(ctx, account.id, {
      writes: [{ kind: 'user', record: updated, expectedVersion: user.resourceVersion }],
      grants: [permission ? { set: { accountId: account.id, principalType: 'user', principalId: user.id, namespaceId: ns.id, permission } } : { remove: { accountId: account.id, principalType: 'user', principalId: user.id, namespaceId: ns.id } }],
      details: { userId, namespace: ns.name, permission: permission ?? 'none' },
    });
    this.options.onAccountChanged?.(account.id);
    return { result: await this.userView(updated), operation };
  }

  // --- Service accounts -----------------------------------------------------------------------

  async listServiceAccounts(ctx: ActorContext, page: IdentityPage): Promise<ListPage<ServiceAccountView>> {
    const account = this.member(ctx);
    const list = await this.store.listServiceAccounts(account.id, page);
    return { ...list, items: await Promise.all(list.items.map((sa) => this.serviceAccountView(sa))) };
  }

  async getServiceAccount(ctx: ActorContext, id: string): Promise<ServiceAccountView> {
    const account = this.member(ctx);
    return this.serviceAccountView(await this.serviceAccount(account.id, id));
  }

  async createServiceAccount(ctx: ActorContext, spec: ServiceAccountSpec): Promise<Changed<ServiceAccountView>> {
    const account = this.member(ctx);
    const name = checkServiceAccountName(spec.name);
    const now = this.now();
    const id = newId('sa');
    let scopedNamespace: NamespaceRecord | undefined;
    let grants: NamespaceAccessView[];
    if (spec.scoped) {
      if (spec.role || spec.namespaceAccess?.size) throw new InvalidArgumentError('a namespace-scoped service account has no account role and no other namespace access');
      scopedNamespace = await this.namespace(ctx, spec.scoped.namespace, 'admin', 'create service accounts scoped to it');
      grants = [{ namespace: scopedNamespace, permission: spec.scoped.permission }];
    } else {
      this.requireAdmin(ctx, 'create account-level service accounts');
      if (!spec.role) throw new InvalidArgumentError('an account-level service account needs an account role');
      this.checkRoleGrant(ctx, spec.role);
      grants = await this.grantsFor(ctx, account, spec.namespaceAccess ?? new Map(), false);
    }
    const sa: ServiceAccountRecord = {
      id,
      accountId: account.id,
      name,
      description: checkDescription(spec.description),
      role: spec.scoped ? undefined : spec.role,
      scopedNamespaceId: scopedNamespace?.id,
      deleted: false,
      resourceVersion: 1,
      createdAt: now,
      updatedAt: now,
    };
    const operation = await this.commit(ctx, account.id, {
      writes: [{ kind: 'serviceAccount', record: sa }],
      grants: grants.map((g) => ({ set: { accountId: account.id, principalType: 'serviceAccount', principalId: id, namespaceId: g.namespace.id, permission: g.permission } })),
      details: { serviceAccountId: id, name, role: sa.role ?? 'none', scopedNamespace: scopedNamespace?.name ?? '', access: grants.map((g) => `${g.namespace.name}:${g.permission}`) },
    });
    return { result: { serviceAccount: sa, access: grants, scopedNamespace }, operation };
  }

  async updateServiceAccount(ctx: ActorContext, id: string, spec: ServiceAccountSpec, resourceVersion: string): Promise<Changed<ServiceAccountView>> {
    const account = this.member(ctx);
    const sa = await this.serviceAccount(account.id, id);
    checkVersion(`service account ${id}`, sa.resourceVersion, resourceVersion);
    const current = await this.serviceAccountView(sa);
    await this.requireServiceAccountManager(ctx, current, 'update it');
    let grants: NamespaceAccessView[];
    if (sa.scopedNamespaceId) {
      if (spec.role || spec.namespaceAccess?.size) throw new InvalidArgumentError('a namespace-scoped service account has no account role and no other namespace access');
      if (spec.scoped && spec.scoped.namespace !== current.scopedNamespace?.name) throw new InvalidArgumentError('the namespace of a namespace-scoped service account cannot change');
      grants = spec.scoped && current.scopedNamespace ? [{ namespace: current.scopedNamespace, permission: spec.scoped.permission }] : current.access;
    } else {
      if (spec.scoped) throw new InvalidArgumentError('an account-level service account cannot become namespace-scoped');
      if (!spec.role) throw new InvalidArgumentError('an account-level service account needs an account role');
      this.checkRoleGrant(ctx, spec.role);
      grants = await this.grantsFor(ctx, account, spec.namespaceAccess ?? new Map(), false);
    }
    const updated = this.next(sa, { name: checkServiceAccountName(spec.name), description: checkDescription(spec.description), role: sa.scopedNamespaceId ? undefined : spec.role });
    const operation = await this.commit(ctx, account.id, {
      writes: [{ kind: 'serviceAccount', record: updated, expectedVersion: sa.resourceVersion }],
      grants: await this.replaceGrants(account.id, 'serviceAccount', sa.id, grants),
      details: { serviceAccountId: id, name: updated.name, role: updated.role ?? 'none', access: grants.map((g) => `${g.namespace.name}:${g.permission}`) },
    });
    this.options.onAccountChanged?.(account.id);
    return { result: { serviceAccount: updated, access: grants, scopedNamespace: current.scopedNamespace }, operation };
  }

  async deleteServiceAccount(ctx: ActorContext, id: string, resourceVersion: string): Promise<Changed<ServiceAccountRecord>> {
    const account = this.member(ctx);
    const sa = await this.serviceAccount(account.id, id);
    checkVersion(`service account ${id}`, sa.resourceVersion, resourceVersion);
    await this.requireServiceAccountManager(ctx, await this.serviceAccountView(sa), 'delete it');
    const deleted = this.next(sa, { deleted: true });
    const operation = await this.commit(ctx, account.id, {
      writes: [{ kind: 'serviceAccount', record: deleted, expectedVersion: sa.resourceVersion }, ...(await this.deleteKeysOf(account.id, sa.id))],
      grants: await this.replaceGrants(account.id, 'serviceAccount', sa.id, []),
      details: { serviceAccountId: id, name: sa.name },
    });
    this.options.onAccountChanged?.(account.id);
    return { result: deleted, operation };
  }

  async setServiceAccountNamespaceAccess(ctx: ActorContext, id: string, namespaceName: string, permission: NamespacePermission | undefined, resourceVersion: string): Promise<Changed<ServiceAccountView>> {
    const account = this.member(ctx);
    const ns = await this.namespace(ctx, namespaceName, 'admin', 'change who may use it');
    const sa = await this.serviceAccount(account.id, id);
    checkVersion(`service account ${id}`, sa.resourceVersion, resourceVersion);
    if (sa.scopedNamespaceId && sa.scopedNamespaceId !== ns.id) throw new InvalidArgumentError(`service account ${id} is scoped to another namespace`);
    if (sa.scopedNamespaceId && !permission) throw new InvalidArgumentError(`service account ${id} is scoped to ${ns.name}: delete it instead of removing its access`);
    const updated = this.next(sa, {});
    const operation = await this.commit(ctx, account.id, {
      writes: [{ kind: 'serviceAccount', record: updated, expectedVersion: sa.resourceVersion }],
      grants: [permission ? { set: { accountId: account.id, principalType: 'serviceAccount', principalId: sa.id, namespaceId: ns.id, permission } } : { remove: { accountId: account.id, principalType: 'serviceAccount', principalId: sa.id, namespaceId: ns.id } }],
      details: { serviceAccountId: id, namespace: ns.name, permission: permission ?? 'none' },
    });
    this.options.onAccountChanged?.(account.id);
    return { result: await this.serviceAccountView(updated), operation };
  }

  // --- Namespaces -----------------------------------------------------------------------------

  /** The account's namespaces the caller has any permission on (all of them for owners and admins). */
  async listNamespaces(ctx: ActorContext, page: IdentityPage): Promise<ListPage<NamespaceRecord>> {
    const account = this.member(ctx);
    const list = await this.store.listNamespacesOfAccount(account.id, page);
    return { ...list, items: list.items.filter((ns) => ns.state !== 'deleted' && namespacePermission(ctx.principal, ns) !== undefined) };
  }

  /** A namespace the caller may read. Another account's, existing or not, is PERMISSION_DENIED. */
  async getNamespace(ctx: ActorContext, name: string): Promise<NamespaceRecord> {
    this.member(ctx);
    return this.namespace(ctx, name, 'read', 'read it');
  }

  async createNamespace(ctx: ActorContext, spec: NamespaceSpec): Promise<Changed<NamespaceRecord>> {
    const account = this.member(ctx);
    if (!mayCreateNamespaces(ctx.principal)) throw this.denied(ctx, 'create namespaces (it needs the account role developer, admin or owner)');
    checkNamespaceShortName(spec.name);
    const retentionDays = checkRetentionDays(spec.retentionDays ?? RETENTION_DAYS.default);
    const name = cloudNamespaceName(spec.name, account.id);
    const now = this.now();
    const record: NamespaceRecord = {
      id: randomUUID(),
      name,
      accountId: account.id,
      resourceVersion: 1,
      limits: {},
      state: 'registered',
      description: checkDescription(spec.description ?? ''),
      ownerEmail: ctx.principal.type === 'user' ? ctx.principal.name : '',
      retentionMs: retentionDays * DAY_MS,
      data: {},
      ...(spec.searchAttributes && Object.keys(spec.searchAttributes).length > 0 ? { searchAttributes: spec.searchAttributes } : {}),
      createdAt: now,
      updatedAt: now,
    };
    // A developer becomes the admin of what it creates; owners and admins already are.
    const grants: GrantWrite[] =
      !isAccountAdmin(ctx.principal) && ctx.principal.type !== 'operator'
        ? [{ set: { accountId: account.id, principalType: ctx.principal.type, principalId: ctx.principal.id, namespaceId: record.id, permission: 'admin' } }]
        : [];
    const operation = await this.commit(ctx, account.id, { namespace: { record }, grants, details: { namespace: name, retentionDays } });
    this.options.onNamespaceChanged?.(record);
    if (grants.length > 0) this.options.onAccountChanged?.(account.id);
    return { result: record, operation };
  }

  /**
   * Changes a namespace (CloudService UpdateNamespace; WorkflowService UpdateNamespace and
   * DeprecateNamespace with an empty resource version). `data` entries are merged into the
   * namespace's, as Temporal does; `state: 'deprecated'` deprecates it (no new workflows start).
   */
  async updateNamespace(
    ctx: ActorContext,
    name: string,
    spec: { retentionDays?: number; description?: string; ownerEmail?: string; data?: Record<string, string>; state?: 'deprecated'; searchAttributes?: (current: Record<string, string>) => Record<string, string> },
    resourceVersion: string,
  ): Promise<Changed<NamespaceRecord>> {
    const account = this.member(ctx);
    const ns = await this.namespace(ctx, name, 'admin', 'change it');
    checkVersion(`namespace ${ns.name}`, ns.resourceVersion, resourceVersion);
    const retentionDays = spec.retentionDays === undefined ? undefined : checkRetentionDays(spec.retentionDays);
    const updated: NamespaceRecord = {
      ...ns,
      ...(retentionDays === undefined ? {} : { retentionMs: retentionDays * DAY_MS }),
      ...(spec.description === undefined ? {} : { description: checkDescription(spec.description) }),
      ...(spec.ownerEmail === undefined ? {} : { ownerEmail: spec.ownerEmail }),
      ...(spec.data === undefined ? {} : { data: { ...ns.data, ...spec.data } }),
      ...(spec.state === undefined ? {} : { state: spec.state }),
      ...(spec.searchAttributes === undefined ? {} : { searchAttributes: spec.searchAttributes({ ...(ns.searchAttributes ?? {}) }) }),
      resourceVersion: ns.resourceVersion + 1,
      updatedAt: this.later(ns.updatedAt),
    };
    const details = {
      namespace: ns.name,
      retentionDays: retentionDays ?? 'unchanged',
      description: spec.description ?? 'unchanged',
      ...(spec.ownerEmail === undefined ? {} : { ownerEmail: spec.ownerEmail }),
      ...(spec.data === undefined ? {} : { dataKeys: Object.keys(spec.data).join(',') }),
      ...(spec.state === undefined ? {} : { state: spec.state }),
    };
    const operation = await this.commit(ctx, account.id, { namespace: { record: updated, expectedUpdatedAt: ns.updatedAt }, details });
    this.options.onNamespaceChanged?.(updated);
    return { result: updated, operation };
  }

  /** Marks the namespace deleted: its workflows are no longer served. */
  async deleteNamespace(ctx: ActorContext, name: string, resourceVersion: string): Promise<Changed<NamespaceRecord>> {
    const account = this.member(ctx);
    const ns = await this.namespace(ctx, name, 'admin', 'delete it');
    checkVersion(`namespace ${ns.name}`, ns.resourceVersion, resourceVersion);
    const deleted: NamespaceRecord = { ...ns, state: 'deleted', resourceVersion: ns.resourceVersion + 1, updatedAt: this.later(ns.updatedAt) };
    const operation = await this.commit(ctx, account.id, { namespace: { record: deleted, expectedUpdatedAt: ns.updatedAt }, details: { namespace: ns.name } });
    this.options.onNamespaceChanged?.(deleted);
    return { result: deleted, operation };
  }

  // --- API keys -------------------------------------------------------------------------------

  /** Owners and admins see every key of the account; anyone else sees its own. */
  async listApiKeys(ctx: ActorContext, page: IdentityPage, filter: { ownerId?: string } = {}): Promise<ListPage<ApiKeyRecord>> {
    const account = this.member(ctx);
    if (!isAccountAdmin(ctx.principal)) {
      if (filter.ownerId && filter.ownerId !== ctx.principal.id) throw this.denied(ctx, 'list the API keys of another identity');
      return this.store.listApiKeys(account.id, { ownerId: ctx.principal.id }, page);
    }
    return this.store.listApiKeys(account.id, filter.ownerId ? { ownerId: filter.ownerId } : {}, page);
  }

  async getApiKey(ctx: ActorContext, keyId: string): Promise<ApiKeyRecord> {
    const account = this.member(ctx);
    const key = await this.apiKey(account.id, keyId);
    await this.requireKeyManager(ctx, key, 'read it');
    return key;
  }

  /** A key for the caller itself, or (owners, admins, admins of a scoped service account's namespace) for a service account. */
  async createApiKey(ctx: ActorContext, spec: ApiKeySpec): Promise<Changed<CreatedKey>> {
    const account = this.member(ctx);
    const self = spec.ownerType === ctx.principal.type && spec.ownerId === ctx.principal.id;
    if (!self) {
      if (spec.ownerType === 'user') throw this.denied(ctx, 'create API keys for another user');
      const sa = await this.serviceAccount(account.id, spec.ownerId);
      await this.requireServiceAccountManager(ctx, await this.serviceAccountView(sa), 'create its API keys');
    } else if (spec.ownerType === 'user') {
      await this.user(account.id, spec.ownerId);
    }
    this.checkExpiry(spec.expiresAt, true);
    const created = await this.newKey(account.id, spec.ownerType, spec.ownerId, spec);
    const operation = await this.commit(ctx, account.id, {
      writes: [{ kind: 'apiKey', record: created.key }],
      details: { keyId: created.key.id, ownerType: spec.ownerType, ownerId: spec.ownerId, displayName: created.key.displayName, expiresAt: spec.expiresAt ? new Date(spec.expiresAt).toISOString() : 'never', disabled: spec.disabled },
    });
    return { result: created, operation };
  }

  async updateApiKey(ctx: ActorContext, keyId: string, spec: Pick<ApiKeySpec, 'displayName' | 'description' | 'disabled' | 'expiresAt'>, resourceVersion: string): Promise<Changed<ApiKeyRecord>> {
    const account = this.member(ctx);
    const key = await this.apiKey(account.id, keyId);
    checkVersion(`API key ${keyId}`, key.resourceVersion, resourceVersion);
    await this.requireKeyManager(ctx, key, 'change it');
    if (spec.expiresAt !== key.expiresAt) this.checkExpiry(spec.expiresAt, false);
    const updated = this.next(key, { displayName: checkDisplayName(spec.displayName), description: checkDescription(spec.description), disabled: spec.disabled, expiresAt: spec.expiresAt });
    const operation = await this.commit(ctx, account.id, {
      writes: [{ kind: 'apiKey', record: updated, expectedVersion: key.resourceVersion }],
      details: { keyId, displayName: updated.displayName, disabled: updated.disabled, expiresAt: updated.expiresAt ? new Date(updated.expiresAt).toISOString() : 'never' },
    });
    this.options.onApiKeyChanged?.(keyId);
    return { result: updated, operation };
  }

  async deleteApiKey(ctx: ActorContext, keyId: string, resourceVersion: string): Promise<Changed<ApiKeyRecord>> {
    const account = this.member(ctx);
    const key = await this.apiKey(account.id, keyId);
    checkVersion(`API key ${keyId}`, key.resourceVersion, resourceVersion);
    await this.requireKeyManager(ctx, key, 'delete it');
    const deleted = this.next(key, { deleted: true });
    const operation = await this.commit(ctx, account.id, { writes: [{ kind: 'apiKey', record: deleted, expectedVersion: key.resourceVersion }], details: { keyId, displayName: key.displayName } });
    this.options.onApiKeyChanged?.(keyId);
    return { result: deleted, operation };
  }

  // --- Audit log and operations ---------------------------------------------------------------

  /** Owners and admins of the account read its audit log; pages of at most 1,000. */
  listAuditLogs(ctx: ActorContext, range: { from: number; to: number }, page: IdentityPage): Promise<ListPage<AuditRecord>> {
    const account = this.member(ctx);
    this.requireAdmin(ctx, 'read the audit log');
    if (!(range.from < range.to)) throw new InvalidArgumentError(`the audit log range must start before it ends (${new Date(range.from).toISOString()} … ${new Date(range.to).toISOString()})`);
    return this.store.listAudit(account.id, range, { ...page, pageSize: Math.min(Math.max(page.pageSize, 1), AUDIT_PAGE_MAX) });
  }

  async getAsyncOperation(ctx: ActorContext, id: string): Promise<AsyncOperationRecord> {
    const account = this.member(ctx);
    const operation = await this.store.getOperation(account.id, id);
    if (!operation) throw new NotFoundError(`async operation ${quote(id)} not found`);
    return operation;
  }

  // --- Identity of the caller -----------------------------------------------------------------

  /**
   * Records in the audit log something the caller did that changes no identity record: a portal
   * sign-in, sign-out or password change (`operation` names it; `details` say more, never a secret).
   */
  async recordActivity(ctx: ActorContext, details: Record<string, unknown>): Promise<void> {
    const account = this.member(ctx, { allowMetricsRead: true });
    await this.commit(ctx, account.id, { writes: [], details });
  }

  /** The caller's own record: its user or service account, and the key it called with. */
  async currentIdentity(ctx: ActorContext): Promise<{ user?: UserView; serviceAccount?: ServiceAccountView; apiKey?: ApiKeyRecord }> {
    const account = this.member(ctx, { allowMetricsRead: true });
    const apiKey = ctx.principal.apiKeyId ? await this.store.getApiKey(ctx.principal.apiKeyId) : undefined;
    const keyPart = apiKey && !apiKey.deleted ? { apiKey } : {};
    if (ctx.principal.type === 'user') return { user: await this.userView(await this.user(account.id, ctx.principal.id)), ...keyPart };
    return { serviceAccount: await this.serviceAccountView(await this.serviceAccount(account.id, ctx.principal.id)), ...keyPart };
  }

  /** Grants of one namespace, for namespace views (who may use it). */
  listGrantsOnNamespace(ctx: ActorContext, ns: NamespaceRecord): Promise<NamespaceGrantRecord[]> {
    this.member(ctx);
    if (!includes(namespacePermission(ctx.principal, ns), 'read')) throw this.denied(ctx, `read namespace ${ns.name}`);
    return this.store.listGrantsOnNamespace(ns.id);
  }

  // --- Rules ----------------------------------------------------------------------------------

  /** The caller's active account; the operator and the metrics-read role have none to manage here. */
  private member(ctx: ActorContext, options: { allowMetricsRead?: boolean } = {}): AccountRecord {
    const { principal } = ctx;
    if (principal.type === 'operator' || !principal.account) throw this.denied(ctx, 'use an account API (the operator key manages accounts through the operator API)');
    assertAccountActive(principal);
    if (principal.role === 'metricsRead' && !options.allowMetricsRead) throw this.denied(ctx, `call ${ctx.operation} (the metrics-read role only reads metrics)`);
    return principal.account;
  }

  private operator(ctx: ActorContext): void {
    if (ctx.principal.type !== 'operator') throw this.denied(ctx, 'manage accounts (it needs an operator key)');
  }

  private requireAdmin(ctx: ActorContext, what: string): void {
    if (!isAccountAdmin(ctx.principal)) throw this.denied(ctx, `${what} (it needs the account role admin or owner)`);
  }

  /** Only an owner makes owners. */
  private checkRoleGrant(ctx: ActorContext, role: AccountRole): void {
    if (!ACCOUNT_ROLES.includes(role)) throw new InvalidArgumentError(`unknown account role ${quote(String(role))}; one of ${ACCOUNT_ROLES.join(', ')}`);
    if (role === 'owner' && ctx.principal.role !== 'owner') throw this.denied(ctx, 'give or take the owner role (only an owner may)');
  }

  private async keepAnOwner(accountId: string, leavingUserId: string): Promise<void> {
    for (let page: IdentityPage | undefined = { pageSize: 1000 }; page; ) {
      const users = await this.store.listUsers(accountId, page);
      if (users.items.some((u) => u.role === 'owner' && u.id !== leavingUserId)) return;
      page = users.nextPageToken ? { pageSize: 1000, nextPageToken: users.nextPageToken } : undefined;
    }
    throw new FailedPreconditionError(`user ${leavingUserId} is the last owner of account ${accountId}: make another user owner first`);
  }

  /**
   * A namespace the caller holds at least `needed` on. Another account's namespace is refused the
   * same way whether it exists or not; a missing name in the caller's own account is NOT_FOUND.
   */
  private async namespace(ctx: ActorContext, name: string, needed: NamespacePermission, what: string): Promise<NamespaceRecord> {
    const ns = await this.options.namespaces.getNamespaceByName(name);
    const held = ns && ns.state !== 'deleted' ? namespacePermission(ctx.principal, ns) : undefined;
    if (!ns || ns.state === 'deleted' || held === undefined) {
      if (accountIdOfNamespaceName(name) === ctx.principal.accountId && (!ns || ns.state === 'deleted')) throw new NotFoundError(`namespace ${quote(name)} not found`);
      throw this.denied(ctx, `use namespace ${quote(name)}`);
    }
    if (!includes(held, needed)) throw this.denied(ctx, `${what} on namespace ${ns.name} (it needs namespace ${needed}; ${describePrincipal(ctx.principal)} has ${held})`);
    return ns;
  }

  /** The namespaces named in an access map, each one the caller administers (or, when `allowAny`, may read). */
  private async grantsFor(ctx: ActorContext, account: AccountRecord, access: ReadonlyMap<string, NamespacePermission>, allowAny: boolean): Promise<NamespaceAccessView[]> {
    const views: NamespaceAccessView[] = [];
    for (const [name, permission] of access) {
      if (!NAMESPACE_PERMISSIONS.includes(permission)) throw new InvalidArgumentError(`unknown namespace permission ${quote(String(permission))}; one of ${NAMESPACE_PERMISSIONS.join(', ')}`);
      const ns = await this.namespace(ctx, name, allowAny ? 'read' : 'admin', 'grant access to it');
      if (ns.accountId !== account.id) throw this.denied(ctx, `use namespace ${quote(name)}`);
      views.push({ namespace: ns, permission });
    }
    return views;
  }

  /** The grant writes that make a principal's grants exactly `wanted`. */
  private async replaceGrants(accountId: string, principalType: NamespaceGrantRecord['principalType'], principalId: string, wanted: NamespaceAccessView[]): Promise<GrantWrite[]> {
    const current = await this.store.listGrantsOfPrincipal(accountId, principalType, principalId);
    const wantedIds = new Set(wanted.map((w) => w.namespace.id));
    return [
      ...current.filter((g) => !wantedIds.has(g.namespaceId)).map((g): GrantWrite => ({ remove: { accountId, principalType, principalId, namespaceId: g.namespaceId } })),
      ...wanted.map((w): GrantWrite => ({ set: { accountId, principalType, principalId, namespaceId: w.namespace.id, permission: w.permission } })),
    ];
  }

  /** Account-level service accounts: owners and admins; namespace-scoped ones: also that namespace's admins. */
  private async requireServiceAccountManager(ctx: ActorContext, view: ServiceAccountView, what: string): Promise<void> {
    if (isAccountAdmin(ctx.principal)) return;
    if (view.scopedNamespace && includes(namespacePermission(ctx.principal, view.scopedNamespace), 'admin')) return;
    throw this.denied(ctx, `${what}: service account ${view.serviceAccount.name} (it needs the account role admin or owner${view.scopedNamespace ? `, or namespace admin on ${view.scopedNamespace.name}` : ''})`);
  }

  /** A key's owner, the account's owners and admins, and for a scoped service account's key its namespace's admins. */
  private async requireKeyManager(ctx: ActorContext, key: ApiKeyRecord, what: string): Promise<void> {
    if (key.ownerType === ctx.principal.type && key.ownerId === ctx.principal.id) return;
    if (isAccountAdmin(ctx.principal)) return;
    if (key.ownerType === 'serviceAccount') {
      const sa = await this.store.getServiceAccount(key.accountId, key.ownerId);
      if (sa && !sa.deleted) {
        const view = await this.serviceAccountView(sa);
        if (view.scopedNamespace && includes(namespacePermission(ctx.principal, view.scopedNamespace), 'admin')) return;
      }
    }
    throw this.denied(ctx, `${what}: API key ${key.id} belongs to another identity`);
  }

  private checkEmail(email: string): string {
    const normalized = normalizeEmail(email);
    const problem = emailProblem(normalized);
    if (problem) throw new InvalidArgumentError(problem);
    return normalized;
  }

  private checkExpiry(expiresAt: number | undefined, required: boolean): void {
    if (expiresAt === undefined) {
      if (required) throw new InvalidArgumentError('an API key needs an expiry time (at most two years ahead)');
      return;
    }
    const now = this.now();
    if (!Number.isFinite(expiresAt) || expiresAt <= now) throw new InvalidArgumentError('the expiry time of an API key must be in the future');
    if (expiresAt - now > MAX_KEY_LIFETIME_MS) throw new InvalidArgumentError('the expiry time of an API key must be at most two years ahead');
  }

  private denied(ctx: ActorContext, what: string): PermissionDeniedError {
    return new PermissionDeniedError(`${ctx.operation}: ${describePrincipal(ctx.principal)} may not ${what}`, { type: 'PermissionDeniedFailure', reason: what });
  }

  private async user(accountId: string, id: string): Promise<UserRecord> {
    const user = await this.store.getUser(accountId, id);
    if (!user || user.deleted) throw new NotFoundError(`user ${quote(id)} not found`);
    return user;
  }

  private async serviceAccount(accountId: string, id: string): Promise<ServiceAccountRecord> {
    const sa = await this.store.getServiceAccount(accountId, id);
    if (!sa || sa.deleted) throw new NotFoundError(`service account ${quote(id)} not found`);
    return sa;
  }

  private async apiKey(accountId: string, id: string): Promise<ApiKeyRecord> {
    const key = await this.store.getApiKey(id);
    if (!key || key.deleted || key.accountId !== accountId) throw new NotFoundError(`API key ${quote(id)} not found`);
    return key;
  }

  private async userView(user: UserRecord): Promise<UserView> {
    return { user, access: await this.accessOf(user.accountId, 'user', user.id) };
  }

  private async serviceAccountView(sa: ServiceAccountRecord): Promise<ServiceAccountView> {
    const access = await this.accessOf(sa.accountId, 'serviceAccount', sa.id);
    const scopedNamespace = sa.scopedNamespaceId ? access.find((a) => a.namespace.id === sa.scopedNamespaceId)?.namespace ?? (await this.options.namespaces.getNamespaceById(sa.scopedNamespaceId)) : undefined;
    return { serviceAccount: sa, access, scopedNamespace };
  }

  private async accessOf(accountId: string, type: NamespaceGrantRecord['principalType'], id: string): Promise<NamespaceAccessView[]> {
    const grants = await this.store.listGrantsOfPrincipal(accountId, type, id);
    const views: NamespaceAccessView[] = [];
    for (const grant of grants) {
      const ns = await this.options.namespaces.getNamespaceById(grant.namespaceId);
      if (ns && ns.state !== 'deleted') views.push({ namespace: ns, permission: grant.permission });
    }
    return views;
  }

  private async deleteKeysOf(accountId: string, ownerId: string): Promise<IdentityWrite[]> {
    const writes: IdentityWrite[] = [];
    for (let page: IdentityPage | undefined = { pageSize: 1000 }; page; ) {
      const keys = await this.store.listApiKeys(accountId, { ownerId }, page);
      for (const key of keys.items) {
        writes.push({ kind: 'apiKey', record: this.next(key, { deleted: true }), expectedVersion: key.resourceVersion });
        this.options.onApiKeyChanged?.(key.id);
      }
      page = keys.nextPageToken ? { pageSize: 1000, nextPageToken: keys.nextPageToken } : undefined;
    }
    return writes;
  }

  private async newKey(accountId: string, ownerType: ApiKeyRecord['ownerType'], ownerId: string, spec: Pick<ApiKeySpec, 'displayName' | 'description' | 'expiresAt' | 'disabled'>): Promise<CreatedKey> {
    const id = newKeyId();
    const { token, secret } = newToken(id);
    const now = this.now();
    const key: ApiKeyRecord = {
      id,
      accountId,
      ownerType,
      ownerId,
      displayName: checkDisplayName(spec.displayName),
      description: checkDescription(spec.description),
      secretHash: await hashSecret(secret),
      expiresAt: spec.expiresAt,
      disabled: spec.disabled,
      deleted: false,
      lastUsedAt: undefined,
      resourceVersion: 1,
      createdAt: now,
      updatedAt: now,
    };
    return { key, token };
  }

  /** The next version of a record: the changes, one version up, updated now. */
  private next<T extends { resourceVersion: number; updatedAt: number }>(record: T, changes: Partial<T>): T {
    return { ...record, ...changes, resourceVersion: record.resourceVersion + 1, updatedAt: this.later(record.updatedAt) };
  }

  /** Now, but never at or before `previous` (updatedAt doubles as the namespaces' write condition). */
  private later(previous: number): number {
    return Math.max(this.now(), previous + 1);
  }

  /** Writes the change with its audit record and its (fulfilled) async operation. */
  private async commit(ctx: ActorContext, accountId: string, change: Omit<IdentityCommit, 'audit' | 'operation' | 'writes'> & { writes?: IdentityWrite[]; details: Record<string, unknown> }): Promise<AsyncOperationRecord> {
    const now = this.now();
    const operationId = ctx.asyncOperationId || randomUUID();
    if (ctx.asyncOperationId && (await this.store.getOperation(accountId, ctx.asyncOperationId))) {
      throw new AlreadyExistsError(`async operation ${quote(ctx.asyncOperationId)} already exists: use a new async_operation_id for a new change`);
    }
    const operation: AsyncOperationRecord = {
      id: operationId,
      accountId,
      operationType: ctx.operation,
      state: 'fulfilled',
      input: JSON.stringify(change.details),
      failureReason: '',
      startedAt: now,
      finishedAt: now,
    };
    const audit: AuditRecord = {
      id: auditId(now),
      accountId,
      time: now,
      operation: ctx.operation,
      principal: { type: ctx.principal.type, id: ctx.principal.id, name: ctx.principal.name, apiKeyId: ctx.principal.apiKeyId },
      status: 'OK',
      details: JSON.stringify(change.details),
      xForwardedFor: ctx.xForwardedFor ?? '',
      asyncOperationId: operationId,
    };
    const { details: _details, writes, ...rest } = change;
    try {
      await this.store.commit({ ...rest, writes: writes ?? [], audit, operation });
    } catch (err) {
      // Another change landed between this one's read and its write.
      if (err instanceof ConditionFailedError) throw new FailedPreconditionError(`${ctx.operation}: ${err.message}; read it again and retry`);
      throw err;
    }
    return operation;
  }
}

let auditSequence = 0;

/** Audit ids sort in the order the records were written (time, then this process's sequence). */
function auditId(time: number): string {
  auditSequence = (auditSequence + 1) % 36 ** 6;
  return `${time.toString(36).padStart(9, '0')}${auditSequence.toString(36).padStart(6, '0')}-${randomUUID().slice(0, 8)}`;
}

function newId(prefix: string): string {
  return `${prefix}-${randomUUID().replaceAll('-', '').slice(0, 20)}`;
}

/** Cloud's resource_version: '' skips the check; anything else must be the current version. */
export function checkVersion(what: string, current: number, given: string): void {
  if (given === '') return;
  if (!/^\d+$/.test(given)) throw new InvalidArgumentError(`resource_version ${quote(given)} of ${what} is not a version this server issued`);
  if (Number(given) !== current) throw new FailedPreconditionError(`${what} has resource version ${current}; the request was made against ${quote(given)}: read it again and retry`);
}

/** Suspended accounts are refused everywhere, saying why. */
export function assertAccountActive(principal: Principal): void {
  const account = principal.account;
  if (!account) return;
  if (account.state === 'suspended') throw new PermissionDeniedError(`account ${account.id} is suspended${account.stateReason ? `: ${account.stateReason}` : ''}`, { type: 'PermissionDeniedFailure', reason: 'account suspended' });
  if (account.state === 'deleted') throw new PermissionDeniedError(`account ${account.id} is deleted`, { type: 'PermissionDeniedFailure', reason: 'account deleted' });
}

function checkRetentionDays(days: number): number {
  if (!Number.isInteger(days) || days < RETENTION_DAYS.min || days > RETENTION_DAYS.max) {
    throw new InvalidArgumentError(`retention must be a whole number of days from ${RETENTION_DAYS.min} to ${RETENTION_DAYS.max}, got ${String(days)}`);
  }
  return days;
}

function checkServiceAccountName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 200) throw new InvalidArgumentError(`service account name ${quote(name)} must be 1 to 200 characters long`);
  return trimmed;
}

function checkDisplayName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 200) throw new InvalidArgumentError(`API key display name ${quote(name)} must be 1 to 200 characters long`);
  return trimmed;
}

function checkDescription(description: string): string {
  if (description.length > 1000) throw new InvalidArgumentError(`description of ${description.length} characters is longer than 1,000`);
  return description;
}
