import type Database from 'better-sqlite3';
import type { PrincipalType } from '../identity-types';
import type { PortalLoginRecord, PortalSessionRecord, PortalStore, SavedViewOwner, SavedViewRecord } from '../portal-types';
import type { SqliteLane } from './sql';

interface LoginRow {
  email: string;
  account_id: string;
  user_id: string;
  password_hash: string;
  updated_at: number;
}

interface ViewRow {
  namespace_id: string;
  owner_type: string;
  owner_id: string;
  name: string;
  query: string;
  saved_by: string;
  updated_at: number;
}

const toView = (r: ViewRow): SavedViewRecord => ({
  namespaceId: r.namespace_id,
  owner: { type: r.owner_type as PrincipalType, id: r.owner_id },
  name: r.name,
  query: r.query,
  savedBy: r.saved_by,
  updatedAt: r.updated_at,
});

interface SessionRow {
  id: string;
  account_id: string;
  user_id: string;
  secret_digest: string;
  created_at: number;
  expires_at: number;
}

const toLogin = (r: LoginRow): PortalLoginRecord => ({ email: r.email, accountId: r.account_id, userId: r.user_id, passwordHash: r.password_hash, updatedAt: r.updated_at });
const toSession = (r: SessionRow): PortalSessionRecord => ({
  id: r.id,
  accountId: r.account_id,
  userId: r.user_id,
  secretDigest: r.secret_digest,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

export class SqlitePortalStore implements PortalStore {
  private readonly sql;

  constructor(
    db: Database.Database,
    private readonly lane: SqliteLane,
  ) {
    this.sql = {
      setLogin: db.prepare<[string, string, string, string, number]>(
        `INSERT INTO portal_logins (account_id, user_id, email, password_hash, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (account_id, user_id) DO UPDATE SET email = excluded.email, password_hash = excluded.password_hash, updated_at = excluded.updated_at`,
      ),
      loginsByEmail: db.prepare<[string, number], LoginRow>('SELECT * FROM portal_logins WHERE email = ? ORDER BY account_id LIMIT ?'),
      getLogin: db.prepare<[string, string], LoginRow>('SELECT * FROM portal_logins WHERE account_id = ? AND user_id = ?'),
      deleteLogin: db.prepare<[string, string]>('DELETE FROM portal_logins WHERE account_id = ? AND user_id = ?'),
      deleteSessionsOf: db.prepare<[string, string]>('DELETE FROM portal_sessions WHERE account_id = ? AND user_id = ?'),
      createSession: db.prepare<[string, string, string, string, number, number]>(
        'INSERT INTO portal_sessions (id, account_id, user_id, secret_digest, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      getSession: db.prepare<[string], SessionRow>('SELECT * FROM portal_sessions WHERE id = ?'),
      deleteSession: db.prepare<[string]>('DELETE FROM portal_sessions WHERE id = ?'),
      saveView: db.prepare<[string, string, string, string, string, string, number]>(
        `INSERT INTO portal_saved_views (namespace_id, owner_type, owner_id, name, query, saved_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (namespace_id, owner_type, owner_id, name) DO UPDATE SET query = excluded.query, saved_by = excluded.saved_by, updated_at = excluded.updated_at`,
      ),
      listViews: db.prepare<[string, string, string, number], ViewRow>(
        'SELECT * FROM portal_saved_views WHERE namespace_id = ? AND owner_type = ? AND owner_id = ? ORDER BY name LIMIT ?',
      ),
      deleteView: db.prepare<[string, string, string, string]>('DELETE FROM portal_saved_views WHERE namespace_id = ? AND owner_type = ? AND owner_id = ? AND name = ?'),
      deleteExpired: db.prepare<[number, number]>('DELETE FROM portal_sessions WHERE id IN (SELECT id FROM portal_sessions WHERE expires_at < ? LIMIT ?)'),
    };
  }

  saveView(r: SavedViewRecord): Promise<void> {
    return this.lane.run(() => void this.sql.saveView.run(r.namespaceId, r.owner.type, r.owner.id, r.name, r.query, r.savedBy, r.updatedAt));
  }

  listViews(namespaceId: string, owner: SavedViewOwner, limit: number): Promise<SavedViewRecord[]> {
    return this.lane.run(() => this.sql.listViews.all(namespaceId, owner.type, owner.id, limit).map(toView));
  }

  deleteView(namespaceId: string, owner: SavedViewOwner, name: string): Promise<boolean> {
    return this.lane.run(() => this.sql.deleteView.run(namespaceId, owner.type, owner.id, name).changes > 0);
  }

  setLogin(r: PortalLoginRecord): Promise<void> {
    return this.lane.run(() => void this.sql.setLogin.run(r.accountId, r.userId, r.email, r.passwordHash, r.updatedAt));
  }

  listLoginsByEmail(email: string, limit: number): Promise<PortalLoginRecord[]> {
    return this.lane.run(() => this.sql.loginsByEmail.all(email, limit).map(toLogin));
  }

  getLogin(accountId: string, userId: string): Promise<PortalLoginRecord | undefined> {
    return this.lane.run(() => {
      const row = this.sql.getLogin.get(accountId, userId);
      return row ? toLogin(row) : undefined;
    });
  }

  deleteLogin(accountId: string, userId: string): Promise<void> {
    return this.lane.run(() => {
      this.sql.deleteLogin.run(accountId, userId);
      this.sql.deleteSessionsOf.run(accountId, userId);
    });
  }

  createSession(r: PortalSessionRecord): Promise<void> {
    return this.lane.run(() => void this.sql.createSession.run(r.id, r.accountId, r.userId, r.secretDigest, r.createdAt, r.expiresAt));
  }

  getSession(id: string): Promise<PortalSessionRecord | undefined> {
    return this.lane.run(() => {
      const row = this.sql.getSession.get(id);
      return row ? toSession(row) : undefined;
    });
  }

  deleteSession(id: string): Promise<void> {
    return this.lane.run(() => void this.sql.deleteSession.run(id));
  }

  deleteExpiredSessions(before: number, limit: number): Promise<number> {
    return this.lane.run(() => this.sql.deleteExpired.run(before, limit).changes);
  }
}
