import { randomUUID } from 'node:crypto';
import type { Connection } from 'mysql2/promise';
import { InvariantViolationError } from '@hourglass/common';
import { VISIBILITY_MYSQL_DDL } from '@hourglass/visibility';
import { mysqlAddress, mysqlDsnKey, parseMysqlDsn, type MysqlDsn } from './dsn';
import { MysqlSchemaVersionTooNewError, SchemaVersionTooOldError } from './errors';
import { legacyViewCandidates, ownersOfLegacyView, type LegacyViewCandidates } from '../saved-view-owners';
import { ConnectionExecutor, connectMysql, toInt, toText, translateMysqlError, type SqlExecutor, type SqlParam } from './sql';

/**
 * The MySQL schemas. A deployment has one CLUSTER database (cluster metadata, namespaces, task
 * queues and their backlog, the identity store) and N SHARD databases (history shard s lives in shard database
 * s % N: its ownership row, executions and their item rows, current pointers, history and tasks).
 * One database may hold both schemas (e.g. a single-database deployment): their table names are
 * disjoint and `schema_version` has one row per schema.
 *
 * Conventions:
 * - InnoDB, utf8mb4. Ids and names that are keys are VARBINARY holding UTF-8: byte-wise equality
 *   and order exactly like SQLite's BINARY collation, where a utf8mb4 VARCHAR would be PAD SPACE
 *   ('a' = 'a ') or case-insensitive and could merge two workflow ids into one key.
 *   Key lengths keep every index under InnoDB's 3072-byte limit.
 * - BIGINT for ids, versions and times (ms since epoch); BLOB for encoded events.
 * - No foreign keys: they would add locking on every insert and get in the way of moving a
 *   shard's rows between databases; the deletion of a run removes its rows explicitly.
 */
export type MysqlSchemaName = 'cluster' | 'shard';

/**
 * One step of a schema. Append-only: never edit or renumber a released one. MySQL commits DDL
 * implicitly, so a step cannot be rolled back: write each statement so that re-running the step
 * after a crash part-way through succeeds (`IF NOT EXISTS`, or check first).
 */
export interface MysqlMigration {
  version: number;
  description: string;
  statements: readonly MysqlMigrationStatement[];
}

/** An SQL statement (sent through the text protocol), or a step that must look before it acts. */
export type MysqlMigrationStatement = string | ((db: MysqlMigrationContext) => Promise<void>);

/** What a function step of a migration may do, on the migrating connection (autocommit). */
export interface MysqlMigrationContext {
  /** The database being migrated. */
  readonly database: string;
  query(sql: string): Promise<void>;
  rows<T>(sql: string, params: readonly SqlParam[]): Promise<T[]>;
  run(sql: string, params: readonly SqlParam[]): Promise<void>;
  tableExists(table: string): Promise<boolean>;
}

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

const CLUSTER_V1: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS cluster_metadata (
    id   TINYINT NOT NULL PRIMARY KEY,
    data TEXT NOT NULL,
    CONSTRAINT cluster_metadata_single_row CHECK (id = 1)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS namespaces (
    id   VARBINARY(255) NOT NULL PRIMARY KEY,
    name VARBINARY(1024) NOT NULL,
    data MEDIUMTEXT NOT NULL,
    UNIQUE KEY namespaces_by_name (name)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS task_queues (
    namespace_id VARBINARY(255) NOT NULL,
    name         VARBINARY(2048) NOT NULL,
    type         VARBINARY(16) NOT NULL,
    kind         VARBINARY(16) NOT NULL,
    partition_id INT NOT NULL,
    range_id     BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, name, type, kind, partition_id),
    CONSTRAINT task_queues_type CHECK (type IN ('workflow', 'activity')),
    CONSTRAINT task_queues_kind CHECK (kind IN ('normal', 'sticky'))
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS task_queue_tasks (
    namespace_id VARBINARY(255) NOT NULL,
    name         VARBINARY(2048) NOT NULL,
    type         VARBINARY(16) NOT NULL,
    kind         VARBINARY(16) NOT NULL,
    partition_id INT NOT NULL,
    task_id      BIGINT NOT NULL,
    data         MEDIUMTEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, name, type, kind, partition_id, task_id)
  ) ${TABLE_OPTIONS}`,
];

const RUN_COLUMNS = `
    namespace_id VARBINARY(255) NOT NULL,
    workflow_id  VARBINARY(2048) NOT NULL,
    run_id       VARBINARY(255) NOT NULL`;

const SHARD_V1: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS shards (
    shard_id   BIGINT NOT NULL PRIMARY KEY,
    range_id   BIGINT NOT NULL,
    owner      VARCHAR(1024) NOT NULL,
    updated_at BIGINT NOT NULL
  ) ${TABLE_OPTIONS}`,
  // High-water mark of task ids DELETED from the shard. maxTaskId is the larger of this and the
  // ids still stored. It is a row of its own, not a column of \`shards\`, because commits hold a
  // shared lock on the shard row for fencing and must never need to write it (an S→X upgrade
  // between concurrent commits deadlocks); only deletions, which commits never wait on, write here.
  `CREATE TABLE IF NOT EXISTS shard_task_id_marks (
    shard_id    BIGINT NOT NULL PRIMARY KEY,
    max_task_id BIGINT NOT NULL
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS executions (
    shard_id      BIGINT NOT NULL,${RUN_COLUMNS},
    state         LONGTEXT NOT NULL,
    next_event_id BIGINT NOT NULL,
    db_version    BIGINT NOT NULL,
    PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS current_executions (
    shard_id          BIGINT NOT NULL,
    namespace_id      VARBINARY(255) NOT NULL,
    workflow_id       VARBINARY(2048) NOT NULL,
    run_id            VARBINARY(255) NOT NULL,
    create_request_id VARCHAR(1024) NOT NULL,
    running           TINYINT NOT NULL,
    status            INT NOT NULL,
    start_time        BIGINT NOT NULL,
    PRIMARY KEY (shard_id, namespace_id, workflow_id)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS history_events (
    shard_id BIGINT NOT NULL,${RUN_COLUMNS},
    event_id BIGINT NOT NULL,
    data     MEDIUMBLOB NOT NULL,
    PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, event_id)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS transfer_tasks (
    shard_id BIGINT NOT NULL,
    task_id  BIGINT NOT NULL,${RUN_COLUMNS},
    type     VARCHAR(255) NOT NULL,
    data     MEDIUMTEXT NOT NULL,
    PRIMARY KEY (shard_id, task_id),
    KEY transfer_tasks_by_run (shard_id, namespace_id, workflow_id, run_id)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS timer_tasks (
    shard_id BIGINT NOT NULL,
    fire_at  BIGINT NOT NULL,
    task_id  BIGINT NOT NULL,${RUN_COLUMNS},
    type     VARCHAR(255) NOT NULL,
    data     MEDIUMTEXT NOT NULL,
    PRIMARY KEY (shard_id, fire_at, task_id),
    KEY timer_tasks_by_run (shard_id, namespace_id, workflow_id, run_id),
    KEY timer_tasks_by_task_id (shard_id, task_id)
  ) ${TABLE_OPTIONS}`,
];

const HISTORY_TASK_COLUMNS = 'shard_id, category_id, fire_at, task_id, namespace_id, workflow_id, run_id, type, data';

/**
 * Copies an old per-category task table into history_tasks, checks every row arrived, then drops
 * it. Safe to re-run after a crash at any point: a table already dropped was already copied, and
 * rows copied before the crash are left as they are (ON DUPLICATE KEY UPDATE of nothing).
 */
function moveTasksToCategory(table: 'transfer_tasks' | 'timer_tasks', categoryId: number) {
  return async (db: MysqlMigrationContext): Promise<void> => {
    if (!(await db.tableExists(table))) return;
    const fireAt = table === 'timer_tasks' ? 't.fire_at' : '0';
    await db.query(
      `INSERT INTO history_tasks (${HISTORY_TASK_COLUMNS})
       SELECT t.shard_id, ${categoryId}, ${fireAt}, t.task_id, t.namespace_id, t.workflow_id, t.run_id, t.type, t.data FROM ${table} t
       ON DUPLICATE KEY UPDATE task_id = history_tasks.task_id`,
    );
    // A task id used by both old tables would have collided with the unique task id key and
    // been skipped above; refuse to drop anything rather than lose it.
    const [missing] = await db.rows<{ n: number }>(
      `SELECT COUNT(*) AS n FROM ${table} t LEFT JOIN history_tasks h
         ON h.shard_id = t.shard_id AND h.category_id = ? AND h.fire_at = ${fireAt} AND h.task_id = t.task_id
       WHERE h.task_id IS NULL`,
      [categoryId],
    );
    if (Number(missing?.n ?? 0) !== 0) {
      throw new InvariantViolationError(
        `database ${db.database}: ${Number(missing?.n)} rows of ${table} could not be copied into history_tasks (a task id used twice in the shard); nothing was dropped`,
      );
    }
    await db.query(`DROP TABLE IF EXISTS ${table}`);
  };
}

/**
 * Shard schema version 2: a run's mutable state is an execution row plus one row per pending item,
 * and every task category lives in one table. Existing \`executions.state\` values stay as they
 * are (the history service upgrades an old state when it loads it); transfer tasks become
 * category 1 (immediate, fire_at 0) and timer tasks category 2, keeping their ids.
 *
 * Item keys: the primary key of a run already takes 2566 of InnoDB's 3072 bytes, so a 1000-byte
 * item id cannot be a key column. The key holds its SHA-256 (\`item_key\`) and \`item_id\` the
 * exact id; (kind, SHA-256(id)) is unique exactly when (kind, id) is, short of a SHA-256 collision.
 */
const SHARD_V2: readonly MysqlMigrationStatement[] = [
  `CREATE TABLE IF NOT EXISTS execution_items (
    shard_id BIGINT NOT NULL,${RUN_COLUMNS},
    kind     VARBINARY(32) NOT NULL,
    item_key BINARY(32) NOT NULL,
    item_id  VARBINARY(1000) NOT NULL,
    data     LONGTEXT NOT NULL,
    PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, kind, item_key)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS history_tasks (
    shard_id    BIGINT NOT NULL,
    category_id INT NOT NULL,
    fire_at     BIGINT NOT NULL,
    task_id     BIGINT NOT NULL,${RUN_COLUMNS},
    type        VARCHAR(255) NOT NULL,
    data        MEDIUMTEXT NOT NULL,
    PRIMARY KEY (shard_id, category_id, fire_at, task_id),
    UNIQUE KEY history_tasks_by_task_id (shard_id, task_id),
    KEY history_tasks_by_run (shard_id, namespace_id, workflow_id, run_id)
  ) ${TABLE_OPTIONS}`,
  moveTasksToCategory('transfer_tasks', 1),
  moveTasksToCategory('timer_tasks', 2),
];

/**
 * Cluster schema version 2: the ordered list of the cluster's shard databases, recorded by the
 * first open of the cluster (or, for a cluster created before this version, by the first open
 * after it) and checked by every later one.
 */
const CLUSTER_V2: readonly MysqlMigrationStatement[] = [
  `CREATE TABLE IF NOT EXISTS cluster_shard_databases (
    shard_database_index INT NOT NULL PRIMARY KEY,
    database_id          VARBINARY(64) NOT NULL,
    dsn                  VARCHAR(2048) NOT NULL
  ) ${TABLE_OPTIONS}`,
];

/**
 * Shard schema version 3: each shard database knows who it is. The identity is what the cluster
 * records and checks, so a renamed or moved database is still recognised and a different
 * database behind a familiar name is not.
 */
const SHARD_V3: readonly MysqlMigrationStatement[] = [
  `CREATE TABLE IF NOT EXISTS shard_database_identity (
    id          TINYINT NOT NULL PRIMARY KEY,
    database_id VARBINARY(64) NOT NULL,
    created_at  BIGINT NOT NULL,
    CONSTRAINT shard_database_identity_single_row CHECK (id = 1)
  ) ${TABLE_OPTIONS}`,
  // Never replaced once written, so re-running the step keeps the first identity.
  async (db: MysqlMigrationContext): Promise<void> => {
    await db.run('INSERT INTO shard_database_identity (id, database_id, created_at) VALUES (1, ?, ?) ON DUPLICATE KEY UPDATE id = id', [
      randomUUID(),
      Date.now(),
    ]);
  },
];

/** Adds a column unless a run cut short by a crash already did (MySQL 8 has no ADD COLUMN IF NOT EXISTS). */
function addColumn(table: string, column: string, definition: string) {
  return async (db: MysqlMigrationContext): Promise<void> => {
    const [row] = await db.rows<{ n: number }>(
      'SELECT COUNT(*) AS n FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?',
      [table, column],
    );
    if (Number(row?.n ?? 0) === 0) await db.query(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  };
}

/** Whether `table` has an index named `index` (MySQL 8 has neither ADD nor DROP INDEX IF [NOT] EXISTS). */
async function indexExists(db: MysqlMigrationContext, table: string, index: string): Promise<boolean> {
  const [row] = await db.rows<{ n: number }>(
    'SELECT COUNT(*) AS n FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?',
    [table, index],
  );
  return Number(row?.n ?? 0) > 0;
}

/** Drops an index if it is there (a migration that ran halfway may have dropped it already). */
function dropIndex(table: string, index: string) {
  return async (db: MysqlMigrationContext): Promise<void> => {
    if (await indexExists(db, table, index)) await db.query(`ALTER TABLE ${table} DROP INDEX ${index}`);
  };
}

/** Adds an index unless it is there already. */
function addIndex(table: string, index: string, columns: string) {
  return async (db: MysqlMigrationContext): Promise<void> => {
    if (!(await indexExists(db, table, index))) await db.query(`ALTER TABLE ${table} ADD INDEX ${index} (${columns})`);
  };
}

/**
 * Cluster schema version 3: accounts and what they own (identity-types.ts), and each namespace's
 * account as a column, so an account's namespaces are one index range. A namespace written before
 * accounts existed gets '' (its JSON has no accountId); one written by a build of the tenancy
 * branch before this migration already carries it in its JSON, and keeps it. Every identity row
 * holds its key, the columns looked up or filtered on, resource_version (which the conditional
 * writes compare) and the whole record as JSON in data.
 */
const CLUSTER_V3: readonly MysqlMigrationStatement[] = [
  addColumn('namespaces', 'account_id', "VARBINARY(255) NOT NULL DEFAULT ''"),
  // Only rows still at '': re-running it after a crash changes nothing already done.
  `UPDATE namespaces SET account_id = JSON_UNQUOTE(JSON_EXTRACT(data, '$.accountId'))
   WHERE account_id = '' AND JSON_TYPE(JSON_EXTRACT(data, '$.accountId')) = 'STRING'`,
  addIndex('namespaces', 'namespaces_by_account', 'account_id, name'),
  `CREATE TABLE IF NOT EXISTS accounts (
    id               VARBINARY(255) NOT NULL PRIMARY KEY,
    deleted          TINYINT NOT NULL,
    resource_version BIGINT NOT NULL,
    data             MEDIUMTEXT NOT NULL
  ) ${TABLE_OPTIONS}`,
  // active_email: the lower-cased email while the user is not deleted, NULL once deleted: live
  // emails are unique per account, and a deleted user's email may be taken again.
  `CREATE TABLE IF NOT EXISTS users (
    account_id       VARBINARY(255) NOT NULL,
    id               VARBINARY(255) NOT NULL,
    active_email     VARBINARY(1024) NULL,
    deleted          TINYINT NOT NULL,
    resource_version BIGINT NOT NULL,
    data             MEDIUMTEXT NOT NULL,
    PRIMARY KEY (account_id, id),
    UNIQUE KEY users_by_email (account_id, active_email)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS service_accounts (
    account_id       VARBINARY(255) NOT NULL,
    id               VARBINARY(255) NOT NULL,
    deleted          TINYINT NOT NULL,
    resource_version BIGINT NOT NULL,
    data             MEDIUMTEXT NOT NULL,
    PRIMARY KEY (account_id, id)
  ) ${TABLE_OPTIONS}`,
  // Keyed by id alone: every authenticated call looks its key up by id. last_used_at is not in
  // data: touchApiKey sets it without rewriting the record.
  `CREATE TABLE IF NOT EXISTS api_keys (
    id               VARBINARY(255) NOT NULL PRIMARY KEY,
    account_id       VARBINARY(255) NOT NULL,
    owner_id         VARBINARY(255) NOT NULL,
    deleted          TINYINT NOT NULL,
    resource_version BIGINT NOT NULL,
    last_used_at     BIGINT NULL,
    data             MEDIUMTEXT NOT NULL,
    KEY api_keys_by_account (account_id, id),
    KEY api_keys_by_owner (account_id, owner_id, id)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS namespace_grants (
    principal_type VARBINARY(32) NOT NULL,
    principal_id   VARBINARY(255) NOT NULL,
    namespace_id   VARBINARY(255) NOT NULL,
    account_id     VARBINARY(255) NOT NULL,
    permission     VARBINARY(16) NOT NULL,
    PRIMARY KEY (principal_type, principal_id, namespace_id),
    KEY namespace_grants_by_namespace (namespace_id, principal_type, principal_id)
  ) ${TABLE_OPTIONS}`,
  // Clustered by account and time: listAudit reads one range. Retention deletes the oldest
  // records of every account through audit_log_by_time.
  `CREATE TABLE IF NOT EXISTS audit_log (
    account_id VARBINARY(255) NOT NULL,
    time       BIGINT NOT NULL,
    id         VARBINARY(255) NOT NULL,
    data       MEDIUMTEXT NOT NULL,
    PRIMARY KEY (account_id, time, id),
    UNIQUE KEY audit_log_by_id (id),
    KEY audit_log_by_time (time, id)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS async_operations (
    account_id VARBINARY(255) NOT NULL,
    id         VARBINARY(255) NOT NULL,
    data       MEDIUMTEXT NOT NULL,
    PRIMARY KEY (account_id, id)
  ) ${TABLE_OPTIONS}`,
];

/**
 * Cluster schema version 4: the SQL visibility index, one row per run of every shard (a query
 * spans all shards, so the index lives beside the namespaces, not in the shard databases).
 */
const CLUSTER_V4: readonly MysqlMigrationStatement[] = VISIBILITY_MYSQL_DDL;

/** Ordered; version N is at index N-1. */
// Usage metering: one counter per (namespace, UTC hour, record type) in each shard database,
// folded exactly once from usage tasks in the transaction that deletes the task (reads sum over shards).
const SHARD_V4: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS usage_hourly (
    namespace_id VARBINARY(255) NOT NULL,
    hour_start   BIGINT NOT NULL,
    record_type  VARBINARY(64) NOT NULL,
    amount       BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, hour_start, record_type)
  ) ${TABLE_OPTIONS}`,
];

// Portal sign-in: a user's password (argon2id) and the sessions a sign-in opens (SHA-256 of the secret).
const CLUSTER_PORTAL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS portal_logins (
    account_id    VARBINARY(64) NOT NULL,
    user_id       VARBINARY(64) NOT NULL,
    email         VARBINARY(320) NOT NULL,
    password_hash VARBINARY(255) NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, user_id),
    KEY portal_logins_by_email (email, account_id)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS portal_sessions (
    id            VARBINARY(64) NOT NULL PRIMARY KEY,
    account_id    VARBINARY(64) NOT NULL,
    user_id       VARBINARY(64) NOT NULL,
    secret_digest VARBINARY(64) NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    KEY portal_sessions_by_user (account_id, user_id),
    KEY portal_sessions_by_expiry (expires_at)
  ) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS portal_saved_views (
    namespace_id VARBINARY(255) NOT NULL,
    name         VARBINARY(200) NOT NULL,
    query        MEDIUMBLOB NOT NULL,
    saved_by     VARBINARY(320) NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, name)
  ) ${TABLE_OPTIONS}`,
];

/**
 * Cluster schema version 6: saved views per user. The owner (principal type and id) joins the key
 * in one ALTER (atomic: a crash leaves the table before or after it); each existing view then goes
 * to the owners that ownersOfLegacyView picks, or stays unassigned (owner '' '') when there is
 * none. Re-running after a crash is safe: the ALTER is skipped once the column exists, a copy
 * already made is left as it is, and only rows still unassigned are looked at.
 */
const CLUSTER_SAVED_VIEWS_BY_OWNER: readonly MysqlMigrationStatement[] = [
  async (db: MysqlMigrationContext): Promise<void> => {
    const [row] = await db.rows<{ n: number }>(
      "SELECT COUNT(*) AS n FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'portal_saved_views' AND column_name = 'owner_type'",
      [],
    );
    if (Number(row?.n ?? 0) > 0) return;
    await db.query(
      `ALTER TABLE portal_saved_views
         ADD COLUMN owner_type VARBINARY(32) NOT NULL DEFAULT '' AFTER namespace_id,
         ADD COLUMN owner_id VARBINARY(255) NOT NULL DEFAULT '' AFTER owner_type,
         DROP PRIMARY KEY,
         ADD PRIMARY KEY (namespace_id, owner_type, owner_id, name)`,
    );
  },
  async (db: MysqlMigrationContext): Promise<void> => {
    const rows = await db.rows<{ namespace_id: Buffer; name: Buffer; saved_by: Buffer; account_id: Buffer | null }>(
      `SELECT v.namespace_id, v.name, v.saved_by, n.account_id FROM portal_saved_views v LEFT JOIN namespaces n ON n.id = v.namespace_id
       WHERE v.owner_type = '' AND v.owner_id = '' ORDER BY v.namespace_id, v.name`,
      [],
    );
    const candidates = new Map<string, LegacyViewCandidates>();
    for (const row of rows) {
      const accountId = row.account_id === null ? '' : toText(row.account_id);
      let ofAccount = candidates.get(accountId);
      if (!ofAccount) {
        const live = async (table: 'users' | 'service_accounts') =>
          (await db.rows<{ id: Buffer; data: string }>(`SELECT id, data FROM ${table} WHERE account_id = ? AND deleted = 0`, [accountId])).map((r) => ({
            id: toText(r.id),
            data: toText(r.data),
          }));
        ofAccount = accountId === '' ? { users: [], serviceAccounts: [] } : legacyViewCandidates(await live('users'), await live('service_accounts'));
        candidates.set(accountId, ofAccount);
      }
      const owners = ownersOfLegacyView(toText(row.saved_by), ofAccount);
      if (owners.length === 0) continue;
      const key = [toText(row.namespace_id), toText(row.name)];
      for (const owner of owners) {
        await db.run(
          `INSERT INTO portal_saved_views (namespace_id, owner_type, owner_id, name, query, saved_by, updated_at)
           SELECT v.namespace_id, ?, ?, v.name, v.query, v.saved_by, v.updated_at FROM portal_saved_views v
           WHERE v.namespace_id = ? AND v.owner_type = '' AND v.owner_id = '' AND v.name = ?
           ON DUPLICATE KEY UPDATE portal_saved_views.owner_id = portal_saved_views.owner_id`,
          [owner.type, owner.id, ...key],
        );
      }
      await db.run("DELETE FROM portal_saved_views WHERE namespace_id = ? AND owner_type = '' AND owner_id = '' AND name = ?", key);
    }
  },
];

/**
 * Cluster schema version 7: cluster membership, one row per (role, host). Heartbeats are stamped
 * with the server's clock (see membership.store.ts), so hosts' clocks never enter liveness.
 */
const CLUSTER_HOSTS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS cluster_hosts (
    role              VARBINARY(32) NOT NULL,
    host_id           VARBINARY(255) NOT NULL,
    address           VARBINARY(255) NOT NULL,
    session_id        VARBINARY(64) NOT NULL,
    started_at        BIGINT NOT NULL,
    last_heartbeat_at BIGINT NOT NULL,
    PRIMARY KEY (role, host_id)
  ) ${TABLE_OPTIONS}`,
];

export const CLUSTER_MIGRATIONS: readonly MysqlMigration[] = [
  { version: 1, description: 'initial cluster schema', statements: CLUSTER_V1 },
  { version: 2, description: 'the ordered list of shard databases', statements: CLUSTER_V2 },
  { version: 3, description: 'accounts, users, service accounts, API keys, namespace grants, audit log, async operations; namespaces by account', statements: CLUSTER_V3 },
  { version: 4, description: 'visibility_executions: the SQL visibility index (one row per run)', statements: CLUSTER_V4 },
  { version: 5, description: 'portal: user passwords, sessions and saved workflow views', statements: CLUSTER_PORTAL },
  { version: 6, description: 'portal: saved workflow views per user (owner in the key); existing views go to whoever saved them', statements: CLUSTER_SAVED_VIEWS_BY_OWNER },
  { version: 7, description: 'cluster membership: one row per live host and role (cluster_hosts)', statements: CLUSTER_HOSTS },
];
export const SHARD_MIGRATIONS: readonly MysqlMigration[] = [
  { version: 1, description: 'initial shard schema', statements: SHARD_V1 },
  { version: 2, description: 'execution item rows; one history_tasks table for every task category', statements: SHARD_V2 },
  { version: 3, description: 'shard database identity', statements: SHARD_V3 },
  { version: 4, description: 'hourly usage counters (metering)', statements: SHARD_V4 },
  {
    version: 5,
    description: "history_tasks without its index by run: a deleted run's tasks are dropped when they come up, not with the run",
    statements: [dropIndex('history_tasks', 'history_tasks_by_run')],
  },
];

export interface MysqlMigrationSet {
  cluster: readonly MysqlMigration[];
  shard: readonly MysqlMigration[];
}

export const MYSQL_MIGRATIONS: MysqlMigrationSet = { cluster: CLUSTER_MIGRATIONS, shard: SHARD_MIGRATIONS };

/** The schema versions this build reads and writes. */
export const MYSQL_SCHEMA_VERSIONS: Readonly<Record<MysqlSchemaName, number>> = {
  cluster: checkedLatestVersion(CLUSTER_MIGRATIONS),
  shard: checkedLatestVersion(SHARD_MIGRATIONS),
};

/** A gap or reordering would silently skip a step on some databases, so refuse to load. */
function checkedLatestVersion(migrations: readonly MysqlMigration[]): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new InvariantViolationError(`migration at index ${i} has version ${m.version}, expected ${i + 1}`);
  });
  return migrations.length;
}

const SCHEMA_VERSION_TABLE = `CREATE TABLE IF NOT EXISTS schema_version (
  schema_name VARBINARY(32) NOT NULL PRIMARY KEY,
  version     BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
) ${TABLE_OPTIONS}`;

/** A database of the deployment and the schemas it must hold. */
export interface MysqlDatabaseTarget {
  dsn: MysqlDsn;
  schemas: MysqlSchemaName[];
}

/**
 * The distinct databases of a deployment, cluster first, then shard databases in shard order.
 * A DSN listed twice (or shared by the cluster and a shard schema) is one target.
 */
export function deploymentTargets(clusterDsn: MysqlDsn, shardDsns: readonly MysqlDsn[]): MysqlDatabaseTarget[] {
  const targets = new Map<string, MysqlDatabaseTarget>();
  const add = (dsn: MysqlDsn, schema: MysqlSchemaName): void => {
    const key = mysqlDsnKey(dsn);
    const target = targets.get(key) ?? { dsn, schemas: [] };
    if (!target.schemas.includes(schema)) target.schemas.push(schema);
    targets.set(key, target);
  };
  add(clusterDsn, 'cluster');
  for (const dsn of shardDsns) add(dsn, 'shard');
  return [...targets.values()];
}

export interface MysqlMigrateOptions {
  clusterDsn: string;
  shardDsns: string[];
}

/** What migrateMysql did to one schema of one database. */
export interface MysqlMigrationStep {
  database: string;
  address: string;
  schema: MysqlSchemaName;
  fromVersion: number;
  toVersion: number;
}

/**
 * Creates missing databases (`CREATE DATABASE IF NOT EXISTS`, named by each DSN) and applies the
 * pending migrations of the cluster schema and of the shard schema. Idempotent: a database at the
 * latest version is left untouched. Two migrators racing on one database serialise on a named
 * lock. A database already newer than this build is refused (MysqlSchemaVersionTooNewError).
 *
 * @example
 * await migrateMysql({
 *   clusterDsn: 'mysql://hourglass:pw@db-0:3306/hourglass_cluster',
 *   shardDsns: ['mysql://hourglass:pw@db-0:3306/hourglass_shard_0', 'mysql://hourglass:pw@db-1:3306/hourglass_shard_1'],
 * });
 */
export async function migrateMysql(options: MysqlMigrateOptions, migrations: MysqlMigrationSet = MYSQL_MIGRATIONS): Promise<MysqlMigrationStep[]> {
  const latest: Record<MysqlSchemaName, number> = {
    cluster: checkedLatestVersion(migrations.cluster),
    shard: checkedLatestVersion(migrations.shard),
  };
  const targets = deploymentTargets(parseMysqlDsn(options.clusterDsn), options.shardDsns.map(parseMysqlDsn));
  const steps: MysqlMigrationStep[] = [];
  for (const target of targets) {
    steps.push(...(await migrateDatabase(target, migrations, latest)));
  }
  return steps;
}

async function migrateDatabase(
  target: MysqlDatabaseTarget,
  migrations: MysqlMigrationSet,
  latest: Record<MysqlSchemaName, number>,
): Promise<MysqlMigrationStep[]> {
  const { dsn } = target;
  const connection = await connectMysql(dsn, undefined);
  const sql = new ConnectionExecutor(connection, dsn);
  const lockName = `hourglass_migrate_${dsn.database}`.slice(0, 64);
  const steps: MysqlMigrationStep[] = [];
  const context: MysqlMigrationContext = {
    database: dsn.database,
    query: (statement) => ddl(connection, dsn, statement),
    rows: (statement, params) => sql.rows(statement, params),
    run: async (statement, params) => {
      await sql.run(statement, params);
    },
    tableExists: async (table) => {
      const [row] = await sql.rows<{ n: number }>(
        'SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
        [table],
      );
      return Number(row?.n ?? 0) > 0;
    },
  };
  try {
    await ddl(connection, dsn, `CREATE DATABASE IF NOT EXISTS \`${dsn.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await ddl(connection, dsn, `USE \`${dsn.database}\``);
    const [locked] = await sql.rows<{ locked: number | null }>('SELECT GET_LOCK(?, 60) AS locked', [lockName]);
    if (Number(locked?.locked) !== 1) {
      throw new InvariantViolationError(`database ${dsn.database} on ${mysqlAddress(dsn)}: another migration held the lock for 60 s`);
    }
    try {
      await ddl(connection, dsn, SCHEMA_VERSION_TABLE);
      const versions = await readSchemaVersions(sql);
      for (const schema of target.schemas) {
        const from = versions.get(schema) ?? 0;
        if (from > latest[schema]) throw new MysqlSchemaVersionTooNewError(dsn.database, from, latest[schema]);
        for (const migration of migrations[schema].slice(from)) {
          for (const statement of migration.statements) {
            if (typeof statement === 'string') await ddl(connection, dsn, statement);
            else await statement(context);
          }
          // Recorded per step, so a failure later keeps the steps already done.
          await sql.run(
            `INSERT INTO schema_version (schema_name, version, updated_at) VALUES (?, ?, ?)
             ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at)`,
            [schema, migration.version, Date.now()],
          );
        }
        if (from < latest[schema]) steps.push({ database: dsn.database, address: mysqlAddress(dsn), schema, fromVersion: from, toVersion: latest[schema] });
      }
    } finally {
      await sql.rows('SELECT RELEASE_LOCK(?)', [lockName]).catch(() => undefined);
    }
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
  return steps;
}

/** Stored versions by schema; empty for a database no build has migrated (no schema_version table). */
export async function readSchemaVersions(db: SqlExecutor): Promise<Map<MysqlSchemaName, number>> {
  const [table] = await db.rows<{ n: number }>(
    "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'schema_version'",
    [],
  );
  if (!table || Number(table.n) === 0) return new Map();
  const rows = await db.rows<{ schema_name: Buffer; version: number }>('SELECT schema_name, version FROM schema_version', []);
  return new Map(rows.map((row) => [toText(row.schema_name) as MysqlSchemaName, toInt(row.version, 'schema_version.version')]));
}

/** Refuses a database whose schemas are missing, older or newer than this build's. */
export function checkSchemaVersions(database: string, schemas: readonly MysqlSchemaName[], stored: Map<MysqlSchemaName, number>): void {
  for (const schema of schemas) {
    const version = stored.get(schema) ?? 0;
    const needed = MYSQL_SCHEMA_VERSIONS[schema];
    if (version < needed) throw new SchemaVersionTooOldError(database, version, needed);
    if (version > needed) throw new MysqlSchemaVersionTooNewError(database, version, needed);
  }
}

/** DDL and USE go through the text protocol: not every server can prepare them. */
async function ddl(connection: Connection, dsn: MysqlDsn, sql: string): Promise<void> {
  try {
    await connection.query(sql);
  } catch (err) {
    throw translateMysqlError(err, dsn);
  }
}
