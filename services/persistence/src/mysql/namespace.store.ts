import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@hourglass/common';
import type { ListPage, NamespaceRecord, NamespaceStore } from '../types';
import { DuplicateKeyError } from './errors';
import { checkLimit, type MysqlDatabase } from './sql';
import { decodeNamespacePageToken, encodeNamespacePageToken } from '../store-checks';

interface NamespaceRow {
  id: Buffer;
  name: Buffer;
  data: string;
}

const COLUMNS = 'id, name, data';

/**
 * Namespaces live in the cluster database. Checks run before the write so the error can say
 * which key collided (as the SQLite backend does); the unique keys settle a race between them.
 */
export class MysqlNamespaceStore implements NamespaceStore {
  constructor(private readonly db: MysqlDatabase) {}

  async createNamespace(record: NamespaceRecord): Promise<void> {
    // Paging starts after '', so an empty name would be unlistable.
    if (record.name === '') throw new InvalidArgumentError('namespace name must not be empty');
    if (await this.byName(record.name)) throw namespaceExists(`namespace ${record.name} already exists`);
    if (await this.byId(record.id)) throw namespaceExists(`namespace id ${record.id} already exists`);
    try {
      await this.db.run(`INSERT INTO namespaces (${COLUMNS}) VALUES (?, ?, ?)`, [record.id, record.name, JSON.stringify(record)]);
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      throw err.key === 'PRIMARY'
        ? namespaceExists(`namespace id ${record.id} already exists`)
        : namespaceExists(`namespace ${record.name} already exists`);
    }
  }

  async getNamespaceByName(name: string): Promise<NamespaceRecord | undefined> {
    return this.byName(name);
  }

  async getNamespaceById(id: string): Promise<NamespaceRecord | undefined> {
    return this.byId(id);
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
    if (!(await this.byId(record.id))) throw new NotFoundError(`namespace id ${record.id} not found`);
    const sameName = await this.byName(record.name);
    if (sameName && sameName.id !== record.id) throw namespaceExists(`namespace ${record.name} already exists`);
    try {
      const result = await this.db.run('UPDATE namespaces SET name = ?, data = ? WHERE id = ?', [record.name, JSON.stringify(record), record.id]);
      // affectedRows counts matched rows (the driver sets CLIENT_FOUND_ROWS); namespaces are never deleted.
      if (result.affectedRows !== 1) throw new NotFoundError(`namespace id ${record.id} not found`);
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw namespaceExists(`namespace ${record.name} already exists`);
      throw err;
    }
  }

  private async byName(name: string): Promise<NamespaceRecord | undefined> {
    const [row] = await this.db.rows<NamespaceRow>(`SELECT ${COLUMNS} FROM namespaces WHERE name = ?`, [name]);
    return row && parse(row);
  }

  private async byId(id: string): Promise<NamespaceRecord | undefined> {
    const [row] = await this.db.rows<NamespaceRow>(`SELECT ${COLUMNS} FROM namespaces WHERE id = ?`, [id]);
    return row && parse(row);
  }
}

function namespaceExists(message: string): AlreadyExistsError {
  return new AlreadyExistsError(message, { type: 'NamespaceAlreadyExistsFailure' });
}

function parse(row: NamespaceRow): NamespaceRecord {
  return JSON.parse(row.data) as NamespaceRecord;
}


