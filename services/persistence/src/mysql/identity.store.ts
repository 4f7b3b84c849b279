import { InvariantViolationError, assertNever } from '@hourglass/common';
import {
  IDENTITY_TABLES,
  MAX_AUDIT_PAGE_SIZE,
  accountFromData,
  afterKey,
  apiKeyFromData,
  auditExists,
  auditFromData,
  auditToData,
  checkAuditRange,
  checkIdentityCommit,
  checkTime,
  decodePageToken,
  describeWrite,
  emailKey,
  emailTaken,
  grantKey,
  identityRow,
  identityRowSql,
  insertParams,
  operationExists,
  operationFromData,
  operationToData,
  pageOf,
  rowExists,
  serviceAccountFromData,
  updateParams,
  userFromData,
  versionConflict,
  type IdentityKind,
  type IdentityRowSql,
} from '../identity-records';
import type {
  AccountRecord,
  ApiKeyRecord,
  AsyncOperationRecord,
  AuditRecord,
  GrantWrite,
  IdentityCommit,
  IdentityPage,
  IdentityStore,
  IdentityWrite,
  NamespaceGrantRecord,
  ServiceAccountRecord,
  UserRecord,
} from '../identity-types';
import type { ListPage, NamespaceRecord } from '../types';
import { DuplicateKeyError } from './errors';
import { insertNamespace, listNamespacesOfAccount, replaceNamespace } from './namespace.store';
import { checkLimit, toInt, toText, type MysqlDatabase, type SqlExecutor } from './sql';

interface GrantRow {
  principal_type: Buffer;
  principal_id: Buffer;
  namespace_id: Buffer;
  account_id: Buffer;
  permission: Buffer;
}

interface ApiKeyRow {
  data: string;
  last_used_at: number | string | null;
}

const GRANT_COLUMNS = 'principal_type, principal_id, namespace_id, account_id, permission';

/** The version reads lock the row (FOR UPDATE) until the commit ends. */
const ROW_SQL: Readonly<Record<IdentityKind, IdentityRowSql>> = {
  account: identityRowSql('account', true),
  user: identityRowSql('user', true),
  serviceAccount: identityRowSql('serviceAccount', true),
  apiKey: identityRowSql('apiKey', true),
};

/**
 * The identity store in the cluster database. A commit is one transaction (READ COMMITTED, like
 * every transaction of the backend): each versioned row is read FOR UPDATE and compared, so a
 * racing writer of the same row waits and then fails the comparison; absent rows take no gap
 * lock, and two racing creations of one key (or one live email) are settled by the unique keys,
 * whose violation is reported as the same AlreadyExistsError the checks would have thrown.
 */
export class MysqlIdentityStore implements IdentityStore {
  constructor(private readonly db: MysqlDatabase) {}

  async commit(commit: IdentityCommit): Promise<void> {
    checkIdentityCommit(commit);
    const { namespace, audit, operation } = commit;
    await this.db.transaction(async (tx) => {
      for (const write of commit.writes) await writeRow(tx, write);
      for (const grant of commit.grants ?? []) await writeGrant(tx, grant);
      if (namespace) {
        if (namespace.expectedUpdatedAt === undefined) await insertNamespace(tx, namespace.record);
        else await replaceNamespace(tx, namespace.record, namespace.expectedUpdatedAt);
      }
      if (audit) await insertAudit(tx, audit);
      if (operation) await insertOperation(tx, operation);
    });
  }

  async getAccount(id: string): Promise<AccountRecord | undefined> {
    const [row] = await this.db.rows<{ data: string }>('SELECT data FROM accounts WHERE id = ?', [id]);
    return row && accountFromData(row.data);
  }

  async listAccounts(page: IdentityPage): Promise<ListPage<AccountRecord>> {
    checkLimit(page.pageSize, 'pageSize');
    const rows = await this.db.rows<{ data: string }>('SELECT data FROM accounts WHERE id > ? AND deleted = 0 ORDER BY id LIMIT ?', [
      afterKey('accounts', page.nextPageToken),
      page.pageSize + 1,
    ]);
    return pageOf(rows.map((row) => accountFromData(row.data)), page.pageSize, 'accounts', (record) => [record.id]);
  }

  async getUser(accountId: string, id: string): Promise<UserRecord | undefined> {
    const [row] = await this.db.rows<{ data: string }>('SELECT data FROM users WHERE account_id = ? AND id = ?', [accountId, id]);
    return row && userFromData(row.data);
  }

  async getUserByEmail(accountId: string, email: string): Promise<UserRecord | undefined> {
    const [row] = await this.db.rows<{ data: string }>('SELECT data FROM users WHERE account_id = ? AND active_email = ?', [accountId, emailKey(email)]);
    return row && userFromData(row.data);
  }

  async listUsers(accountId: string, page: IdentityPage): Promise<ListPage<UserRecord>> {
    checkLimit(page.pageSize, 'pageSize');
    const rows = await this.db.rows<{ data: string }>(
      'SELECT data FROM users WHERE account_id = ? AND id > ? AND deleted = 0 ORDER BY id LIMIT ?',
      [accountId, afterKey('users', page.nextPageToken), page.pageSize + 1],
    );
    return pageOf(rows.map((row) => userFromData(row.data)), page.pageSize, 'users', (record) => [record.id]);
  }

  async getServiceAccount(accountId: string, id: string): Promise<ServiceAccountRecord | undefined> {
    const [row] = await this.db.rows<{ data: string }>('SELECT data FROM service_accounts WHERE account_id = ? AND id = ?', [accountId, id]);
    return row && serviceAccountFromData(row.data);
  }

  async listServiceAccounts(accountId: string, page: IdentityPage): Promise<ListPage<ServiceAccountRecord>> {
    checkLimit(page.pageSize, 'pageSize');
    const rows = await this.db.rows<{ data: string }>(
      'SELECT data FROM service_accounts WHERE account_id = ? AND id > ? AND deleted = 0 ORDER BY id LIMIT ?',
      [accountId, afterKey('serviceAccounts', page.nextPageToken), page.pageSize + 1],
    );
    return pageOf(rows.map((row) => serviceAccountFromData(row.data)), page.pageSize, 'serviceAccounts', (record) => [record.id]);
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.db.rows<ApiKeyRow>('SELECT data, last_used_at FROM api_keys WHERE id = ?', [id]);
    return row && toApiKey(row);
  }

  async listApiKeys(accountId: string, filter: { ownerId?: string }, page: IdentityPage): Promise<ListPage<ApiKeyRecord>> {
    checkLimit(page.pageSize, 'pageSize');
    const after = afterKey('apiKeys', page.nextPageToken);
    const rows =
      filter.ownerId === undefined
        ? await this.db.rows<ApiKeyRow>('SELECT data, last_used_at FROM api_keys WHERE account_id = ? AND id > ? AND deleted = 0 ORDER BY id LIMIT ?', [
            accountId,
            after,
            page.pageSize + 1,
          ])
        : await this.db.rows<ApiKeyRow>(
            'SELECT data, last_used_at FROM api_keys WHERE account_id = ? AND owner_id = ? AND id > ? AND deleted = 0 ORDER BY id LIMIT ?',
            [accountId, filter.ownerId, after, page.pageSize + 1],
          );
    return pageOf(rows.map(toApiKey), page.pageSize, 'apiKeys', (record) => [record.id]);
  }

  async touchApiKey(id: string, lastUsedAt: number): Promise<void> {
    checkTime(lastUsedAt, 'lastUsedAt');
    // Only forward: touches from several frontends may land out of order.
    await this.db.run('UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)', [lastUsedAt, id, lastUsedAt]);
  }

  async listGrantsOfPrincipal(accountId: string, principalType: NamespaceGrantRecord['principalType'], principalId: string): Promise<NamespaceGrantRecord[]> {
    const rows = await this.db.rows<GrantRow>(
      `SELECT ${GRANT_COLUMNS} FROM namespace_grants WHERE principal_type = ? AND principal_id = ? AND account_id = ? ORDER BY namespace_id`,
      [principalType, principalId, accountId],
    );
    return rows.map(toGrant);
  }

  async listGrantsOnNamespace(namespaceId: string): Promise<NamespaceGrantRecord[]> {
    const rows = await this.db.rows<GrantRow>(
      `SELECT ${GRANT_COLUMNS} FROM namespace_grants WHERE namespace_id = ? ORDER BY principal_type, principal_id`,
      [namespaceId],
    );
    return rows.map(toGrant);
  }

  async listNamespacesOfAccount(accountId: string, page: IdentityPage): Promise<ListPage<NamespaceRecord>> {
    return listNamespacesOfAccount(this.db, accountId, page);
  }

  async listAudit(accountId: string, range: { from: number; to: number }, page: IdentityPage): Promise<ListPage<AuditRecord>> {
    checkLimit(page.pageSize, 'pageSize');
    checkAuditRange(range);
    const pageSize = Math.min(page.pageSize, MAX_AUDIT_PAGE_SIZE);
    const [afterTime, afterId] = page.nextPageToken === undefined ? [range.from, ''] : decodePageToken('audit', page.nextPageToken, ['number', 'string']);
    // Starts after (afterTime, afterId): the first term bounds the index range, the last skips
    // the rows of afterTime up to and including afterId.
    const rows = await this.db.rows<{ data: string }>(
      `SELECT data FROM audit_log WHERE account_id = ? AND time >= ? AND time < ? AND (time > ? OR id > ?)
       ORDER BY time, id LIMIT ?`,
      [accountId, Math.max(range.from, afterTime as number), range.to, afterTime as number, afterId as string, pageSize + 1],
    );
    return pageOf(rows.map((row) => auditFromData(row.data)), pageSize, 'audit', (record) => [record.time, record.id]);
  }

  async deleteAuditBefore(before: number, limit: number): Promise<number> {
    checkLimit(limit);
    checkTime(before, 'before');
    const result = await this.db.run('DELETE FROM audit_log WHERE time < ? ORDER BY time, id LIMIT ?', [before, limit]);
    return result.affectedRows;
  }

  async getOperation(accountId: string, id: string): Promise<AsyncOperationRecord | undefined> {
    const [row] = await this.db.rows<{ data: string }>('SELECT data FROM async_operations WHERE account_id = ? AND id = ?', [accountId, id]);
    return row && operationFromData(row.data);
  }
}

/** Locks and checks the row's version (or its absence), checks the user's email, then writes. */
async function writeRow(tx: SqlExecutor, write: IdentityWrite): Promise<void> {
  const row = identityRow(write);
  const sql = ROW_SQL[write.kind];
  const [stored] = await tx.rows<{ resource_version: number }>(sql.version, row.key);
  const actual = stored === undefined ? undefined : toInt(stored.resource_version, `${IDENTITY_TABLES[write.kind].table}.resource_version`);
  if (write.expectedVersion === undefined) {
    if (actual !== undefined) throw rowExists(write);
  } else if (actual !== write.expectedVersion) {
    throw versionConflict(write, actual);
  }
  if (write.kind === 'user' && !write.record.deleted) {
    const [holder] = await tx.rows<{ id: Buffer }>('SELECT id FROM users WHERE account_id = ? AND active_email = ?', [
      write.record.accountId,
      emailKey(write.record.email),
    ]);
    if (holder && toText(holder.id) !== write.record.id) throw emailTaken(write.record);
  }
  try {
    if (write.expectedVersion === undefined) {
      await tx.run(sql.insert, insertParams(row));
    } else {
      const result = await tx.run(sql.update, updateParams(write.kind, row, write.expectedVersion));
      if (result.affectedRows !== 1) throw new InvariantViolationError(`${describeWrite(write)}: the checked update changed ${result.affectedRows} rows`);
    }
  } catch (err) {
    // A racing commit inserted the same key (or took the email) after the checks above read nothing.
    if (!(err instanceof DuplicateKeyError)) throw err;
    throw write.kind === 'user' && err.key === 'users_by_email' ? emailTaken(write.record) : rowExists(write);
  }
}

async function writeGrant(tx: SqlExecutor, grant: GrantWrite): Promise<void> {
  if ('set' in grant) {
    const { set } = grant;
    await tx.run(
      `INSERT INTO namespace_grants (${GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE account_id = VALUES(account_id), permission = VALUES(permission)`,
      [...grantKey(set), set.accountId, set.permission],
    );
  } else if ('remove' in grant) {
    await tx.run('DELETE FROM namespace_grants WHERE principal_type = ? AND principal_id = ? AND namespace_id = ?', grantKey(grant.remove));
  } else {
    assertNever(grant, 'grant write');
  }
}

async function insertAudit(tx: SqlExecutor, record: AuditRecord): Promise<void> {
  try {
    await tx.run('INSERT INTO audit_log (account_id, time, id, data) VALUES (?, ?, ?, ?)', [record.accountId, record.time, record.id, auditToData(record)]);
  } catch (err) {
    if (err instanceof DuplicateKeyError) throw auditExists(record);
    throw err;
  }
}

async function insertOperation(tx: SqlExecutor, record: AsyncOperationRecord): Promise<void> {
  try {
    await tx.run('INSERT INTO async_operations (account_id, id, data) VALUES (?, ?, ?)', [record.accountId, record.id, operationToData(record)]);
  } catch (err) {
    if (err instanceof DuplicateKeyError) throw operationExists(record);
    throw err;
  }
}

function toApiKey(row: ApiKeyRow): ApiKeyRecord {
  return apiKeyFromData(row.data, row.last_used_at === null ? null : toInt(row.last_used_at, 'api_keys.last_used_at'));
}

function toGrant(row: GrantRow): NamespaceGrantRecord {
  return {
    accountId: toText(row.account_id),
    principalType: toText(row.principal_type) as NamespaceGrantRecord['principalType'],
    principalId: toText(row.principal_id),
    namespaceId: toText(row.namespace_id),
    permission: toText(row.permission) as NamespaceGrantRecord['permission'],
  };
}
