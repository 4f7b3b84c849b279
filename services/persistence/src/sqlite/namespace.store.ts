import type Database from 'better-sqlite3';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@hourglass/common';
import type { ListPage, NamespaceRecord, NamespaceStore } from '../types';
import { checkLimit, type SqliteLane } from './sql';
import { decodeNamespacePageToken, encodeNamespacePageToken } from '../store-checks';

interface NamespaceRow {
  id: string;
  name: string;
  data: string;
}

export class SqliteNamespaceStore implements NamespaceStore {
  private readonly byName: Database.Statement<[string], NamespaceRow>;
  private readonly byId: Database.Statement<[string], NamespaceRow>;
  private readonly pageAfter: Database.Statement<[string, number], NamespaceRow>;
  private readonly insert: Database.Statement<[NamespaceRow]>;
  private readonly update: Database.Statement<[NamespaceRow]>;
  private readonly createTx: (record: NamespaceRecord) => void;
  private readonly updateTx: (record: NamespaceRecord) => void;

  constructor(db: Database.Database, private readonly lane: SqliteLane) {
    this.byName = db.prepare('SELECT id, name, data FROM namespaces WHERE name = ?');
    this.byId = db.prepare('SELECT id, name, data FROM namespaces WHERE id = ?');
    this.pageAfter = db.prepare('SELECT id, name, data FROM namespaces WHERE name > ? ORDER BY name LIMIT ?');
    this.insert = db.prepare('INSERT INTO namespaces (id, name, data) VALUES (@id, @name, @data)');
    this.update = db.prepare('UPDATE namespaces SET name = @name, data = @data WHERE id = @id');
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

  updateNamespace(record: NamespaceRecord): Promise<void> {
    return this.lane.run(() => {
      this.updateTx(record);
    });
  }

  private createLocked(record: NamespaceRecord): void {
    // Paging starts after '', so an empty name would be unlistable.
    if (record.name === '') throw new InvalidArgumentError('namespace name must not be empty');
    if (this.byName.get(record.name)) throw namespaceExists(`namespace ${record.name} already exists`);
    if (this.byId.get(record.id)) throw namespaceExists(`namespace id ${record.id} already exists`);
    this.insert.run(toRow(record));
  }

  private updateLocked(record: NamespaceRecord): void {
    if (!this.byId.get(record.id)) throw new NotFoundError(`namespace id ${record.id} not found`);
    const sameName = this.byName.get(record.name);
    if (sameName && sameName.id !== record.id) throw namespaceExists(`namespace ${record.name} already exists`);
    this.update.run(toRow(record));
  }
}

function namespaceExists(message: string): AlreadyExistsError {
  return new AlreadyExistsError(message, { type: 'NamespaceAlreadyExistsFailure' });
}

function toRow(record: NamespaceRecord): NamespaceRow {
  return { id: record.id, name: record.name, data: JSON.stringify(record) };
}

function parse(row: NamespaceRow): NamespaceRecord {
  return JSON.parse(row.data) as NamespaceRecord;
}

function fromRow(row: NamespaceRow | undefined): NamespaceRecord | undefined {
  return row && parse(row);
}

