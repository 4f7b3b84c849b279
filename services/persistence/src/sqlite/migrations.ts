import type Database from 'better-sqlite3';
import { InvariantViolationError } from '@hourglass/common';
import { VISIBILITY_SQLITE_DDL } from '@hourglass/visibility';
import { SchemaVersionTooNewError } from '../errors';
import { legacyViewCandidates, ownersOfLegacyView } from '../saved-view-owners';

/**
 * One step of the schema. Migrations are append-only: never edit or renumber a released one,
 * add a new version instead (databases in the field have already run the old ones).
 */
export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

// Tables whose rows are small use WITHOUT ROWID so the primary key b-tree is the row itself.
// `executions` and `history_events` stay rowid tables: mutable state and encoded events are
// often kilobytes, and SQLite advises WITHOUT ROWID only for rows under ~1/20 of a page.
const INITIAL_SCHEMA = `
CREATE TABLE cluster_metadata (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  data TEXT NOT NULL
);

CREATE TABLE namespaces (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  data TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE shards (
  shard_id    INTEGER PRIMARY KEY,
  range_id    INTEGER NOT NULL,
  owner       TEXT NOT NULL,
  updated_at  INTEGER NOT NULL,
  -- High-water mark of task ids committed in the shard; survives task deletion.
  max_task_id INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE executions (
  shard_id      INTEGER NOT NULL,
  namespace_id  TEXT NOT NULL,
  workflow_id   TEXT NOT NULL,
  run_id        TEXT NOT NULL,
  state         TEXT NOT NULL,
  next_event_id INTEGER NOT NULL,
  db_version    INTEGER NOT NULL,
  PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id)
);

CREATE TABLE current_executions (
  shard_id          INTEGER NOT NULL,
  namespace_id      TEXT NOT NULL,
  workflow_id       TEXT NOT NULL,
  run_id            TEXT NOT NULL,
  create_request_id TEXT NOT NULL,
  running           INTEGER NOT NULL,
  status            INTEGER NOT NULL,
  start_time        INTEGER NOT NULL,
  PRIMARY KEY (shard_id, namespace_id, workflow_id)
) WITHOUT ROWID;

CREATE TABLE history_events (
  shard_id     INTEGER NOT NULL,
  namespace_id TEXT NOT NULL,
  workflow_id  TEXT NOT NULL,
  run_id       TEXT NOT NULL,
  event_id     INTEGER NOT NULL,
  data         BLOB NOT NULL,
  PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, event_id),
  -- History never outlives its run: deleting the execution removes it.
  FOREIGN KEY (shard_id, namespace_id, workflow_id, run_id) REFERENCES executions ON DELETE CASCADE
);

CREATE TABLE transfer_tasks (
  shard_id     INTEGER NOT NULL,
  task_id      INTEGER NOT NULL,
  namespace_id TEXT NOT NULL,
  workflow_id  TEXT NOT NULL,
  run_id       TEXT NOT NULL,
  type         TEXT NOT NULL,
  data         TEXT NOT NULL,
  PRIMARY KEY (shard_id, task_id)
) WITHOUT ROWID;
-- Tasks may outlive their run row (a task can be the one deleting it), so no foreign key;
-- this index serves deleteExecution.
CREATE INDEX transfer_tasks_by_run ON transfer_tasks (shard_id, namespace_id, workflow_id, run_id);

CREATE TABLE timer_tasks (
  shard_id     INTEGER NOT NULL,
  fire_at      INTEGER NOT NULL,
  task_id      INTEGER NOT NULL,
  namespace_id TEXT NOT NULL,
  workflow_id  TEXT NOT NULL,
  run_id       TEXT NOT NULL,
  type         TEXT NOT NULL,
  data         TEXT NOT NULL,
  PRIMARY KEY (shard_id, fire_at, task_id)
) WITHOUT ROWID;
CREATE INDEX timer_tasks_by_run ON timer_tasks (shard_id, namespace_id, workflow_id, run_id);

CREATE TABLE task_queues (
  namespace_id TEXT NOT NULL,
  name         TEXT NOT NULL,
  type         TEXT NOT NULL CHECK (type IN ('workflow', 'activity')),
  kind         TEXT NOT NULL CHECK (kind IN ('normal', 'sticky')),
  partition_id INTEGER NOT NULL,
  range_id     INTEGER NOT NULL,
  PRIMARY KEY (namespace_id, name, type, kind, partition_id)
) WITHOUT ROWID;

CREATE TABLE task_queue_tasks (
  namespace_id TEXT NOT NULL,
  name         TEXT NOT NULL,
  type         TEXT NOT NULL,
  kind         TEXT NOT NULL,
  partition_id INTEGER NOT NULL,
  task_id      INTEGER NOT NULL,
  data         TEXT NOT NULL,
  expires_at   INTEGER NOT NULL,
  PRIMARY KEY (namespace_id, name, type, kind, partition_id, task_id),
  FOREIGN KEY (namespace_id, name, type, kind, partition_id) REFERENCES task_queues ON DELETE CASCADE
) WITHOUT ROWID;
`;

/**
 * Version 2: a run's mutable state is an execution row plus one row per pending item, and every
 * task category lives in one table. Existing `executions.state` values stay as they are (the
 * history service upgrades an old state when it loads it); transfer tasks become category 1
 * (immediate, fire_at 0) and timer tasks category 2, keeping their ids.
 */
const ITEMS_AND_TASK_CATEGORIES = `
-- A rowid table: item data can be megabytes (see the note on executions above).
CREATE TABLE execution_items (
  shard_id     INTEGER NOT NULL,
  namespace_id TEXT NOT NULL,
  workflow_id  TEXT NOT NULL,
  run_id       TEXT NOT NULL,
  kind         TEXT NOT NULL,
  item_id      TEXT NOT NULL,
  data         TEXT NOT NULL,
  PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, kind, item_id),
  -- Items never outlive their run, and never exist without it.
  FOREIGN KEY (shard_id, namespace_id, workflow_id, run_id) REFERENCES executions ON DELETE CASCADE
);

CREATE TABLE history_tasks (
  shard_id     INTEGER NOT NULL,
  category_id  INTEGER NOT NULL,
  -- 0 for immediate categories; ms since epoch for scheduled ones.
  fire_at      INTEGER NOT NULL,
  task_id      INTEGER NOT NULL,
  namespace_id TEXT NOT NULL,
  workflow_id  TEXT NOT NULL,
  run_id       TEXT NOT NULL,
  type         TEXT NOT NULL,
  data         TEXT NOT NULL,
  PRIMARY KEY (shard_id, category_id, fire_at, task_id)
) WITHOUT ROWID;
-- Task ids come from one allocator per shard: a repeat in any category is a bug, refused here.
CREATE UNIQUE INDEX history_tasks_by_task_id ON history_tasks (shard_id, task_id);
-- Tasks may outlive their run row (a task can be the one deleting it), so no foreign key.
-- Version 9 drops this index: a deletion no longer removes the run's tasks.
CREATE INDEX history_tasks_by_run ON history_tasks (shard_id, namespace_id, workflow_id, run_id);

INSERT INTO history_tasks (shard_id, category_id, fire_at, task_id, namespace_id, workflow_id, run_id, type, data)
  SELECT shard_id, 1, 0, task_id, namespace_id, workflow_id, run_id, type, data FROM transfer_tasks;
INSERT INTO history_tasks (shard_id, category_id, fire_at, task_id, namespace_id, workflow_id, run_id, type, data)
  SELECT shard_id, 2, fire_at, task_id, namespace_id, workflow_id, run_id, type, data FROM timer_tasks;
DROP TABLE transfer_tasks;
DROP TABLE timer_tasks;
`;

/**
 * Version 3: accounts and what they own (identity-types.ts), and each namespace's account as a
 * column, so an account's namespaces are one index range. A namespace written before accounts
 * existed gets '' (its JSON has no accountId); one written by a build of the tenancy branch before
 * this migration already carries it in its JSON, and keeps it.
 */
const IDENTITY = `
ALTER TABLE namespaces ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
UPDATE namespaces SET account_id = CASE WHEN json_type(data, '$.accountId') = 'text' THEN json_extract(data, '$.accountId') ELSE '' END;
CREATE INDEX namespaces_by_account ON namespaces (account_id, name);

-- Every identity row: its key, the columns looked up or filtered on, resource_version (which the
-- conditional writes compare) and the whole record as JSON in data.
CREATE TABLE accounts (
  id               TEXT PRIMARY KEY,
  -- 1 when the account's state is 'deleted': lists leave it out.
  deleted          INTEGER NOT NULL,
  resource_version INTEGER NOT NULL,
  data             TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
  account_id       TEXT NOT NULL,
  id               TEXT NOT NULL,
  -- The lower-cased email while the user is not deleted, NULL once deleted: live emails are
  -- unique per account, and a deleted user's email may be taken again.
  active_email     TEXT,
  deleted          INTEGER NOT NULL,
  resource_version INTEGER NOT NULL,
  data             TEXT NOT NULL,
  PRIMARY KEY (account_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX users_by_email ON users (account_id, active_email);

CREATE TABLE service_accounts (
  account_id       TEXT NOT NULL,
  id               TEXT NOT NULL,
  deleted          INTEGER NOT NULL,
  resource_version INTEGER NOT NULL,
  data             TEXT NOT NULL,
  PRIMARY KEY (account_id, id)
) WITHOUT ROWID;

-- Keyed by id alone: every authenticated call looks its key up by id.
CREATE TABLE api_keys (
  id               TEXT PRIMARY KEY,
  account_id       TEXT NOT NULL,
  owner_id         TEXT NOT NULL,
  deleted          INTEGER NOT NULL,
  resource_version INTEGER NOT NULL,
  -- Not in data: touchApiKey sets it without rewriting the record.
  last_used_at     INTEGER,
  data             TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX api_keys_by_account ON api_keys (account_id, id);
CREATE INDEX api_keys_by_owner ON api_keys (account_id, owner_id, id);

CREATE TABLE namespace_grants (
  principal_type TEXT NOT NULL,
  principal_id   TEXT NOT NULL,
  namespace_id   TEXT NOT NULL,
  account_id     TEXT NOT NULL,
  permission     TEXT NOT NULL,
  PRIMARY KEY (principal_type, principal_id, namespace_id)
) WITHOUT ROWID;
CREATE INDEX namespace_grants_by_namespace ON namespace_grants (namespace_id, principal_type, principal_id);

-- Audit details may be large: a rowid table (see the note on executions).
CREATE TABLE audit_log (
  account_id TEXT NOT NULL,
  time       INTEGER NOT NULL,
  id         TEXT NOT NULL UNIQUE,
  data       TEXT NOT NULL
);
CREATE INDEX audit_log_by_account ON audit_log (account_id, time, id);
-- Retention deletes the oldest records of every account.
CREATE INDEX audit_log_by_time ON audit_log (time, id);

CREATE TABLE async_operations (
  account_id TEXT NOT NULL,
  id         TEXT NOT NULL,
  data       TEXT NOT NULL,
  PRIMARY KEY (account_id, id)
);
`;

// Usage metering: one counter per (namespace, UTC hour, record type), folded exactly once from
// usage tasks (history_tasks category 4) in the transaction that deletes the task.
const USAGE = `
CREATE TABLE usage_hourly (
  namespace_id TEXT NOT NULL,
  hour_start   INTEGER NOT NULL,
  record_type  TEXT NOT NULL,
  amount       INTEGER NOT NULL,
  PRIMARY KEY (namespace_id, hour_start, record_type)
) WITHOUT ROWID;
`;

// Portal sign-in: a user's password (argon2id) and the sessions a sign-in opens (SHA-256 of the
// secret). Emails are looked up across accounts: one person may be a user of several.
const PORTAL = `
CREATE TABLE portal_logins (
  account_id    TEXT NOT NULL,
  user_id       TEXT NOT NULL,
  email         TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (account_id, user_id)
) WITHOUT ROWID;
CREATE INDEX portal_logins_by_email ON portal_logins (email, account_id);

CREATE TABLE portal_sessions (
  id            TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL,
  user_id       TEXT NOT NULL,
  secret_digest TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX portal_sessions_by_user ON portal_sessions (account_id, user_id);
CREATE INDEX portal_sessions_by_expiry ON portal_sessions (expires_at);

CREATE TABLE portal_saved_views (
  namespace_id TEXT NOT NULL,
  name         TEXT NOT NULL,
  query        TEXT NOT NULL,
  saved_by     TEXT NOT NULL,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (namespace_id, name)
) WITHOUT ROWID;
`;

// Saved views per user: the owner (principal type and id) joins the key. SQLite cannot change a
// primary key in place, so the table is rebuilt; each existing view goes to the owners that
// ownersOfLegacyView picks, or stays unassigned (owner '' '') when there is none.
const SAVED_VIEWS_BY_OWNER = `
CREATE TABLE portal_saved_views_by_owner (
  namespace_id TEXT NOT NULL,
  owner_type   TEXT NOT NULL,
  owner_id     TEXT NOT NULL,
  name         TEXT NOT NULL,
  query        TEXT NOT NULL,
  saved_by     TEXT NOT NULL,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (namespace_id, owner_type, owner_id, name)
) WITHOUT ROWID;
`;

function savedViewsByOwner(db: Database.Database): void {
  db.exec(SAVED_VIEWS_BY_OWNER);
  interface Row {
    namespace_id: string;
    account_id: string | null;
    name: string;
    query: string;
    saved_by: string;
    updated_at: number;
  }
  const rows = db
    .prepare<[], Row>('SELECT v.*, n.account_id FROM portal_saved_views v LEFT JOIN namespaces n ON n.id = v.namespace_id ORDER BY v.namespace_id, v.name')
    .all();
  const usersOf = db.prepare<[string], { id: string; data: string }>('SELECT id, data FROM users WHERE account_id = ? AND deleted = 0');
  const serviceAccountsOf = db.prepare<[string], { id: string; data: string }>('SELECT id, data FROM service_accounts WHERE account_id = ? AND deleted = 0');
  const insert = db.prepare<[string, string, string, string, string, string, number]>(
    'INSERT INTO portal_saved_views_by_owner (namespace_id, owner_type, owner_id, name, query, saved_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const candidates = new Map<string, ReturnType<typeof legacyViewCandidates>>();
  for (const row of rows) {
    const accountId = row.account_id ?? '';
    let ofAccount = candidates.get(accountId);
    if (!ofAccount) {
      ofAccount = accountId === '' ? { users: [], serviceAccounts: [] } : legacyViewCandidates(usersOf.all(accountId), serviceAccountsOf.all(accountId));
      candidates.set(accountId, ofAccount);
    }
    const owners = ownersOfLegacyView(row.saved_by, ofAccount);
    for (const owner of owners.length > 0 ? owners : [{ type: '', id: '' }]) {
      insert.run(row.namespace_id, owner.type, owner.id, row.name, row.query, row.saved_by, row.updated_at);
    }
  }
  db.exec('DROP TABLE portal_saved_views; ALTER TABLE portal_saved_views_by_owner RENAME TO portal_saved_views;');
}

// Cluster membership: one row per (role, host), its heartbeat stamped with the store's clock.
const CLUSTER_HOSTS = `
CREATE TABLE cluster_hosts (
  role              TEXT NOT NULL,
  host_id           TEXT NOT NULL,
  address           TEXT NOT NULL,
  session_id        TEXT NOT NULL,
  started_at        INTEGER NOT NULL,
  last_heartbeat_at INTEGER NOT NULL,
  PRIMARY KEY (role, host_id)
) WITHOUT ROWID;
`;

/**
 * Version 10: a run's history and items are keyed by a number of its own (`executions.run_seq`, the
 * rowid, allocated in order) instead of its shard, namespace, workflow and run ids. Each of their
 * index entries repeated those ids (over 100 bytes), and every run's entries sat on a page of their
 * own; now a run's rows follow the runs created before it, and runs created together share pages.
 * Copies every row once, in the migration's one transaction. The children are dropped before their
 * old parent (whose implicit delete would otherwise cascade to them), and renaming the new parent
 * rewrites the new children's references.
 */
const RUN_SEQ = `
CREATE TABLE executions_v10 (
  run_seq       INTEGER PRIMARY KEY,
  shard_id      INTEGER NOT NULL,
  namespace_id  TEXT NOT NULL,
  workflow_id   TEXT NOT NULL,
  run_id        TEXT NOT NULL,
  state         TEXT NOT NULL,
  next_event_id INTEGER NOT NULL,
  db_version    INTEGER NOT NULL,
  UNIQUE (shard_id, namespace_id, workflow_id, run_id)
);
INSERT INTO executions_v10 (shard_id, namespace_id, workflow_id, run_id, state, next_event_id, db_version)
  SELECT shard_id, namespace_id, workflow_id, run_id, state, next_event_id, db_version FROM executions ORDER BY rowid;

CREATE TABLE history_events_v10 (
  run_seq  INTEGER NOT NULL,
  event_id INTEGER NOT NULL,
  data     BLOB NOT NULL,
  PRIMARY KEY (run_seq, event_id),
  -- History never outlives its run: deleting the execution removes it.
  FOREIGN KEY (run_seq) REFERENCES executions_v10 (run_seq) ON DELETE CASCADE
);
INSERT INTO history_events_v10 (run_seq, event_id, data)
  SELECT x.run_seq, e.event_id, e.data FROM history_events e
  JOIN executions_v10 x ON x.shard_id = e.shard_id AND x.namespace_id = e.namespace_id AND x.workflow_id = e.workflow_id AND x.run_id = e.run_id
  ORDER BY x.run_seq, e.event_id;

-- A rowid table: item data can be megabytes.
CREATE TABLE execution_items_v10 (
  run_seq INTEGER NOT NULL,
  kind    TEXT NOT NULL,
  item_id TEXT NOT NULL,
  data    TEXT NOT NULL,
  PRIMARY KEY (run_seq, kind, item_id),
  -- Items never outlive their run, and never exist without it.
  FOREIGN KEY (run_seq) REFERENCES executions_v10 (run_seq) ON DELETE CASCADE
);
INSERT INTO execution_items_v10 (run_seq, kind, item_id, data)
  SELECT x.run_seq, i.kind, i.item_id, i.data FROM execution_items i
  JOIN executions_v10 x ON x.shard_id = i.shard_id AND x.namespace_id = i.namespace_id AND x.workflow_id = i.workflow_id AND x.run_id = i.run_id
  ORDER BY x.run_seq, i.kind, i.item_id;

DROP TABLE history_events;
DROP TABLE execution_items;
DROP TABLE executions;
ALTER TABLE executions_v10 RENAME TO executions;
ALTER TABLE history_events_v10 RENAME TO history_events;
ALTER TABLE execution_items_v10 RENAME TO execution_items;
`;

/** Ordered; version N is at index N-1. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'initial schema', up: (db) => db.exec(INITIAL_SCHEMA) },
  { version: 2, description: 'execution item rows; one history_tasks table for every task category', up: (db) => db.exec(ITEMS_AND_TASK_CATEGORIES) },
  { version: 3, description: 'accounts, users, service accounts, API keys, namespace grants, audit log, async operations; namespaces by account', up: (db) => db.exec(IDENTITY) },
  {
    version: 4,
    description: 'visibility_executions: the SQL visibility index (one row per run)',
    up: (db: Database.Database): void => {
      for (const statement of VISIBILITY_SQLITE_DDL) db.exec(statement);
    },
  },
  { version: 5, description: 'hourly usage counters (metering)', up: (db) => db.exec(USAGE) },
  { version: 6, description: 'portal: user passwords, sessions and saved workflow views', up: (db) => db.exec(PORTAL) },
  { version: 7, description: 'portal: saved workflow views per user (owner in the key); existing views go to whoever saved them', up: savedViewsByOwner },
  { version: 8, description: 'cluster membership: one row per live host and role (cluster_hosts)', up: (db) => db.exec(CLUSTER_HOSTS) },
  {
    version: 9,
    description: "history_tasks without its index by run: a deleted run's tasks are dropped when they come up, not with the run",
    up: (db) => db.exec('DROP INDEX history_tasks_by_run'),
  },
  { version: 10, description: "a run's history and items keyed by its run_seq (the executions rowid), not by its ids", up: (db) => db.exec(RUN_SEQ) },
];

export const LATEST_SCHEMA_VERSION = checkedLatestVersion(MIGRATIONS);

/** A gap or reordering would silently skip a step on some databases, so refuse to load. */
function checkedLatestVersion(migrations: readonly Migration[]): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new InvariantViolationError(`migration at index ${i} has version ${m.version}, expected ${i + 1}`);
    }
  });
  return migrations.length;
}

/**
 * Brings the database to LATEST_SCHEMA_VERSION in one transaction, so a crash mid-way leaves the
 * previous version intact. IMMEDIATE takes the write lock up front: two processes opening the
 * same file at once serialise instead of both migrating.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = checkedLatestVersion(migrations);
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)');
    const current = readSchemaVersion(db);
    if (current > latest) throw new SchemaVersionTooNewError(current, latest);
    if (current === latest) return;
    for (const migration of migrations.slice(current)) migration.up(db);
    db.prepare('INSERT INTO schema_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version').run(latest);
  }).immediate();
}

/** 0 for a database no build has migrated yet. */
export function readSchemaVersion(db: Database.Database): number {
  const row = db.prepare<[], { version: number }>('SELECT version FROM schema_version WHERE id = 1').get();
  return row?.version ?? 0;
}
