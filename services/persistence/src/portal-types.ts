/**
 * The portal's sign-in records: a password per user (users sign in to the portal with email and
 * password; API keys stay the credential of programs) and the sessions a sign-in opens. Only
 * hashes are stored: the password's argon2id hash and the SHA-256 of a session's secret (random,
 * 256 bits, so a fast digest suffices and each request costs one lookup).
 */
import type { PrincipalType } from './identity-types';

/** A user's portal password. A person may be a user of several accounts under one email. */
export interface PortalLoginRecord {
  /** Lower-cased. */
  email: string;
  accountId: string;
  userId: string;
  /** argon2id, PHC string. */
  passwordHash: string;
  updatedAt: number;
}

/** A signed-in portal session. */
export interface PortalSessionRecord {
  /** Public id (the token is `hgs_<id>_<secret>`). */
  id: string;
  accountId: string;
  userId: string;
  /** SHA-256 of the secret, hex. */
  secretDigest: string;
  createdAt: number;
  expiresAt: number;
}

/**
 * Who a saved view belongs to: the user or service account that saved it (its stable id, never its
 * display name, so renaming a service account or changing an email keeps its views).
 */
export interface SavedViewOwner {
  type: PrincipalType;
  id: string;
}

/** A saved workflow search of one principal in one namespace: only its owner lists, replaces or deletes it. */
export interface SavedViewRecord {
  namespaceId: string;
  owner: SavedViewOwner;
  /** Unique per owner in its namespace. */
  name: string;
  /** A list filter in Temporal's query language. */
  query: string;
  /** Who saved it last (user email or service account name), as shown. */
  savedBy: string;
  updatedAt: number;
}

export interface PortalStore {
  /** Creates or replaces the view `name` of its owner in its namespace. */
  saveView(record: SavedViewRecord): Promise<void>;
  /** The views of one owner in a namespace, by name (at most `limit`). */
  listViews(namespaceId: string, owner: SavedViewOwner, limit: number): Promise<SavedViewRecord[]>;
  /** Whether the owner had a view of that name to delete (another owner's of the same name stays). */
  deleteView(namespaceId: string, owner: SavedViewOwner, name: string): Promise<boolean>;

  /** Sets (or replaces) the password of a user. */
  setLogin(record: PortalLoginRecord): Promise<void>;
  /** Every account's login of an email (at most `limit`). */
  listLoginsByEmail(email: string, limit: number): Promise<PortalLoginRecord[]>;
  /** The login of one user, if it has a password. */
  getLogin(accountId: string, userId: string): Promise<PortalLoginRecord | undefined>;
  /** Removes a user's password and sessions (the user was deleted). */
  deleteLogin(accountId: string, userId: string): Promise<void>;
  createSession(record: PortalSessionRecord): Promise<void>;
  getSession(id: string): Promise<PortalSessionRecord | undefined>;
  deleteSession(id: string): Promise<void>;
  /** Removes up to `limit` sessions that expired before `before`; returns how many. */
  deleteExpiredSessions(before: number, limit: number): Promise<number>;
}
