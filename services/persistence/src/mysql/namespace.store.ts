import { InvalidArgumentError, NotFoundError } from '@hourglass/common';
import type { IdentityPage } from '../identity-types';
import { afterKey, namespaceExists, namespaceFromData, pageOf, staleNamespace } from '../identity-records';
import type { ListPage, NamespaceRecord, NamespaceStore } from '../types';
import { DuplicateKeyError } from './errors';
import { checkLimit, type MysqlDatabase, type SqlExecutor } from './sql';
import { decodeNamespacePageToken, encodeNamespacePageToken } from '../store-checks';

interface NamespaceRow {
  id: Buffer;
  name: Buffer;
  data: string;
}

const COLUMNS = 'id, name, data';
/** Issued by listNamespacesOfAccount. */
const OF_ACCOUNT_LIST = 'namespacesOfAccount';

/**
 * Namespaces live in the cluster database. Checks run before the write so the error can say
 * which key collided (as the SQLite backend does); the unique keys settle a race between them.
 */
export class MysqlNamespaceStore implements NamespaceStore {
  constructor(private readonly db: MysqlDatabase) {}

  async createNamespace(record: NamespaceRecord): Promise<void> {
    await insertNamespace(this.db, record);
  }

  async getNamespaceByName(name: string): Promise<NamespaceRecord | undefined> {
    return byName(this.db, name);
  }

  async getNamespaceById(id: string): Promise<NamespaceRecord | undefined> {
    return byId(this.db, id, false);
  }

  async listNamespaces(options: { pageSize: number; nextPageToken?: string }): Promise<ListPage<NamespaceRecord>> {
    checkLimit(options.pageSize, 'pageSize');
    const after = options.nextPageToken === undefined ? '' : decodeNamespacePageToken(options.nextPageToken);
    // One extra row tells whether another page exists without a second query. Names are
    // VARBINARY, so the order is byte-wise UTF-8, as in SQLite.
    const rows = await this.db.rows<NamespaceRow>(`SELECT ${COLUMNS} FROM namespaces WHERE name > ? ORDER BY name LIMIT ?`, [
      after,
      options.pageSize + 1,
    ]);
    const items = rows.slice(0, options.pageSize).map(parse);
    const last = items[items.length - 1];
    return rows.length > options.pageSize && last ? { items, nextPageToken: encodeNamespacePageToken(last.name) } : { items };
  }

  async updateNamespace(record: NamespaceRecord): Promise<void> {
    if (!(await byId(this.db, record.id, false))) throw new NotFoundError(`namespace id ${record.id} not found`);
    // affectedRows counts matched rows (the driver sets CLIENT_FOUND_ROWS); namespaces are never deleted.
    if ((await writeOver(this.db, record)) !== 1) throw new NotFoundError(`namespace id ${record.id} not found`);
  }
}

/** IdentityStore.listNamespacesOfAccount: by name, deleted ones left out. */
export async function listNamespacesOfAccount(db: SqlExecutor, accountId: string, page: IdentityPage): Promise<ListPage<NamespaceRecord>> {
  checkLimit(page.pageSize, 'pageSize');
  const rows = await db.rows<NamespaceRow>(
    `SELECT ${COLUMNS} FROM namespaces WHERE account_id = ? AND name > ?
       AND COALESCE(JSON_UNQUOTE(JSON_EXTRACT(data, '$.state')), '') <> 'deleted'
     ORDER BY name LIMIT ?`,
    [accountId, afterKey(OF_ACCOUNT_LIST, page.nextPageToken), page.pageSize + 1],
  );
  return pageOf(rows.map(parse), page.pageSize, OF_ACCOUNT_LIST, (record) => [record.name]);
}

/** The one insert of a namespace: NamespaceStore.createNamespace, and identity commits on their transaction. */
export async function insertNamespace(db: SqlExecutor, record: NamespaceRecord): Promise<void> {
  // Paging starts after '', so an empty name would be unlistable.
  if (record.name === '') throw new InvalidArgumentError('namespace name must not be empty');
  if (await byName(db, record.name)) throw namespaceExists(`namespace ${record.name} already exists`);
  if (await byId(db, record.id, false)) throw namespaceExists(`namespace id ${record.id} already exists`);
  try {
    await db.run(`INSERT INTO namespaces (${COLUMNS}, account_id) VALUES (?, ?, ?, ?)`, [record.id, record.name, JSON.stringify(record), record.accountId]);
  } catch (err) {
    if (!(err instanceof DuplicateKeyError)) throw err;
    throw err.key === 'PRIMARY'
      ? namespaceExists(`namespace id ${record.id} already exists`)
      : namespaceExists(`namespace ${record.name} already exists`);
  }
}

/** Inside a transaction: replaces the record if its stored updatedAt is still `expectedUpdatedAt`. */
export async function replaceNamespace(tx: SqlExecutor, record: NamespaceRecord, expectedUpdatedAt: number): Promise<void> {
  const stored = await byId(tx, record.id, true);
  if (stored?.updatedAt !== expectedUpdatedAt) throw staleNamespace(record, expectedUpdatedAt, stored);
  await writeOver(tx, record);
}

/** Replaces the row of `record.id`; returns the rows it matched. */
async function writeOver(db: SqlExecutor, record: NamespaceRecord): Promise<number> {
  const sameName = await byName(db, record.name);
  if (sameName && sameName.id !== record.id) throw namespaceExists(`namespace ${record.name} already exists`);
  try {
    const result = await db.run('UPDATE namespaces SET name = ?, account_id = ?, data = ? WHERE id = ?', [
      record.name,
      record.accountId,
      JSON.stringify(record),
      record.id,
    ]);
    return result.affectedRows;
  } catch (err) {
    if (err instanceof DuplicateKeyError) throw namespaceExists(`namespace ${record.name} already exists`);
    throw err;
  }
}

async function byName(db: SqlExecutor, name: string): Promise<NamespaceRecord | undefined> {
  const [row] = await db.rows<NamespaceRow>(`SELECT ${COLUMNS} FROM namespaces WHERE name = ?`, [name]);
  return row && parse(row);
}

/** `lock`: FOR UPDATE, inside a transaction that writes the row. */
async function byId(db: SqlExecutor, id: string, lock: boolean): Promise<NamespaceRecord | undefined> {
  const [row] = await db.rows<NamespaceRow>(`SELECT ${COLUMNS} FROM namespaces WHERE id = ?${lock ? ' FOR UPDATE' : ''}`, [id]);
  return row && parse(row);
}

function parse(row: NamespaceRow): NamespaceRecord {
  return namespaceFromData(row.data);
}
