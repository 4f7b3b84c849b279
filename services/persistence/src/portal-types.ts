/**
 * The portal's sign-in records: a password per user (users sign in to the portal with email and
 * password; API keys stay the credential of programs) and the sessions a sign-in opens. Only
 * hashes are stored: the password's argon2id hash and the SHA-256 of a session's secret (random,
 * 256 bits, so a fast digest suffices and each request costs one lookup).
 */

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

/** A saved workflow search of a namespace, shared by everyone who may read the namespace. */
export interface SavedViewRecord {
  namespaceId: string;
  /** Unique in its namespace. */
  name: string;
  /** A list filter in Temporal's query language. */
  query: string;
  /** Who saved it last (user email or service account name). */
  savedBy: string;
  updatedAt: number;
}

export interface PortalStore {
  /** Creates or replaces the view `name` of its namespace. */
  saveView(record: SavedViewRecord): Promise<void>;
  /** The views of a namespace, by name (at most `limit`). */
  listViews(namespaceId: string, limit: number): Promise<SavedViewRecord[]>;
  /** Whether a view was there to delete. */
  deleteView(namespaceId: string, name: string): Promise<boolean>;

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
