import type Database from 'better-sqlite3';
import { InvalidArgumentError, NotFoundError } from '@hourglass/common';
import type { IdentityPage } from '../identity-types';
import { afterKey, namespaceExists, namespaceFromData, pageOf, staleNamespace } from '../identity-records';
import type { ListPage, NamespaceRecord, NamespaceStore } from '../types';
import { checkLimit, type SqliteLane } from './sql';
import { decodeNamespacePageToken, encodeNamespacePageToken } from '../store-checks';

interface NamespaceRow {
  id: string;
  name: string;
  data: string;
}

interface NamespaceWriteRow extends NamespaceRow {
  accountId: string;
}

/** Issued by listNamespacesOfAccount. */
const OF_ACCOUNT_LIST = 'namespacesOfAccount';

/**
 * Namespaces, for the NamespaceStore and for the identity store's commits (which create and
 * replace namespaces in their own transaction through `createLocked` and `replaceLocked`): the
 * namespaces table is written here only.
 */
export class SqliteNamespaceStore implements NamespaceStore {
  private readonly byName: Database.Statement<[string], NamespaceRow>;
  private readonly byId: Database.Statement<[string], NamespaceRow>;
  private readonly pageAfter: Database.Statement<[string, number], NamespaceRow>;
  private readonly ofAccountAfter: Database.Statement<[string, string, number], NamespaceRow>;
  private readonly insert: Database.Statement<[NamespaceWriteRow]>;
  private readonly update: Database.Statement<[NamespaceWriteRow]>;
  private readonly createTx: (record: NamespaceRecord) => void;
  private readonly updateTx: (record: NamespaceRecord) => void;

  constructor(db: Database.Database, private readonly lane: SqliteLane) {
    this.byName = db.prepare('SELECT id, name, data FROM namespaces WHERE name = ?');
    this.byId = db.prepare('SELECT id, name, data FROM namespaces WHERE id = ?');
    this.pageAfter = db.prepare('SELECT id, name, data FROM namespaces WHERE name > ? ORDER BY name LIMIT ?');
    this.ofAccountAfter = db.prepare(
      `SELECT id, name, data FROM namespaces WHERE account_id = ? AND name > ? AND json_extract(data, '$.state') IS NOT 'deleted'
       ORDER BY name LIMIT ?`,
    );
    this.insert = db.prepare('INSERT INTO namespaces (id, name, account_id, data) VALUES (@id, @name, @accountId, @data)');
    this.update = db.prepare('UPDATE namespaces SET name = @name, account_id = @accountId, data = @data WHERE id = @id');
    // Check-then-write under the write lock, so the error can say which key collided.
    this.createTx = db.transaction((record: NamespaceRecord) => this.createLocked(record)).immediate;
    this.updateTx = db.transaction((record: NamespaceRecord) => this.updateLocked(record)).immediate;
  }

  createNamespace(record: NamespaceRecord): Promise<void> {
    return this.lane.run(() => {
      this.createTx(record);
    });
  }

  getNamespaceByName(name: string): Promise<NamespaceRecord | undefined> {
    return this.lane.run(() => {
      return fromRow(this.byName.get(name));
    });
  }

  getNamespaceById(id: string): Promise<NamespaceRecord | undefined> {
    return this.lane.run(() => {
      return fromRow(this.byId.get(id));
    });
  }

  listNamespaces(options: { pageSize: number; nextPageToken?: string }): Promise<ListPage<NamespaceRecord>> {
    return this.lane.run(() => {
      checkLimit(options.pageSize, 'pageSize');
      const after = options.nextPageToken === undefined ? '' : decodeNamespacePageToken(options.nextPageToken);
      // One extra row tells whether another page exists without a second query.
      const rows = this.pageAfter.all(after, options.pageSize + 1);
      const items = rows.slice(0, options.pageSize).map((row) => parse(row));
      const last = items[items.length - 1];
      return rows.length > options.pageSize && last ? { items, nextPageToken: encodeNamespacePageToken(last.name) } : { items };
    });
  }

  /** IdentityStore.listNamespacesOfAccount: by name, deleted ones left out. */
  listNamespacesOfAccount(accountId: string, page: IdentityPage): Promise<ListPage<NamespaceRecord>> {
    return this.lane.run(() => {
      checkLimit(page.pageSize, 'pageSize');
      const rows = this.ofAccountAfter.all(accountId, afterKey(OF_ACCOUNT_LIST, page.nextPageToken), page.pageSize + 1).map(parse);
      return pageOf(rows, page.pageSize, OF_ACCOUNT_LIST, (record) => [record.name]);
    });
  }

  updateNamespace(record: NamespaceRecord): Promise<void> {
    return this.lane.run(() => {
      this.updateTx(record);
    });
  }

  /** Inside a transaction. */
  createLocked(record: NamespaceRecord): void {
    // Paging starts after '', so an empty name would be unlistable.
    if (record.name === '') throw new InvalidArgumentError('namespace name must not be empty');
    if (this.byName.get(record.name)) throw namespaceExists(`namespace ${record.name} already exists`);
    if (this.byId.get(record.id)) throw namespaceExists(`namespace id ${record.id} already exists`);
    this.insert.run(toRow(record));
  }

  /** Inside a transaction: replaces the record if its stored updatedAt is still `expectedUpdatedAt`. */
  replaceLocked(record: NamespaceRecord, expectedUpdatedAt: number): void {
    const stored = fromRow(this.byId.get(record.id));
    if (stored?.updatedAt !== expectedUpdatedAt) throw staleNamespace(record, expectedUpdatedAt, stored);
    this.writeOver(record);
  }

  private updateLocked(record: NamespaceRecord): void {
    if (!this.byId.get(record.id)) throw new NotFoundError(`namespace id ${record.id} not found`);
    this.writeOver(record);
  }

  private writeOver(record: NamespaceRecord): void {
    const sameName = this.byName.get(record.name);
    if (sameName && sameName.id !== record.id) throw namespaceExists(`namespace ${record.name} already exists`);
    this.update.run(toRow(record));
  }
}

function toRow(record: NamespaceRecord): NamespaceWriteRow {
  return { id: record.id, name: record.name, accountId: record.accountId, data: JSON.stringify(record) };
}

function parse(row: NamespaceRow): NamespaceRecord {
  return namespaceFromData(row.data);
}

function fromRow(row: NamespaceRow | undefined): NamespaceRecord | undefined {
  return row && parse(row);
}
