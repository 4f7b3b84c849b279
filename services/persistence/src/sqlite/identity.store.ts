import type Database from 'better-sqlite3';
import { InvariantViolationError, assertNever } from '@hourglass/common';
import {
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
  type SqlValue,
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
import type { SqliteNamespaceStore } from './namespace.store';
import { checkLimit, isDuplicateKey, type SqliteLane } from './sql';

interface GrantRow {
  principal_type: NamespaceGrantRecord['principalType'];
  principal_id: string;
  namespace_id: string;
  account_id: string;
  permission: NamespaceGrantRecord['permission'];
}

interface ApiKeyRow {
  data: string;
  last_used_at: number | null;
}

const GRANT_COLUMNS = 'principal_type, principal_id, namespace_id, account_id, permission';
const KINDS: readonly IdentityKind[] = ['account', 'user', 'serviceAccount', 'apiKey'];

/** Statements of the versioned rows of one kind. */
interface RowStatements {
  version: Database.Statement<SqlValue[], number>;
  insert: Database.Statement<SqlValue[]>;
  update: Database.Statement<SqlValue[]>;
}

/** All statements, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  const rows = {} as Record<IdentityKind, RowStatements>;
  for (const kind of KINDS) {
    const sql = identityRowSql(kind, false);
    rows[kind] = {
      version: db.prepare<SqlValue[], number>(sql.version).pluck(),
      insert: db.prepare<SqlValue[]>(sql.insert),
      update: db.prepare<SqlValue[]>(sql.update),
    };
  }
  return {
    rows,
    getAccount: db.prepare<[string], string>('SELECT data FROM accounts WHERE id = ?').pluck(),
    listAccounts: db.prepare<[string, number], string>('SELECT data FROM accounts WHERE id > ? AND deleted = 0 ORDER BY id LIMIT ?').pluck(),
    getUser: db.prepare<[string, string], string>('SELECT data FROM users WHERE account_id = ? AND id = ?').pluck(),
    userByEmail: db.prepare<[string, string], string>('SELECT data FROM users WHERE account_id = ? AND active_email = ?').pluck(),
    userIdByEmail: db.prepare<[string, string], string>('SELECT id FROM users WHERE account_id = ? AND active_email = ?').pluck(),
    listUsers: db
      .prepare<[string, string, number], string>('SELECT data FROM users WHERE account_id = ? AND id > ? AND deleted = 0 ORDER BY id LIMIT ?')
      .pluck(),
    getServiceAccount: db.prepare<[string, string], string>('SELECT data FROM service_accounts WHERE account_id = ? AND id = ?').pluck(),
    listServiceAccounts: db
      .prepare<[string, string, number], string>('SELECT data FROM service_accounts WHERE account_id = ? AND id > ? AND deleted = 0 ORDER BY id LIMIT ?')
      .pluck(),
    getApiKey: db.prepare<[string], ApiKeyRow>('SELECT data, last_used_at FROM api_keys WHERE id = ?'),
    listApiKeys: db.prepare<[string, string, number], ApiKeyRow>(
      'SELECT data, last_used_at FROM api_keys WHERE account_id = ? AND id > ? AND deleted = 0 ORDER BY id LIMIT ?',
    ),
    listApiKeysOfOwner: db.prepare<[string, string, string, number], ApiKeyRow>(
      'SELECT data, last_used_at FROM api_keys WHERE account_id = ? AND owner_id = ? AND id > ? AND deleted = 0 ORDER BY id LIMIT ?',
    ),
    touchApiKey: db.prepare<[number, string, number]>('UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)'),
    setGrant: db.prepare<SqlValue[]>(
      `INSERT INTO namespace_grants (${GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (principal_type, principal_id, namespace_id) DO UPDATE SET account_id = excluded.account_id, permission = excluded.permission`,
    ),
    removeGrant: db.prepare<SqlValue[]>('DELETE FROM namespace_grants WHERE principal_type = ? AND principal_id = ? AND namespace_id = ?'),
    grantsOfPrincipal: db.prepare<[string, string, string], GrantRow>(
      `SELECT ${GRANT_COLUMNS} FROM namespace_grants WHERE principal_type = ? AND principal_id = ? AND account_id = ? ORDER BY namespace_id`,
    ),
    grantsOnNamespace: db.prepare<[string], GrantRow>(
      `SELECT ${GRANT_COLUMNS} FROM namespace_grants WHERE namespace_id = ? ORDER BY principal_type, principal_id`,
    ),
    insertAudit: db.prepare<[string, number, string, string]>('INSERT INTO audit_log (account_id, time, id, data) VALUES (?, ?, ?, ?)'),
    // Starts after (afterTime, afterId): the first term bounds the index range, the second skips
    // the rows of afterTime up to and including afterId.
    listAudit: db
      .prepare<{ accountId: string; from: number; to: number; afterTime: number; afterId: string; limit: number }, string>(
        `SELECT data FROM audit_log WHERE account_id = @accountId AND time >= @from AND time >= @afterTime AND time < @to
           AND (time > @afterTime OR id > @afterId)
         ORDER BY time, id LIMIT @limit`,
      )
      .pluck(),
    deleteAuditBefore: db.prepare<[number, number]>(
      'DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE time < ? ORDER BY time, id LIMIT ?)',
    ),
    insertOperation: db.prepare<[string, string, string]>('INSERT INTO async_operations (account_id, id, data) VALUES (?, ?, ?)'),
    getOperation: db.prepare<[string, string], string>('SELECT data FROM async_operations WHERE account_id = ? AND id = ?').pluck(),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * The identity store on the one SQLite connection. A commit is a list of steps run as one
 * transaction by the lane (possibly grouped with other short transactions, each in a savepoint
 * of its own), checks before writes: any throw undoes every step of the commit.
 */
export class SqliteIdentityStore implements IdentityStore {
  private readonly sql: Statements;

  constructor(private readonly db: Database.Database, private readonly lane: SqliteLane, private readonly namespaces: SqliteNamespaceStore) {
    this.sql = prepareStatements(db);
  }

  async commit(commit: IdentityCommit): Promise<void> {
    checkIdentityCommit(commit);
    const steps: (() => void)[] = commit.writes.map((write) => () => this.write(write));
    for (const grant of commit.grants ?? []) steps.push(() => this.writeGrant(grant));
    const { namespace, audit, operation } = commit;
    if (namespace) {
      steps.push(() => {
        if (namespace.expectedUpdatedAt === undefined) this.namespaces.createLocked(namespace.record);
        else this.namespaces.replaceLocked(namespace.record, namespace.expectedUpdatedAt);
      });
    }
    if (audit) steps.push(() => this.insertAudit(audit));
    if (operation) steps.push(() => this.insertOperation(operation));
    return this.lane.transaction(this.db, steps);
  }

  getAccount(id: string): Promise<AccountRecord | undefined> {
    return this.lane.run(() => {
      const data = this.sql.getAccount.get(id);
      return data === undefined ? undefined : accountFromData(data);
    });
  }

  listAccounts(page: IdentityPage): Promise<ListPage<AccountRecord>> {
    return this.lane.run(() => {
      checkLimit(page.pageSize, 'pageSize');
      const rows = this.sql.listAccounts.all(afterKey('accounts', page.nextPageToken), page.pageSize + 1).map(accountFromData);
      return pageOf(rows, page.pageSize, 'accounts', (record) => [record.id]);
    });
  }

  getUser(accountId: string, id: string): Promise<UserRecord | undefined> {
    return this.lane.run(() => {
      const data = this.sql.getUser.get(accountId, id);
      return data === undefined ? undefined : userFromData(data);
    });
  }

  getUserByEmail(accountId: string, email: string): Promise<UserRecord | undefined> {
    return this.lane.run(() => {
      const data = this.sql.userByEmail.get(accountId, emailKey(email));
      return data === undefined ? undefined : userFromData(data);
    });
  }

  listUsers(accountId: string, page: IdentityPage): Promise<ListPage<UserRecord>> {
    return this.lane.run(() => {
      checkLimit(page.pageSize, 'pageSize');
      const rows = this.sql.listUsers.all(accountId, afterKey('users', page.nextPageToken), page.pageSize + 1).map(userFromData);
      return pageOf(rows, page.pageSize, 'users', (record) => [record.id]);
    });
  }

  getServiceAccount(accountId: string, id: string): Promise<ServiceAccountRecord | undefined> {
    return this.lane.run(() => {
      const data = this.sql.getServiceAccount.get(accountId, id);
      return data === undefined ? undefined : serviceAccountFromData(data);
    });
  }

  listServiceAccounts(accountId: string, page: IdentityPage): Promise<ListPage<ServiceAccountRecord>> {
    return this.lane.run(() => {
      checkLimit(page.pageSize, 'pageSize');
      const after = afterKey('serviceAccounts', page.nextPageToken);
      const rows = this.sql.listServiceAccounts.all(accountId, after, page.pageSize + 1).map(serviceAccountFromData);
      return pageOf(rows, page.pageSize, 'serviceAccounts', (record) => [record.id]);
    });
  }

  getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.lane.run(() => {
      const row = this.sql.getApiKey.get(id);
      return row && apiKeyFromData(row.data, row.last_used_at);
    });
  }

  listApiKeys(accountId: string, filter: { ownerId?: string }, page: IdentityPage): Promise<ListPage<ApiKeyRecord>> {
    return this.lane.run(() => {
      checkLimit(page.pageSize, 'pageSize');
      const after = afterKey('apiKeys', page.nextPageToken);
      const rows =
        filter.ownerId === undefined
          ? this.sql.listApiKeys.all(accountId, after, page.pageSize + 1)
          : this.sql.listApiKeysOfOwner.all(accountId, filter.ownerId, after, page.pageSize + 1);
      const records = rows.map((row) => apiKeyFromData(row.data, row.last_used_at));
      return pageOf(records, page.pageSize, 'apiKeys', (record) => [record.id]);
    });
  }

  touchApiKey(id: string, lastUsedAt: number): Promise<void> {
    return this.lane.run(() => {
      checkTime(lastUsedAt, 'lastUsedAt');
      // Only forward: touches from several frontends may land out of order.
      this.sql.touchApiKey.run(lastUsedAt, id, lastUsedAt);
    });
  }

  listGrantsOfPrincipal(accountId: string, principalType: NamespaceGrantRecord['principalType'], principalId: string): Promise<NamespaceGrantRecord[]> {
    return this.lane.run(() => this.sql.grantsOfPrincipal.all(principalType, principalId, accountId).map(toGrant));
  }

  listGrantsOnNamespace(namespaceId: string): Promise<NamespaceGrantRecord[]> {
    return this.lane.run(() => this.sql.grantsOnNamespace.all(namespaceId).map(toGrant));
  }

  listNamespacesOfAccount(accountId: string, page: IdentityPage): Promise<ListPage<NamespaceRecord>> {
    return this.namespaces.listNamespacesOfAccount(accountId, page);
  }

  listAudit(accountId: string, range: { from: number; to: number }, page: IdentityPage): Promise<ListPage<AuditRecord>> {
    return this.lane.run(() => {
      checkLimit(page.pageSize, 'pageSize');
      checkAuditRange(range);
      const pageSize = Math.min(page.pageSize, MAX_AUDIT_PAGE_SIZE);
      const [afterTime, afterId] = page.nextPageToken === undefined ? [range.from, ''] : decodePageToken('audit', page.nextPageToken, ['number', 'string']);
      const rows = this.sql.listAudit
        .all({ accountId, from: range.from, to: range.to, afterTime: afterTime as number, afterId: afterId as string, limit: pageSize + 1 })
        .map(auditFromData);
      return pageOf(rows, pageSize, 'audit', (record) => [record.time, record.id]);
    });
  }

  deleteAuditBefore(before: number, limit: number): Promise<number> {
    return this.lane.run(() => {
      checkLimit(limit);
      checkTime(before, 'before');
      return this.sql.deleteAuditBefore.run(before, limit).changes;
    });
  }

  getOperation(accountId: string, id: string): Promise<AsyncOperationRecord | undefined> {
    return this.lane.run(() => {
      const data = this.sql.getOperation.get(accountId, id);
      return data === undefined ? undefined : operationFromData(data);
    });
  }

  /** Checks the row's version (or its absence), the user's email, then writes. */
  private write(write: IdentityWrite): void {
    const row = identityRow(write);
    const statements = this.sql.rows[write.kind];
    const actual = statements.version.get(...row.key);
    if (write.expectedVersion === undefined) {
      if (actual !== undefined) throw rowExists(write);
    } else if (actual !== write.expectedVersion) {
      throw versionConflict(write, actual);
    }
    if (write.kind === 'user' && !write.record.deleted) {
      const holder = this.sql.userIdByEmail.get(write.record.accountId, emailKey(write.record.email));
      if (holder !== undefined && holder !== write.record.id) throw emailTaken(write.record);
    }
    if (write.expectedVersion === undefined) {
      // The checks above make a duplicate unreachable on this one connection; the keys stay the last line.
      try {
        statements.insert.run(...insertParams(row));
      } catch (err) {
        if (isDuplicateKey(err)) throw rowExists(write);
        throw err;
      }
    } else {
      const { changes } = statements.update.run(...updateParams(write.kind, row, write.expectedVersion));
      if (changes !== 1) throw new InvariantViolationError(`${describeWrite(write)}: the checked update changed ${changes} rows`);
    }
  }

  private writeGrant(grant: GrantWrite): void {
    if ('set' in grant) {
      const { set } = grant;
      this.sql.setGrant.run(...grantKey(set), set.accountId, set.permission);
    } else if ('remove' in grant) {
      this.sql.removeGrant.run(...grantKey(grant.remove));
    } else {
      assertNever(grant, 'grant write');
    }
  }

  private insertAudit(record: AuditRecord): void {
    try {
      this.sql.insertAudit.run(record.accountId, record.time, record.id, auditToData(record));
    } catch (err) {
      if (isDuplicateKey(err)) throw auditExists(record);
      throw err;
    }
  }

  private insertOperation(record: AsyncOperationRecord): void {
    try {
      this.sql.insertOperation.run(record.accountId, record.id, operationToData(record));
    } catch (err) {
      if (isDuplicateKey(err)) throw operationExists(record);
      throw err;
    }
  }
}

function toGrant(row: GrantRow): NamespaceGrantRecord {
  return {
    accountId: row.account_id,
    principalType: row.principal_type,
    principalId: row.principal_id,
    namespaceId: row.namespace_id,
    permission: row.permission,
  };
}
