import type { PrincipalType } from '../identity-types';
import type { PortalLoginRecord, PortalSessionRecord, PortalStore, SavedViewOwner, SavedViewRecord } from '../portal-types';
import { toInt, toText, type MysqlDatabase } from './sql';

interface LoginRow {
  email: Buffer | string;
  account_id: Buffer | string;
  user_id: Buffer | string;
  password_hash: Buffer | string;
  updated_at: number | string;
}

interface ViewRow {
  namespace_id: Buffer | string;
  owner_type: Buffer | string;
  owner_id: Buffer | string;
  name: Buffer | string;
  query: Buffer | string;
  saved_by: Buffer | string;
  updated_at: number | string;
}

const toView = (r: ViewRow): SavedViewRecord => ({
  namespaceId: toText(r.namespace_id),
  owner: { type: toText(r.owner_type) as PrincipalType, id: toText(r.owner_id) },
  name: toText(r.name),
  query: toText(r.query),
  savedBy: toText(r.saved_by),
  updatedAt: toInt(r.updated_at, 'updated_at'),
});

interface SessionRow {
  id: Buffer | string;
  account_id: Buffer | string;
  user_id: Buffer | string;
  secret_digest: Buffer | string;
  created_at: number | string;
  expires_at: number | string;
}

const toLogin = (r: LoginRow): PortalLoginRecord => ({
  email: toText(r.email),
  accountId: toText(r.account_id),
  userId: toText(r.user_id),
  passwordHash: toText(r.password_hash),
  updatedAt: toInt(r.updated_at, 'updated_at'),
});
const toSession = (r: SessionRow): PortalSessionRecord => ({
  id: toText(r.id),
  accountId: toText(r.account_id),
  userId: toText(r.user_id),
  secretDigest: toText(r.secret_digest),
  createdAt: toInt(r.created_at, 'created_at'),
  expiresAt: toInt(r.expires_at, 'expires_at'),
});

export class MysqlPortalStore implements PortalStore {
  constructor(private readonly db: MysqlDatabase) {}

  async saveView(r: SavedViewRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO portal_saved_views (namespace_id, owner_type, owner_id, name, query, saved_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE query = VALUES(query), saved_by = VALUES(saved_by), updated_at = VALUES(updated_at)`,
      [r.namespaceId, r.owner.type, r.owner.id, r.name, r.query, r.savedBy, r.updatedAt],
    );
  }

  async listViews(namespaceId: string, owner: SavedViewOwner, limit: number): Promise<SavedViewRecord[]> {
    const rows = await this.db.rows<ViewRow>(
      `SELECT * FROM portal_saved_views WHERE namespace_id = ? AND owner_type = ? AND owner_id = ? ORDER BY name LIMIT ${Math.max(1, Math.floor(limit))}`,
      [namespaceId, owner.type, owner.id],
    );
    return rows.map(toView);
  }

  async deleteView(namespaceId: string, owner: SavedViewOwner, name: string): Promise<boolean> {
    const sql = 'DELETE FROM portal_saved_views WHERE namespace_id = ? AND owner_type = ? AND owner_id = ? AND name = ?';
    return (await this.db.run(sql, [namespaceId, owner.type, owner.id, name])).affectedRows > 0;
  }

  async setLogin(r: PortalLoginRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO portal_logins (account_id, user_id, email, password_hash, updated_at) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE email = VALUES(email), password_hash = VALUES(password_hash), updated_at = VALUES(updated_at)`,
      [r.accountId, r.userId, r.email, r.passwordHash, r.updatedAt],
    );
  }

  async listLoginsByEmail(email: string, limit: number): Promise<PortalLoginRecord[]> {
    const rows = await this.db.rows<LoginRow>(`SELECT * FROM portal_logins WHERE email = ? ORDER BY account_id LIMIT ${Math.max(1, Math.floor(limit))}`, [email]);
    return rows.map(toLogin);
  }

  async getLogin(accountId: string, userId: string): Promise<PortalLoginRecord | undefined> {
    const rows = await this.db.rows<LoginRow>('SELECT * FROM portal_logins WHERE account_id = ? AND user_id = ?', [accountId, userId]);
    return rows[0] ? toLogin(rows[0]) : undefined;
  }

  async deleteLogin(accountId: string, userId: string): Promise<void> {
    await this.db.run('DELETE FROM portal_logins WHERE account_id = ? AND user_id = ?', [accountId, userId]);
    await this.db.run('DELETE FROM portal_sessions WHERE account_id = ? AND user_id = ?', [accountId, userId]);
  }

  async createSession(r: PortalSessionRecord): Promise<void> {
    await this.db.run('INSERT INTO portal_sessions (id, account_id, user_id, secret_digest, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)', [
      r.id,
      r.accountId,
      r.userId,
      r.secretDigest,
      r.createdAt,
      r.expiresAt,
    ]);
  }

  async getSession(id: string): Promise<PortalSessionRecord | undefined> {
    const rows = await this.db.rows<SessionRow>('SELECT * FROM portal_sessions WHERE id = ?', [id]);
    return rows[0] ? toSession(rows[0]) : undefined;
  }

  async deleteSession(id: string): Promise<void> {
    await this.db.run('DELETE FROM portal_sessions WHERE id = ?', [id]);
  }

  async deleteExpiredSessions(before: number, limit: number): Promise<number> {
    const result = await this.db.run(`DELETE FROM portal_sessions WHERE expires_at < ? LIMIT ${Math.max(1, Math.floor(limit))}`, [before]);
    return result.affectedRows;
  }
}
