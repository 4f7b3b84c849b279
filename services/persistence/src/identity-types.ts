/**
 * The identity store: accounts and what they own (users, service accounts, API keys, namespace
 * grants), the audit log of control-plane changes and the async operations Temporal Cloud's API
 * reports. Temporal Cloud's model, so CloudService's protos map onto it one to one. Kept in the
 * cluster database (SQLite: the one file; MySQL: the cluster database), beside the namespaces.
 *
 * Every change goes through `commit`: the rows it writes (each with the resource version the
 * writer read, or none for a new row), the namespace it creates or changes, the audit record and
 * the async operation, in ONE transaction. A stale version fails the whole commit with
 * ConditionFailedError and writes nothing; a duplicate (an email already in the account, a key
 * id or namespace name already taken) fails it with AlreadyExistsError.
 */
import type { ListPage, NamespaceRecord } from './types';

/** Temporal Cloud's account roles (identity.v1.AccountAccess.Role). Persisted: never rename. */
export type AccountRole = 'owner' | 'admin' | 'developer' | 'financeAdmin' | 'read' | 'metricsRead';

/** Temporal Cloud's namespace permissions (identity.v1.NamespaceAccess.Permission). Persisted: never rename. */
export type NamespacePermission = 'admin' | 'write' | 'read';

/** Who a key acts as. `operator`: the platform's own staff (no account). Persisted: never rename. */
export type PrincipalType = 'user' | 'serviceAccount' | 'operator';

export type AccountState = 'active' | 'suspended' | 'deleted';

/** Common to every identity row. `resourceVersion` starts at 1 and goes up by one with every write. */
export interface VersionedRecord {
  id: string;
  resourceVersion: number;
  createdAt: number;
  updatedAt: number;
}

/** Per-namespace limits an operator may set; absent fields take the settings' defaults. */
export interface NamespaceLimits {
  /** Requests per second (all RPCs of the namespace). */
  rps?: number;
  /** Billable actions per second (Temporal Cloud's APS). */
  aps?: number;
  /** Concurrent long polls. */
  maxConcurrentPolls?: number;
}

export interface AccountRecord extends VersionedRecord {
  /** A short id (Cloud's are 5 lowercase letters and digits), the suffix of its namespaces' names. */
  name: string;
  state: AccountState;
  /** Why it was suspended, for the PERMISSION_DENIED message; '' when active. */
  stateReason: string;
}

export interface UserRecord extends VersionedRecord {
  accountId: string;
  /** Unique within the account, compared lower-cased. */
  email: string;
  role: AccountRole;
  /** Soft-deleted rows stay for the audit trail and are never returned by lists. */
  deleted: boolean;
}

export interface ServiceAccountRecord extends VersionedRecord {
  accountId: string;
  name: string;
  description: string;
  /** Account role; undefined for a namespace-scoped service account. */
  role: AccountRole | undefined;
  /** A namespace-scoped service account's one namespace (its grant is in the grants). */
  scopedNamespaceId: string | undefined;
  deleted: boolean;
}

/** One principal's permission on one namespace. Removing access deletes the row. */
export interface NamespaceGrantRecord {
  accountId: string;
  principalType: Exclude<PrincipalType, 'operator'>;
  principalId: string;
  namespaceId: string;
  permission: NamespacePermission;
}

export interface ApiKeyRecord extends VersionedRecord {
  /** '' for an operator key. */
  accountId: string;
  ownerType: PrincipalType;
  /** User or service account id; '' for an operator key. */
  ownerId: string;
  displayName: string;
  description: string;
  /**
   * The slow hash of the key's secret with its parameters and salt, self-describing
   * (`scrypt$N$r$p$salt$hash`, base64url): never the secret itself.
   */
  secretHash: string;
  /** ms since epoch; undefined: never expires. */
  expiresAt: number | undefined;
  disabled: boolean;
  deleted: boolean;
  /** Recorded at most once a minute per key. */
  lastUsedAt: number | undefined;
}

export type AuditStatus = 'OK' | 'ERROR';

/** One control-plane change (CloudService, the operator API), as Cloud's audit log records it. */
export interface AuditRecord {
  id: string;
  /** '' for a change to the platform itself (an operator creating an account is logged on the new account). */
  accountId: string;
  /** ms since epoch. */
  time: number;
  /** The RPC, e.g. `CreateApiKey`. */
  operation: string;
  principal: { type: PrincipalType; id: string; name: string; apiKeyId: string };
  status: AuditStatus;
  /** JSON of what changed, without any secret. */
  details: string;
  xForwardedFor: string;
  asyncOperationId: string;
}

export type AsyncOperationState = 'pending' | 'inProgress' | 'failed' | 'cancelled' | 'fulfilled' | 'rejected';

/** Cloud's AsyncOperation: Hourglass applies changes synchronously, so they are recorded fulfilled. */
export interface AsyncOperationRecord {
  /** The caller's async_operation_id when it gave one (idempotency), else generated. */
  id: string;
  accountId: string;
  /** e.g. `CreateNamespace`. */
  operationType: string;
  state: AsyncOperationState;
  /** JSON of the request, without any secret. */
  input: string;
  failureReason: string;
  startedAt: number;
  finishedAt: number | undefined;
}

/** One row written by a commit: its new content, and the version the writer read (none: a new row). */
export type IdentityWrite =
  | { kind: 'account'; record: AccountRecord; expectedVersion?: number }
  | { kind: 'user'; record: UserRecord; expectedVersion?: number }
  | { kind: 'serviceAccount'; record: ServiceAccountRecord; expectedVersion?: number }
  | { kind: 'apiKey'; record: ApiKeyRecord; expectedVersion?: number };

/** A grant set (upsert) or removed. */
export type GrantWrite = { set: NamespaceGrantRecord } | { remove: Omit<NamespaceGrantRecord, 'permission'> };

export interface IdentityCommit {
  writes: IdentityWrite[];
  grants?: GrantWrite[];
  /**
   * A namespace created (no expectedUpdatedAt) or replaced. A replace is conditional on the stored
   * record's updatedAt being `expectedUpdatedAt` (the namespaces' resource version).
   */
  namespace?: { record: NamespaceRecord; expectedUpdatedAt?: number };
  audit?: AuditRecord;
  operation?: AsyncOperationRecord;
}

export interface IdentityPage {
  pageSize: number;
  nextPageToken?: string;
}

export interface IdentityStore {
  /** One transaction; see the file comment for its errors. */
  commit(commit: IdentityCommit): Promise<void>;

  getAccount(id: string): Promise<AccountRecord | undefined>;
  listAccounts(page: IdentityPage): Promise<ListPage<AccountRecord>>;

  getUser(accountId: string, id: string): Promise<UserRecord | undefined>;
  /** Case-insensitive; deleted users are not found. */
  getUserByEmail(accountId: string, email: string): Promise<UserRecord | undefined>;
  /** Not deleted, ordered by id. */
  listUsers(accountId: string, page: IdentityPage): Promise<ListPage<UserRecord>>;

  getServiceAccount(accountId: string, id: string): Promise<ServiceAccountRecord | undefined>;
  /** Not deleted, ordered by id. */
  listServiceAccounts(accountId: string, page: IdentityPage): Promise<ListPage<ServiceAccountRecord>>;

  /** By key id alone (ids are unique across accounts): the O(1) lookup of every authenticated call. */
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Not deleted, ordered by id; `ownerId` narrows to one owner's keys. */
  listApiKeys(accountId: string, filter: { ownerId?: string }, page: IdentityPage): Promise<ListPage<ApiKeyRecord>>;
  /** Sets lastUsedAt (no version change, no audit): the one write outside `commit`. */
  touchApiKey(id: string, lastUsedAt: number): Promise<void>;

  /** Every grant of one principal. */
  listGrantsOfPrincipal(accountId: string, principalType: NamespaceGrantRecord['principalType'], principalId: string): Promise<NamespaceGrantRecord[]>;
  /** Every grant on one namespace. */
  listGrantsOnNamespace(namespaceId: string): Promise<NamespaceGrantRecord[]>;

  /** The account's namespaces (by name), including deleted ones only when asked. */
  listNamespacesOfAccount(accountId: string, page: IdentityPage): Promise<ListPage<NamespaceRecord>>;

  /** Audit records of an account with from <= time < to, oldest first, pages of at most 1,000. */
  listAudit(accountId: string, range: { from: number; to: number }, page: IdentityPage): Promise<ListPage<AuditRecord>>;
  /** Deletes audit records older than `before` (retention), at most `limit`; returns how many. */
  deleteAuditBefore(before: number, limit: number): Promise<number>;

  getOperation(accountId: string, id: string): Promise<AsyncOperationRecord | undefined>;
}
