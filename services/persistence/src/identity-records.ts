/**
 * What both identity store backends share, so that they store the same columns, refuse the same
 * commits with the same messages and issue the same page tokens: a second hand-written copy per
 * backend would drift.
 *
 * A row keeps the record as JSON in `data`, plus the columns that are looked up, kept unique or
 * filtered on (and `resource_version`, which the conditional writes compare). An API key's
 * `lastUsedAt` is a column only: `touchApiKey` sets it without rewriting the record.
 */
import { AlreadyExistsError, InvalidArgumentError, InvariantViolationError, quote } from '@hourglass/common';
import { ConditionFailedError } from './errors';
import type {
  AccountRecord,
  ApiKeyRecord,
  AsyncOperationRecord,
  AuditRecord,
  IdentityCommit,
  IdentityWrite,
  NamespaceGrantRecord,
  ServiceAccountRecord,
  UserRecord,
} from './identity-types';
import type { ListPage, NamespaceRecord } from './types';

export type IdentityKind = IdentityWrite['kind'];

/** Most audit records one page returns, whatever the caller asks for. */
export const MAX_AUDIT_PAGE_SIZE = 1000;

const KIND_NAMES: Record<IdentityKind, string> = {
  account: 'account',
  user: 'user',
  serviceAccount: 'service account',
  apiKey: 'API key',
};

/** `user u-1`: how messages name a row. */
export function describeWrite(write: IdentityWrite): string {
  return `${KIND_NAMES[write.kind]} ${write.record.id}`;
}

// ---------------------------------------------------------------------------------------------
// Records as JSON. Every field is listed (the compiler checks the lists are complete), so a
// caller's extra properties are never stored and an absent optional field reads back as an
// explicit `undefined`, exactly as it was written.

function fields<T>(all: Record<keyof T, true>): (keyof T)[] {
  return Object.keys(all) as (keyof T)[];
}

function pick<T>(source: T, keys: readonly (keyof T)[]): T {
  const out = {} as T;
  for (const key of keys) out[key] = source[key];
  return out;
}

const VERSIONED = { id: true, resourceVersion: true, createdAt: true, updatedAt: true } as const;
const ACCOUNT_FIELDS = fields<AccountRecord>({ ...VERSIONED, name: true, state: true, stateReason: true });
const USER_FIELDS = fields<UserRecord>({ ...VERSIONED, accountId: true, email: true, role: true, deleted: true });
const SERVICE_ACCOUNT_FIELDS = fields<ServiceAccountRecord>({
  ...VERSIONED,
  accountId: true,
  name: true,
  description: true,
  role: true,
  scopedNamespaceId: true,
  deleted: true,
});
/** Without lastUsedAt: that one lives in its own column. */
const API_KEY_FIELDS = fields<ApiKeyRecord>({
  ...VERSIONED,
  accountId: true,
  ownerType: true,
  ownerId: true,
  displayName: true,
  description: true,
  secretHash: true,
  expiresAt: true,
  disabled: true,
  deleted: true,
  lastUsedAt: true,
}).filter((key) => key !== 'lastUsedAt');
const AUDIT_FIELDS = fields<AuditRecord>({
  id: true,
  accountId: true,
  time: true,
  operation: true,
  principal: true,
  status: true,
  details: true,
  xForwardedFor: true,
  asyncOperationId: true,
});
const PRINCIPAL_FIELDS = fields<AuditRecord['principal']>({ type: true, id: true, name: true, apiKeyId: true });
const OPERATION_FIELDS = fields<AsyncOperationRecord>({
  id: true,
  accountId: true,
  operationType: true,
  state: true,
  input: true,
  failureReason: true,
  startedAt: true,
  finishedAt: true,
});

export function accountFromData(data: string): AccountRecord {
  return pick(JSON.parse(data) as AccountRecord, ACCOUNT_FIELDS);
}

export function userFromData(data: string): UserRecord {
  return pick(JSON.parse(data) as UserRecord, USER_FIELDS);
}

export function serviceAccountFromData(data: string): ServiceAccountRecord {
  return pick(JSON.parse(data) as ServiceAccountRecord, SERVICE_ACCOUNT_FIELDS);
}

/** `lastUsedAt`: the column, NULL while the key was never used. */
export function apiKeyFromData(data: string, lastUsedAt: number | null): ApiKeyRecord {
  return { ...pick(JSON.parse(data) as ApiKeyRecord, API_KEY_FIELDS), lastUsedAt: lastUsedAt ?? undefined };
}

export function auditToData(record: AuditRecord): string {
  return JSON.stringify({ ...pick(record, AUDIT_FIELDS), principal: pick(record.principal, PRINCIPAL_FIELDS) });
}

export function auditFromData(data: string): AuditRecord {
  const parsed = JSON.parse(data) as AuditRecord;
  return { ...pick(parsed, AUDIT_FIELDS), principal: pick(parsed.principal, PRINCIPAL_FIELDS) };
}

export function operationToData(record: AsyncOperationRecord): string {
  return JSON.stringify(pick(record, OPERATION_FIELDS));
}

export function operationFromData(data: string): AsyncOperationRecord {
  return pick(JSON.parse(data) as AsyncOperationRecord, OPERATION_FIELDS);
}

/**
 * A stored namespace. Records written before namespaces had accounts lack the three newer
 * fields; they read as the defaults the contract promises (types.ts).
 */
export function namespaceFromData(data: string): NamespaceRecord {
  const parsed = JSON.parse(data) as Partial<NamespaceRecord>;
  return { ...parsed, accountId: parsed.accountId ?? '', resourceVersion: parsed.resourceVersion ?? 1, limits: parsed.limits ?? {} } as NamespaceRecord;
}

// ---------------------------------------------------------------------------------------------
// Versioned rows: the table of each kind, its columns, and the portable SQL (positional `?`,
// understood by SQLite and MySQL alike) that checks and writes them.

export type SqlValue = string | number | null;

interface IdentityTable {
  table: string;
  /** Key columns, in the order of IdentityRow.key. */
  key: readonly string[];
  /** Columns beside the key, resource_version and data, in the order of IdentityRow.columns. */
  columns: readonly string[];
}

/** Persisted: the tables of the schema migrations. */
export const IDENTITY_TABLES: Readonly<Record<IdentityKind, IdentityTable>> = {
  account: { table: 'accounts', key: ['id'], columns: ['deleted'] },
  // active_email: the lower-cased email while the user is not deleted, NULL once deleted; a unique
  // key over (account_id, active_email) keeps live emails unique per account (NULLs never collide).
  user: { table: 'users', key: ['account_id', 'id'], columns: ['active_email', 'deleted'] },
  serviceAccount: { table: 'service_accounts', key: ['account_id', 'id'], columns: ['deleted'] },
  apiKey: { table: 'api_keys', key: ['id'], columns: ['account_id', 'owner_id', 'deleted', 'last_used_at'] },
};

/** What a write stores: its key, its other columns and the record's JSON. */
export interface IdentityRow {
  key: SqlValue[];
  columns: SqlValue[];
  resourceVersion: number;
  data: string;
}

/** Lower-cased in JS, not SQL: both backends must fold exactly the same way. */
export function emailKey(email: string): string {
  return email.toLowerCase();
}

export function identityRow(write: IdentityWrite): IdentityRow {
  const { resourceVersion } = write.record;
  switch (write.kind) {
    case 'account': {
      const r = write.record;
      return { key: [r.id], columns: [r.state === 'deleted' ? 1 : 0], resourceVersion, data: JSON.stringify(pick(r, ACCOUNT_FIELDS)) };
    }
    case 'user': {
      const r = write.record;
      const columns = [r.deleted ? null : emailKey(r.email), r.deleted ? 1 : 0];
      return { key: [r.accountId, r.id], columns, resourceVersion, data: JSON.stringify(pick(r, USER_FIELDS)) };
    }
    case 'serviceAccount': {
      const r = write.record;
      return { key: [r.accountId, r.id], columns: [r.deleted ? 1 : 0], resourceVersion, data: JSON.stringify(pick(r, SERVICE_ACCOUNT_FIELDS)) };
    }
    case 'apiKey': {
      const r = write.record;
      const columns = [r.accountId, r.ownerId, r.deleted ? 1 : 0, r.lastUsedAt ?? null];
      return { key: [r.id], columns, resourceVersion, data: JSON.stringify(pick(r, API_KEY_FIELDS)) };
    }
  }
}

/** The statements of one kind; `lock` appends FOR UPDATE to the version read (MySQL). */
export interface IdentityRowSql {
  /** Params: the key. One column: resource_version. */
  version: string;
  /** Params: insertParams(row). */
  insert: string;
  /** Params: updateParams(row, expected). */
  update: string;
}

/**
 * A write never moves lastUsedAt back: the writer read the key before a touch may have landed,
 * and losing that touch would make a used key look idle.
 */
const UPDATE_EXPRESSIONS: Record<string, string> = {
  last_used_at: 'CASE WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_at END',
};

export function identityRowSql(kind: IdentityKind, lock: boolean): IdentityRowSql {
  const { table, key, columns } = IDENTITY_TABLES[kind];
  const where = key.map((column) => `${column} = ?`).join(' AND ');
  const all = [...key, ...columns, 'resource_version', 'data'];
  const set = [...columns.map((column) => `${column} = ${UPDATE_EXPRESSIONS[column] ?? '?'}`), 'resource_version = ?', 'data = ?'];
  return {
    version: `SELECT resource_version FROM ${table} WHERE ${where}${lock ? ' FOR UPDATE' : ''}`,
    insert: `INSERT INTO ${table} (${all.join(', ')}) VALUES (${all.map(() => '?').join(', ')})`,
    update: `UPDATE ${table} SET ${set.join(', ')} WHERE ${where} AND resource_version = ?`,
  };
}

export function insertParams(row: IdentityRow): SqlValue[] {
  return [...row.key, ...row.columns, row.resourceVersion, row.data];
}

export function updateParams(kind: IdentityKind, row: IdentityRow, expectedVersion: number): SqlValue[] {
  const { columns } = IDENTITY_TABLES[kind];
  const set = row.columns.flatMap((value, i) => (UPDATE_EXPRESSIONS[columns[i] as string] ? [value, value] : [value]));
  return [...set, row.resourceVersion, row.data, ...row.key, expectedVersion];
}

// ---------------------------------------------------------------------------------------------
// Checks and errors.

/**
 * Refuses a malformed commit before any statement runs, so both backends refuse the same commits
 * with the same messages and write nothing.
 */
export function checkIdentityCommit(commit: IdentityCommit): void {
  const seen = new Set<string>();
  for (const write of commit.writes) {
    checkWrite(write);
    const rowKey = JSON.stringify([write.kind, ...identityRow(write).key]);
    if (seen.has(rowKey)) throw new InvalidArgumentError(`${describeWrite(write)} is written twice in one commit`);
    seen.add(rowKey);
  }
  for (const grant of commit.grants ?? []) {
    const target = 'set' in grant ? grant.set : grant.remove;
    nonEmpty(target.principalId, 'grant principalId');
    nonEmpty(target.namespaceId, `grant of ${target.principalType} ${target.principalId}: namespaceId`);
  }
  if (commit.namespace) {
    nonEmpty(commit.namespace.record.id, 'namespace id');
    // Paging starts after '', so an empty name would be unlistable.
    nonEmpty(commit.namespace.record.name, 'namespace name');
  }
  if (commit.audit) {
    nonEmpty(commit.audit.id, 'audit record id');
    checkTime(commit.audit.time, `audit record ${commit.audit.id}: time`);
  }
  if (commit.operation) nonEmpty(commit.operation.id, 'async operation id');
}

function checkWrite(write: IdentityWrite): void {
  const { kind, record, expectedVersion } = write;
  nonEmpty(record.id, `${KIND_NAMES[kind]} id`);
  if (kind === 'user' || kind === 'serviceAccount') nonEmpty(write.record.accountId, `${describeWrite(write)}: accountId`);
  if (kind === 'user') nonEmpty(write.record.email, `${describeWrite(write)}: email`);
  if (expectedVersion !== undefined && (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1)) {
    throw new InvalidArgumentError(`${describeWrite(write)}: expectedVersion must be a positive integer, got ${expectedVersion}`);
  }
  // A writer that does not bump the version (or bumps it twice) is a bug in the writer: a later
  // writer that read the same version would otherwise overwrite this change unnoticed.
  const wanted = expectedVersion === undefined ? 1 : expectedVersion + 1;
  if (record.resourceVersion !== wanted) {
    const why = expectedVersion === undefined ? 'a new row starts at 1' : `the version read, ${expectedVersion}, plus one`;
    throw new InvariantViolationError(`${describeWrite(write)}: the new record has resource version ${record.resourceVersion}, expected ${wanted} (${why})`);
  }
}

function nonEmpty(value: string, what: string): void {
  if (value === '') throw new InvalidArgumentError(`${what} must not be empty`);
}

/** SQLite would store a fraction and MySQL's binder refuses one: both refuse it here, alike. */
export function checkTime(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError(`${what} must be an integer (ms since epoch), got ${value}`);
}

export function checkAuditRange(range: { from: number; to: number }): void {
  checkTime(range.from, 'audit range from');
  checkTime(range.to, 'audit range to');
}

/** The stored version (undefined: no row) is not the one the writer read. */
export function versionConflict(write: IdentityWrite, actual: number | undefined): ConditionFailedError {
  const found = actual === undefined ? 'it does not exist' : `resource version is ${actual}`;
  const expected = actual === undefined ? `resource version ${write.expectedVersion}` : `${write.expectedVersion}`;
  return new ConditionFailedError(`${describeWrite(write)}: ${found}, the write expected ${expected}`);
}

export function rowExists(write: IdentityWrite): AlreadyExistsError {
  return new AlreadyExistsError(`${describeWrite(write)} already exists`);
}

export function emailTaken(record: UserRecord): AlreadyExistsError {
  return new AlreadyExistsError(`user ${record.email} already exists in account ${record.accountId}`);
}

export function namespaceExists(message: string): AlreadyExistsError {
  return new AlreadyExistsError(message, { type: 'NamespaceAlreadyExistsFailure' });
}

/** A namespace replace whose record moved on (or vanished) since the writer read it. */
export function staleNamespace(record: NamespaceRecord, expectedUpdatedAt: number, actual: NamespaceRecord | undefined): ConditionFailedError {
  if (!actual) return new ConditionFailedError(`namespace id ${record.id}: it does not exist, the write expected updatedAt ${expectedUpdatedAt}`);
  return new ConditionFailedError(`namespace ${actual.name} (id ${record.id}): updatedAt is ${actual.updatedAt}, the write expected ${expectedUpdatedAt}`);
}

export function operationExists(record: AsyncOperationRecord): AlreadyExistsError {
  return new AlreadyExistsError(`async operation ${record.id} already exists in account ${record.accountId}`);
}

export function auditExists(record: AuditRecord): AlreadyExistsError {
  return new AlreadyExistsError(`audit record ${record.id} already exists`);
}

/** The key of a grant row, in key column order. */
export function grantKey(grant: Omit<NamespaceGrantRecord, 'permission'>): SqlValue[] {
  return [grant.principalType, grant.principalId, grant.namespaceId];
}

// ---------------------------------------------------------------------------------------------
// Pages. A token is the last key of its page, tagged with the list that issued it, base64url:
// opaque to callers, and a token of another list (or a made-up one) is refused instead of
// silently restarting from the top.

type PageKey = readonly (string | number)[];

export function encodePageToken(list: string, key: PageKey): string {
  return Buffer.from(JSON.stringify([list, ...key]), 'utf8').toString('base64url');
}

/** `shape`: the type of each key part. */
export function decodePageToken(list: string, token: string, shape: readonly ('string' | 'number')[]): (string | number)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.length === shape.length + 1 &&
    parsed[0] === list &&
    shape.every((type, i) => typeof parsed[i + 1] === type && (type === 'string' || Number.isSafeInteger(parsed[i + 1]))) &&
    encodePageToken(list, parsed.slice(1) as PageKey) === token;
  if (!valid) throw new InvalidArgumentError(`invalid page token ${quote(token)} for ${list}`);
  return (parsed as (string | number)[]).slice(1);
}

/** The page of `rows` (fetched with one row more than `pageSize`, which tells whether another page exists). */
export function pageOf<T>(rows: T[], pageSize: number, list: string, lastKey: (item: T) => PageKey): ListPage<T> {
  const items = rows.slice(0, pageSize);
  const last = items[items.length - 1];
  return rows.length > pageSize && last !== undefined ? { items, nextPageToken: encodePageToken(list, lastKey(last)) } : { items };
}

/** A string key to start after: '' (before every non-empty id) without a token. */
export function afterKey(list: string, token: string | undefined): string {
  return token === undefined ? '' : (decodePageToken(list, token, ['string'])[0] as string);
}
