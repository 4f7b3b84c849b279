import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createConnection, type Connection } from 'mysql2/promise';
import { InvalidArgumentError, InvariantViolationError } from '@hourglass/common';
import {
  T0,
  TIMER,
  TRANSFER,
  events,
  item,
  namespace,
  preAccountNamespace,
  queueKey,
  runKey,
  snapshot,
  startCommit,
  task,
  timerTask,
  transferTask,
  withAccountDefaults,
} from '../contract/fixtures';
import { runIdentityContract, runStoreContract, runVisibilityContract, visibilityRecord } from '../contract/store-contract';
import { ConditionFailedError, CurrentExecutionConditionFailedError, SchemaVersionTooNewError, ShardOwnershipLostError, StoreMismatchError } from '../errors';
import type { Persistence, ShardCommit } from '../types';
import { MysqlConnectionError, MysqlSchemaVersionTooNewError, SchemaVersionTooOldError } from './errors';
import { mysqlTraffic } from './sql';
import { CLUSTER_MIGRATIONS, MYSQL_SCHEMA_VERSIONS, SHARD_MIGRATIONS, migrateMysql } from './migrations';
import { openMysqlPersistence, recordMysqlShardDatabases, type MysqlPersistenceOptions } from './mysql-persistence';

/**
 * Runs against the real MariaDB/MySQL at 127.0.0.1:3306 (root, no password), in databases named
 * after a random prefix (other test processes may share the server), dropped at the end. Without
 * a server the suite is skipped with a banner, except under CI=true, where it fails: CI must not
 * go green without these tests.
 */
const HOST = '127.0.0.1';
const PORT = 3306;
const PREFIX = `${process.env.HOURGLASS_TEST_MYSQL_PREFIX ?? 'hgt_'}${randomBytes(4).toString('hex')}`;
const CLUSTER_DB = `${PREFIX}_cluster`;
const SHARD_DBS = [0, 1, 2, 3].map((i) => `${PREFIX}_shard_${i}`);
const EMPTY_DB = `${PREFIX}_empty`;
const MISSING_DB = `${PREFIX}_missing`;
const MIGRATE_CLUSTER_DB = `${PREFIX}_migrate_cluster`;
const MIGRATE_SHARD_DB = `${PREFIX}_migrate_shard`;
/** A migrated shard database that belongs to no cluster. */
const STRANGER_DB = `${PREFIX}_stranger`;
const IDENTITY_CLUSTER_DB = `${PREFIX}_id_cluster`;
const IDENTITY_SHARD_DB = `${PREFIX}_id_shard`;
/** Databases the startup and migration checks create on their own. */
const SCRATCH_DBS = [EMPTY_DB, MISSING_DB, MIGRATE_CLUSTER_DB, MIGRATE_SHARD_DB, STRANGER_DB, IDENTITY_CLUSTER_DB, IDENTITY_SHARD_DB];
const ALL_DBS = [CLUSTER_DB, ...SHARD_DBS, ...SCRATCH_DBS];

const dsn = (database: string, authority = `root@${HOST}:${PORT}`): string => `mysql://${authority}/${database}`;
const DEPLOYMENT = { clusterDsn: dsn(CLUSTER_DB), shardDsns: SHARD_DBS.map((db) => dsn(db)) };

const probe = probeMysql();

if (probe.ok) {
  describe('mysql persistence', () => {
    let admin: Connection;
    /** `db`.`table` of every data table (not schema_version) of the deployment, found after migrating. */
    let dataTables: string[] = [];

    before(async () => {
      admin = await createConnection({ host: HOST, port: PORT, user: 'root', multipleStatements: false });
      for (const db of ALL_DBS) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
      await migrateMysql(DEPLOYMENT);
      const [rows] = await admin.query(
        `SELECT table_schema AS db, table_name AS name FROM information_schema.tables
         WHERE table_schema IN (?) AND table_name NOT IN ('schema_version', 'shard_database_identity') ORDER BY table_schema, table_name`,
        [[CLUSTER_DB, ...SHARD_DBS]],
      );
      dataTables = (rows as { db: string; name: string }[]).map((row) => `\`${row.db}\`.\`${row.name}\``);
    });

    after(async () => {
      for (const db of ALL_DBS) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
      await admin.end();
    });

    /** Empties every data table; the schema and each database's identity stay. Much faster than re-creating databases. */
    const truncateAll = async (): Promise<void> => {
      for (const table of dataTables) await admin.query(`DELETE FROM ${table}`);
    };

    const openEmpty = async (overrides: Partial<MysqlPersistenceOptions> = {}): Promise<Persistence> => {
      await truncateAll();
      return openMysqlPersistence({ ...DEPLOYMENT, numHistoryShards: 128, poolSize: 4, ...overrides });
    };

    /** Reads a table of one database directly, bypassing the persistence layer. */
    const select = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
      const [rows] = await admin.query(sql, params);
      return rows as T[];
    };

    runStoreContract('mysql', () => openEmpty());
    runIdentityContract('mysql', () => openEmpty());
    runVisibilityContract('mysql', () => openEmpty());

    describe('shard ownership fencing across hosts', () => {
      /**
       * InnoDB refreshes information_schema.innodb_trx only when it was not read for 100 ms, so
       * polling it faster would read the same stale snapshot forever.
       */
      const LOCK_WAIT_POLL = { intervalMs: 150 };
      /** Transactions waiting for a lock in shard 5's database (other test files may use the server too). */
      async function lockWaits(): Promise<number> {
        const [row] = await select<{ n: number }>(
          `SELECT COUNT(*) AS n FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
           WHERE t.trx_state = 'LOCK WAIT' AND p.db = ?`,
          [SHARD_DBS[1]],
        );
        return Number(row?.n ?? 0);
      }

      it('only the newest owner commits: the old owner fails with ShardOwnershipLostError and writes nothing', async () => {
        await truncateAll();
        const hostA = await openMysqlPersistence({ ...DEPLOYMENT, numHistoryShards: 8 });
        const hostB = await openMysqlPersistence({ ...DEPLOYMENT, numHistoryShards: 8 });
        try {
          const key = runKey('run-1');
          const a = await hostA.executions.acquireShard(5, 'host-a');
          await hostA.executions.commit({ ...startCommit(5, a.rangeId, key), tasks: [transferTask(1, key)] });
          const b = await hostB.executions.acquireShard(5, 'host-b');
          assert.deepEqual([a.rangeId, b.rangeId], [1, 2]);
          const before = await snapshot(hostB.executions, 5, key);

          const append = (rangeId: number, taskIds: [number, number]): ShardCommit => ({
            shardId: 5,
            rangeId,
            update: {
              key,
              state: `written at range ${rangeId}`,
              nextEventId: 6,
              events: events(4, 5),
              expectedDbVersion: 1,
              upsertItems: [item('activity', `${rangeId}`)],
              deleteItems: [],
            },
            tasks: [transferTask(taskIds[0], key), timerTask(1_000, taskIds[1], key)],
          });
          const err = await rejection(hostA.executions.commit(append(a.rangeId, [2, 3])), ShardOwnershipLostError);
          assert.deepEqual([err.shardId, err.expectedRangeId, err.actualRangeId], [5, 1, 2]);
          assert.deepEqual(await snapshot(hostB.executions, 5, key), before, 'history, state, pointer and tasks are unchanged');
          assert.deepEqual(await snapshot(hostA.executions, 5, key), before, 'whoever reads');

          await hostB.executions.commit(append(b.rangeId, [4, 5]));
          assert.equal((await hostB.executions.getExecution(5, key))?.state, 'written at range 2');
          assert.deepEqual(await hostA.executions.readHistory(5, key, 1, 100, 100), events(1, 5));
          assert.deepEqual((await hostA.executions.listImmediateTasks(5, TRANSFER, 0, 100)).map((t) => t.taskId), [1, 4]);
          assert.deepEqual((await hostA.executions.getExecution(5, key))?.items, [item('activity', '2')]);
        } finally {
          await Promise.all([hostA.close(), hostB.close()]);
        }
      });

      it('an acquisition waits for the old owner\'s in-flight commit, and fences every commit after it', async () => {
        await truncateAll();
        const hostA = await openMysqlPersistence({ ...DEPLOYMENT, numHistoryShards: 8 });
        const hostB = await openMysqlPersistence({ ...DEPLOYMENT, numHistoryShards: 8 });
        const blocker = await createConnection({ host: HOST, port: PORT, user: 'root', database: SHARD_DBS[1] });
        try {
          const key = runKey('run-1');
          await hostA.executions.acquireShard(5, 'host-a');
          await hostA.executions.commit(startCommit(5, 1, key));

          // Park A's commit after its range check: it holds the shard row shared and waits for the
          // execution row, which `blocker` holds.
          await blocker.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
          await blocker.beginTransaction();
          await blocker.query('SELECT db_version FROM executions WHERE shard_id = 5 FOR UPDATE');
          const inFlight = hostA.executions.commit({
            shardId: 5,
            rangeId: 1,
            update: { key, state: 'in flight', nextEventId: 5, events: events(4, 4), expectedDbVersion: 1, upsertItems: [], deleteItems: [] },
            tasks: [],
          });
          inFlight.catch(() => undefined);
          await eventually(async () => (await lockWaits()) === 1, LOCK_WAIT_POLL);

          // B's acquisition needs the shard row exclusively: it queues behind A's commit.
          const acquired = hostB.executions.acquireShard(5, 'host-b');
          acquired.catch(() => undefined);
          await eventually(async () => (await lockWaits()) === 2, LOCK_WAIT_POLL);
          await blocker.rollback();

          await inFlight; // began before the acquisition, so it commits
          assert.equal((await acquired).rangeId, 2);
          assert.equal((await hostB.executions.getExecution(5, key))?.state, 'in flight');
          await rejection(
            hostA.executions.commit({
              shardId: 5,
              rangeId: 1,
              update: { key, state: 'late', nextEventId: 6, events: events(5, 5), expectedDbVersion: 2, upsertItems: [], deleteItems: [] },
              tasks: [],
            }),
            ShardOwnershipLostError,
          );
          assert.deepEqual(await hostB.executions.readHistory(5, key, 1, 100, 100), events(1, 4));
        } finally {
          await blocker.end();
          await Promise.all([hostA.close(), hostB.close()]);
        }
      });

      it('under concurrent load each commit of the old owner either fully lands or writes nothing', async () => {
        await truncateAll();
        const hostA = await openMysqlPersistence({ ...DEPLOYMENT, numHistoryShards: 8, poolSize: 10 });
        const hostB = await openMysqlPersistence({ ...DEPLOYMENT, numHistoryShards: 8 });
        try {
          await hostA.executions.acquireShard(6, 'host-a');
          const keys = Array.from({ length: 30 }, (_, i) => runKey(`run-${i}`, `wf-${i}`));
          const commits = keys.map((key, i) => hostA.executions.commit({ ...startCommit(6, 1, key), tasks: [transferTask(i + 1, key)] }));
          const acquired = hostB.executions.acquireShard(6, 'host-b');
          const results = await Promise.allSettled(commits);
          assert.equal((await acquired).rangeId, 2);

          const landed = new Set((await hostB.executions.listImmediateTasks(6, TRANSFER, 0, 1000)).map((t) => t.workflowId));
          for (const [i, result] of results.entries()) {
            const key = keys[i]!;
            const execution = await hostB.executions.getExecution(6, key);
            if (result.status === 'fulfilled') {
              assert.equal(execution?.dbVersion, 1, `${key.workflowId} committed`);
              assert.deepEqual(await hostB.executions.readHistory(6, key, 1, 100, 100), events(1, 3));
              assert.ok(landed.has(key.workflowId));
            } else {
              assert.ok(result.reason instanceof ShardOwnershipLostError, String(result.reason));
              assert.equal(execution, undefined);
              assert.deepEqual(await hostB.executions.readHistory(6, key, 1, 100, 100), []);
              assert.equal(await hostB.executions.getCurrentExecution(6, key.namespaceId, key.workflowId), undefined);
              assert.ok(!landed.has(key.workflowId));
            }
          }
          await rejection(hostA.executions.commit(startCommit(6, 1, runKey('after', 'wf-after'))), ShardOwnershipLostError);
        } finally {
          await Promise.all([hostA.close(), hostB.close()]);
        }
      });

    });

    describe('placement', () => {
      it('history shard s lives in shard database s % 4: executions, items, pointers, history and tasks', async () => {
        const p = await openEmpty({ numHistoryShards: 8 });
        try {
          for (let shard = 0; shard < 8; shard++) {
            const key = runKey(`run-${shard}`, `wf-${shard}`);
            await p.executions.acquireShard(shard, 'host-a');
            const start = startCommit(shard, 1, key);
            await p.executions.commit({
              ...start,
              create: { ...start.create!, upsertItems: [item('activity', '1')] },
              tasks: [transferTask(shard + 1, key), timerTask(1_000, shard + 100, key)],
            });
          }
          for (const [i, db] of SHARD_DBS.entries()) {
            for (const table of ['shards', 'executions', 'execution_items', 'current_executions', 'history_events', 'history_tasks']) {
              const rows = await select<{ shard_id: number }>(`SELECT DISTINCT shard_id FROM \`${db}\`.\`${table}\` ORDER BY shard_id`);
              assert.deepEqual(rows.map((row) => Number(row.shard_id)), [i, i + 4], `${db}.${table}`);
            }
          }
          const clusterTables = await select<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ?', [CLUSTER_DB]);
          assert.ok(!clusterTables.some((t) => t.name === 'executions'), 'the cluster database holds no history');
        } finally {
          await p.close();
        }
      });

      it('namespaces, cluster metadata and task queues live in the cluster database', async () => {
        const p = await openEmpty();
        try {
          assert.equal((await p.cluster.getClusterMetadata()).numHistoryShards, 128);
          await p.namespaces.createNamespace(namespace('orders'));
          await p.taskQueues.leaseTaskQueue(queueKey('q'));
          await p.taskQueues.createTasks(queueKey('q'), 1, [{ taskId: 1, data: '{}', expiresAt: 0 }]);
          for (const [table, rows] of [['cluster_metadata', 1], ['cluster_shard_databases', 4], ['namespaces', 1], ['task_queues', 1], ['task_queue_tasks', 1]] as const) {
            const [row] = await select<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${CLUSTER_DB}\`.\`${table}\``);
            assert.equal(Number(row?.n), rows, table);
          }
        } finally {
          await p.close();
        }
      });

      it('the identity store lives in the cluster database', async () => {
        const p = await openEmpty();
        try {
          const record = { id: 'acct1', resourceVersion: 1, createdAt: 1, updatedAt: 1, name: 'ab12c', state: 'active' as const, stateReason: '' };
          await p.identity.commit({ writes: [{ kind: 'account', record }], audit: { ...AUDIT, id: 'audit-1' } });
          for (const table of ['accounts', 'audit_log']) {
            const [row] = await select<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${CLUSTER_DB}\`.\`${table}\``);
            assert.equal(Number(row?.n), 1, table);
          }
          const [shardTables] = await select<{ n: number }>(
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema IN (?) AND table_name IN ('accounts', 'users', 'api_keys', 'audit_log')",
            [SHARD_DBS],
          );
          assert.equal(Number(shardTables?.n), 0, 'no shard database has identity tables');
        } finally {
          await p.close();
        }
      });

      it('refuses a shard id outside the cluster\'s shards instead of routing it somewhere', async () => {
        const p = await openEmpty({ numHistoryShards: 8 });
        try {
          for (const bad of [8, -1, 1.5]) {
            const err = await rejection(p.executions.acquireShard(bad, 'host-a'), InvalidArgumentError);
            assert.match(err.message, /out of range.*8 history shards/);
          }
        } finally {
          await p.close();
        }
      });
    });

    describe('startup checks', () => {
      const open = (overrides: Partial<MysqlPersistenceOptions>) => openMysqlPersistence({ ...DEPLOYMENT, numHistoryShards: 8, ...overrides });

      it('refuses a database whose schema is older, naming it, in one line', async () => {
        await admin.query(`UPDATE \`${SHARD_DBS[2]}\`.schema_version SET version = 0 WHERE schema_name = 'shard'`);
        try {
          const err = await rejection(open({}), SchemaVersionTooOldError);
          assert.equal(err.message, `database ${SHARD_DBS[2]} has schema version 0, this build needs ${MYSQL_SCHEMA_VERSIONS.shard}: run \`hourglass db migrate\``);
        } finally {
          await admin.query(`UPDATE \`${SHARD_DBS[2]}\`.schema_version SET version = ? WHERE schema_name = 'shard'`, [MYSQL_SCHEMA_VERSIONS.shard]);
        }
      });

      it('refuses an existing but never migrated database, and a missing one', async () => {
        await admin.query(`CREATE DATABASE IF NOT EXISTS \`${EMPTY_DB}\``);
        const empty = await rejection(open({ shardDsns: [...DEPLOYMENT.shardDsns.slice(0, 3), dsn(EMPTY_DB)] }), SchemaVersionTooOldError);
        assert.equal(empty.message, `database ${EMPTY_DB} has schema version 0, this build needs ${MYSQL_SCHEMA_VERSIONS.shard}: run \`hourglass db migrate\``);

        const missing = await rejection(open({ clusterDsn: dsn(MISSING_DB) }), MysqlConnectionError);
        assert.equal(missing.message, `database ${MISSING_DB} does not exist on ${HOST}:${PORT}: run \`hourglass db migrate\``);
      });

      it('refuses a database migrated by a newer build', async () => {
        await admin.query(`UPDATE \`${CLUSTER_DB}\`.schema_version SET version = ? WHERE schema_name = 'cluster'`, [MYSQL_SCHEMA_VERSIONS.cluster + 1]);
        try {
          const err = await rejection(open({}), MysqlSchemaVersionTooNewError);
          assert.ok(err instanceof SchemaVersionTooNewError);
          assert.equal(err.message, `database ${CLUSTER_DB} has schema version ${MYSQL_SCHEMA_VERSIONS.cluster + 1}, newer than this build supports (${MYSQL_SCHEMA_VERSIONS.cluster}): upgrade hourglass`);
        } finally {
          await admin.query(`UPDATE \`${CLUSTER_DB}\`.schema_version SET version = ? WHERE schema_name = 'cluster'`, [MYSQL_SCHEMA_VERSIONS.cluster]);
        }
      });

      it('refuses an unreachable server with one line naming host and database', async () => {
        const port = await unusedPort();
        const err = await rejection(open({ shardDsns: [dsn(SHARD_DBS[0]!), dsn(SHARD_DBS[1]!, `root@127.0.0.1:${port}`)] }), MysqlConnectionError);
        assert.match(err.message, new RegExp(`^cannot reach MySQL at 127\\.0\\.0\\.1:${port} \\(database ${SHARD_DBS[1]}, user root\\): .*ECONNREFUSED`));
        assert.doesNotMatch(err.message, /\n/);
        assert.equal(err.address, `127.0.0.1:${port}`);
      });

      it('refuses bad credentials and malformed DSNs without echoing the password', async () => {
        const denied = await rejection(open({ clusterDsn: dsn(CLUSTER_DB, `hourglass_nobody:hunter2@${HOST}:${PORT}`) }), MysqlConnectionError);
        assert.match(denied.message, new RegExp(`^MySQL at 127\\.0\\.0\\.1:3306 \\(database ${CLUSTER_DB}, user hourglass_nobody\\) denied access: `));
        assert.doesNotMatch(denied.message, /\n/);

        for (const [bad, why] of [
          ['postgres://root@127.0.0.1/x', /scheme must be mysql/],
          ['mysql://root:hunter2@127.0.0.1:3306/', /names no database/],
          ['mysql://root:hunter2@127.0.0.1:3306/bad-name', /database name "bad-name"/],
          ['not a dsn', /expected mysql:\/\/user:password@host:port\/database/],
        ] as const) {
          const err = await rejection(open({ clusterDsn: bad }), InvalidArgumentError, bad);
          assert.match(err.message, why);
          assert.doesNotMatch(err.message, /hunter2/);
        }
        await rejection(open({ numHistoryShards: 2 }), InvalidArgumentError, 'more databases than shards');
      });
    });

    describe('what the cluster recorded at creation', () => {
      const shardDb = (i: number): string => dsn(SHARD_DBS[i]!);
      const named = (db: string): string => JSON.stringify(`mysql://root@${HOST}:${PORT}/${db}`);
      const identityOf = async (db: string): Promise<string> => {
        const [row] = await select<{ id: Buffer }>(`SELECT database_id AS id FROM \`${db}\`.shard_database_identity`);
        return String(row?.id);
      };
      /** Creates a cluster (4 shard databases, 8 history shards) and closes it. */
      const createCluster = async (): Promise<void> => {
        await truncateAll();
        await (await openMysqlPersistence({ ...DEPLOYMENT, numHistoryShards: 8 })).close();
      };
      const recordedList = async () => select<{ i: number; dsn: string }>(`SELECT shard_database_index AS i, dsn FROM \`${CLUSTER_DB}\`.cluster_shard_databases ORDER BY i`);

      it('a new cluster records 4 history shards unless told otherwise, and its shard databases by identity, without passwords', async () => {
        await truncateAll();
        const p = await openMysqlPersistence({ clusterDsn: DEPLOYMENT.clusterDsn, shardDsns: DEPLOYMENT.shardDsns });
        try {
          const metadata = await p.cluster.getClusterMetadata();
          assert.equal(metadata.numHistoryShards, 4);
          const identities = await Promise.all(SHARD_DBS.map(identityOf));
          assert.equal(new Set(identities).size, 4, 'every shard database has its own identity');
          assert.deepEqual(
            metadata.shardDatabases,
            SHARD_DBS.map((db, index) => ({ index, databaseId: identities[index], dsn: `mysql://root@${HOST}:${PORT}/${db}` })),
          );
          await rejection(p.executions.acquireShard(4, 'host-a'), InvalidArgumentError, 'shard 4 of 4');
        } finally {
          await p.close();
        }
      });

      it('a reopen without a shard count or a shard list uses the recorded ones; another count is refused naming both', async () => {
        await createCluster();
        const p = await openMysqlPersistence({ clusterDsn: DEPLOYMENT.clusterDsn });
        try {
          assert.equal((await p.cluster.getClusterMetadata()).numHistoryShards, 8);
          const key = runKey('run-5', 'wf-5');
          await p.executions.acquireShard(5, 'host-a');
          await p.executions.commit(startCommit(5, 1, key));
          const rows = await select<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${SHARD_DBS[1]}\`.executions WHERE shard_id = 5`);
          assert.equal(Number(rows[0]?.n), 1, 'shard 5 is in shard database 1 of the recorded list');
        } finally {
          await p.close();
        }
        for (const numHistoryShards of [16, 4]) {
          const err = await rejection(openMysqlPersistence({ ...DEPLOYMENT, numHistoryShards }), StoreMismatchError);
          assert.equal(
            err.message,
            `this store was created with 8 history shards and that cannot change, but ${numHistoryShards} were asked for: ask for 8 or leave the number unset`,
          );
        }
        await (await openMysqlPersistence({ ...DEPLOYMENT, numHistoryShards: 8 })).close();
      });

      it('a shorter, longer, reordered or different shard list is refused, naming the difference, and changes nothing', async () => {
        await createCluster();
        await migrateMysql({ clusterDsn: DEPLOYMENT.clusterDsn, shardDsns: [dsn(STRANGER_DB)] });
        const before = await recordedList();
        const refusals: Array<[string[], string]> = [
          [[0, 1, 2].map(shardDb), `3 shard databases given, this cluster has 4: its shard database 3 (${named(SHARD_DBS[3]!)}) is missing`],
          [[0, 1, 3].map(shardDb), `3 shard databases given, this cluster has 4: its shard database 2 (${named(SHARD_DBS[2]!)}) is missing`],
          [
            [...DEPLOYMENT.shardDsns, dsn(STRANGER_DB)],
            `5 shard databases given, this cluster has 4: ${named(STRANGER_DB)} is not one of its databases`,
          ],
          [
            [0, 2, 1, 3].map(shardDb),
            `shard database 1 is ${named(SHARD_DBS[2]!)} but this cluster's shard database 1 is ${named(SHARD_DBS[1]!)} (${named(SHARD_DBS[2]!)} is its shard database 2)`,
          ],
          [
            [shardDb(0), shardDb(1), dsn(STRANGER_DB), shardDb(3)],
            `shard database 2 is ${named(STRANGER_DB)} but this cluster's shard database 2 is ${named(SHARD_DBS[2]!)} (${named(STRANGER_DB)} is not one of its databases)`,
          ],
        ];
        for (const [shardDsns, message] of refusals) {
          const err = await rejection(openMysqlPersistence({ clusterDsn: DEPLOYMENT.clusterDsn, shardDsns }), StoreMismatchError, message);
          assert.equal(err.message, message);
        }
        assert.deepEqual(await recordedList(), before);
        await (await openMysqlPersistence(DEPLOYMENT)).close();
      });

      it('a database re-created under a recorded name is another database', async () => {
        const cluster = { clusterDsn: dsn(IDENTITY_CLUSTER_DB), shardDsns: [dsn(IDENTITY_SHARD_DB)] };
        for (const db of [IDENTITY_CLUSTER_DB, IDENTITY_SHARD_DB]) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
        await migrateMysql(cluster);
        await (await openMysqlPersistence(cluster)).close();
        const recorded = await identityOf(IDENTITY_SHARD_DB);
        await admin.query(`DROP DATABASE \`${IDENTITY_SHARD_DB}\``);
        await migrateMysql(cluster);
        const fresh = await identityOf(IDENTITY_SHARD_DB);
        for (const options of [cluster, { clusterDsn: cluster.clusterDsn }]) {
          const err = await rejection(openMysqlPersistence(options), StoreMismatchError);
          assert.equal(
            err.message,
            `shard database 0 is ${named(IDENTITY_SHARD_DB)} but this cluster's shard database 0 is ${named(IDENTITY_SHARD_DB)} (same name, another database: identity ${fresh}, the cluster recorded ${recorded})`,
          );
        }
      });

      it("with no shard list, the recorded DSNs are used with the cluster DSN's password, which is never recorded", async () => {
        const user = `${PREFIX}_u`;
        const password = `pw-${randomBytes(6).toString('hex')}`;
        const hosts = ['127.0.0.1', 'localhost'];
        for (const host of hosts) {
          await admin.query(`CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?`, [user, host, password]);
          for (const db of [CLUSTER_DB, ...SHARD_DBS]) await admin.query(`GRANT ALL PRIVILEGES ON \`${db}\`.* TO ?@?`, [user, host]);
        }
        try {
          await truncateAll();
          const authority = `${user}:${password}@${HOST}:${PORT}`;
          const withPassword = { clusterDsn: dsn(CLUSTER_DB, authority), shardDsns: SHARD_DBS.map((db) => dsn(db, authority)) };
          await (await openMysqlPersistence({ ...withPassword, numHistoryShards: 8 })).close();
          const list = await recordedList();
          assert.deepEqual(list.map((r) => r.dsn), SHARD_DBS.map((db) => `mysql://${user}@${HOST}:${PORT}/${db}`));
          const [stored] = await select<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${CLUSTER_DB}\`.cluster_shard_databases WHERE dsn LIKE ?`, [`%${password}%`]);
          assert.equal(Number(stored?.n), 0, 'no password in the cluster database');

          const p = await openMysqlPersistence({ clusterDsn: withPassword.clusterDsn });
          try {
            await p.executions.acquireShard(7, 'host-a');
            await p.executions.commit(startCommit(7, 1, runKey('run-7')));
            assert.equal((await p.executions.getExecution(7, runKey('run-7')))?.dbVersion, 1);
          } finally {
            await p.close();
          }
        } finally {
          for (const host of hosts) await admin.query('DROP USER IF EXISTS ?@?', [user, host]);
        }
      });

      it('recordMysqlShardDatabases replaces the list after shards moved; later opens check against the new one', async () => {
        await truncateAll();
        await (await openMysqlPersistence({ clusterDsn: DEPLOYMENT.clusterDsn, shardDsns: [shardDb(0), shardDb(1)], numHistoryShards: 8 })).close();
        const records = await recordMysqlShardDatabases(DEPLOYMENT);
        assert.deepEqual(records.map((r) => r.dsn), SHARD_DBS.map((db) => `mysql://root@${HOST}:${PORT}/${db}`));
        const p = await openMysqlPersistence({ clusterDsn: DEPLOYMENT.clusterDsn });
        try {
          assert.equal((await p.cluster.getClusterMetadata()).shardDatabases?.length, 4);
        } finally {
          await p.close();
        }
        const err = await rejection(openMysqlPersistence({ clusterDsn: DEPLOYMENT.clusterDsn, shardDsns: [shardDb(0), shardDb(1)] }), StoreMismatchError);
        assert.match(err.message, /^2 shard databases given, this cluster has 4: its shard database 2 .* is missing; its shard database 3 .* is missing$/);
      });

      it('a cluster that was never opened has no list to fall back on', async () => {
        await truncateAll();
        const err = await rejection(openMysqlPersistence({ clusterDsn: DEPLOYMENT.clusterDsn }), InvalidArgumentError);
        assert.equal(err.message, `the cluster in database ${CLUSTER_DB} has no recorded shard databases yet: give the shard database DSNs`);
      });
    });

    describe('migrateMysql', () => {
      const scratch = { clusterDsn: dsn(MIGRATE_CLUSTER_DB), shardDsns: [dsn(MIGRATE_SHARD_DB)] };
      const schemaOf = async (dbs: string[]) =>
        select<Record<string, unknown>>(
          `SELECT table_schema, table_name, column_name, column_type, ordinal_position FROM information_schema.columns
           WHERE table_schema IN (?) ORDER BY table_schema, table_name, ordinal_position`,
          [dbs],
        );

      it('creates missing databases, applies every migration once, and is a no-op when re-run', async () => {
        const dbs = [MIGRATE_CLUSTER_DB, MIGRATE_SHARD_DB];
        for (const db of dbs) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
        // Two migrators at once: they serialise on a named lock, and one does the work.
        const [first, second] = await Promise.all([migrateMysql(scratch), migrateMysql(scratch)]);
        const steps = [...first, ...second].map((s) => `${s.database} ${s.schema} ${s.fromVersion}->${s.toVersion}`).sort();
        assert.deepEqual(steps, [`${MIGRATE_CLUSTER_DB} cluster 0->${MYSQL_SCHEMA_VERSIONS.cluster}`, `${MIGRATE_SHARD_DB} shard 0->${MYSQL_SCHEMA_VERSIONS.shard}`]);
        const schema = await schemaOf(dbs);

        const p = await openMysqlPersistence({ ...scratch, numHistoryShards: 1 });
        try {
          await p.namespaces.createNamespace(namespace('kept'));
          assert.deepEqual(await migrateMysql(scratch), []);
          assert.deepEqual(await schemaOf(dbs), schema);
          assert.deepEqual(await p.namespaces.getNamespaceByName('kept'), namespace('kept'));
        } finally {
          await p.close();
        }
      });

      it('applies only the migrations newer than the stored version; the result is refused by this build', async () => {
        const latest = CLUSTER_MIGRATIONS.length;
        const next = { version: latest + 1, description: 'test step', statements: ['CREATE TABLE IF NOT EXISTS extra_test (x INT NOT NULL) ENGINE=InnoDB'] };
        const steps = await migrateMysql(scratch, { cluster: [...CLUSTER_MIGRATIONS, next], shard: SHARD_MIGRATIONS });
        assert.deepEqual(
          steps.map((s) => [s.database, s.schema, s.fromVersion, s.toVersion]),
          [[MIGRATE_CLUSTER_DB, 'cluster', latest, latest + 1]],
        );
        const [table] = await select<{ n: number }>(
          "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = 'extra_test'",
          [MIGRATE_CLUSTER_DB],
        );
        assert.equal(Number(table?.n), 1);
        const err = await rejection(openMysqlPersistence({ ...scratch, numHistoryShards: 1 }), MysqlSchemaVersionTooNewError);
        assert.equal(err.message, `database ${MIGRATE_CLUSTER_DB} has schema version ${latest + 1}, newer than this build supports (${latest}): upgrade hourglass`);
        await rejection(migrateMysql(scratch), MysqlSchemaVersionTooNewError, 'an older build never migrates a newer database');
      });

      it('brings a version 1 deployment to the current schema: tasks move to history_tasks, state is kept', async () => {
        for (const db of [MIGRATE_CLUSTER_DB, MIGRATE_SHARD_DB]) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
        await migrateMysql(scratch, { cluster: CLUSTER_MIGRATIONS.slice(0, 1), shard: SHARD_MIGRATIONS.slice(0, 1) });
        const shardDb = `\`${MIGRATE_SHARD_DB}\``;
        const key = runKey('run-1');
        const run = [0, key.namespaceId, key.workflowId, key.runId];
        // What a version 1 build wrote: a run with its whole state in one blob, history, both task tables.
        await admin.query(`INSERT INTO ${shardDb}.shards VALUES (0, 3, 'old-host', 1)`);
        await admin.query(`INSERT INTO ${shardDb}.shard_task_id_marks VALUES (0, 50)`);
        await admin.query(`INSERT INTO ${shardDb}.executions VALUES (?, ?, ?, ?, '{"v1":"whole state"}', 3, 7)`, run);
        await admin.query(`INSERT INTO ${shardDb}.current_executions VALUES (?, ?, ?, ?, 'req', 1, 1, 5)`, run);
        for (const id of [1, 2]) await admin.query(`INSERT INTO ${shardDb}.history_events VALUES (?, ?, ?, ?, ?, ?)`, [...run, id, Buffer.from([id])]);
        for (const id of [60, 62]) {
          await admin.query(`INSERT INTO ${shardDb}.transfer_tasks VALUES (0, ?, ?, ?, ?, 'WorkflowTask', ?)`, [id, ...run.slice(1), JSON.stringify({ taskId: id })]);
        }
        await admin.query(`INSERT INTO ${shardDb}.timer_tasks VALUES (0, ?, 61, ?, ?, ?, 'UserTimer', '{"taskId":61}')`, [1_000, ...run.slice(1)]);

        // A version 1 build recorded only its shard count, on its first boot.
        await admin.query(`INSERT INTO \`${MIGRATE_CLUSTER_DB}\`.cluster_metadata VALUES (1, '{"clusterName":"active","numHistoryShards":1,"createdAt":5}')`);

        const steps = await migrateMysql(scratch);
        assert.deepEqual(
          steps.map((s) => `${s.database} ${s.schema} ${s.fromVersion}->${s.toVersion}`),
          [`${MIGRATE_CLUSTER_DB} cluster 1->${MYSQL_SCHEMA_VERSIONS.cluster}`, `${MIGRATE_SHARD_DB} shard 1->${MYSQL_SCHEMA_VERSIONS.shard}`],
        );
        const tables = await select<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ?', [MIGRATE_SHARD_DB]);
        assert.ok(!tables.some((t) => t.name === 'transfer_tasks' || t.name === 'timer_tasks'), 'the old task tables are gone');

        // No shard count: the recorded one. The cluster records the shard databases it is opened with.
        const p = await openMysqlPersistence(scratch);
        try {
          const metadata = await p.cluster.getClusterMetadata();
          assert.deepEqual({ ...metadata, shardDatabases: metadata.shardDatabases?.map((d) => d.dsn) }, {
            clusterName: 'active',
            numHistoryShards: 1,
            createdAt: 5,
            shardDatabases: [`mysql://root@${HOST}:${PORT}/${MIGRATE_SHARD_DB}`],
          });
          assert.deepEqual(await p.executions.getExecution(0, key), { ...key, state: '{"v1":"whole state"}', items: [], nextEventId: 3, dbVersion: 7 });
          assert.equal((await p.executions.getCurrentExecution(0, key.namespaceId, key.workflowId))?.createRequestId, 'req');
          assert.deepEqual(await p.executions.listImmediateTasks(0, TRANSFER, 0, 100), [{ ...transferTask(60, key) }, { ...transferTask(62, key) }]);
          assert.deepEqual(await p.executions.listScheduledTasks(0, TIMER, 2_000, 100), [timerTask(1_000, 61, key)]);
          assert.equal(await p.executions.maxTaskId(0), 62);
          assert.equal((await p.executions.readHistory(0, key, 1, 10, 10)).length, 2);
          // The migrated run takes version 2 writes: items, an update and its deletion.
          assert.equal((await p.executions.acquireShard(0, 'new-host')).rangeId, 4);
          await p.executions.commit({
            shardId: 0,
            rangeId: 4,
            update: { key, state: 'v2 core', nextEventId: 3, events: [], expectedDbVersion: 7, upsertItems: [item('activity', '1')], deleteItems: [] },
            tasks: [],
          });
          assert.deepEqual((await p.executions.getExecution(0, key))?.items, [item('activity', '1')]);
          await p.executions.commit({ shardId: 0, rangeId: 4, deletion: { key, expectedDbVersion: 8 }, tasks: [] });
          assert.equal(await p.executions.getExecution(0, key), undefined);
          assert.equal(await p.executions.maxTaskId(0), 62, 'the deleted tasks stay counted');
        } finally {
          await p.close();
        }
      });

      it('the task move is safe to re-run after a crash part-way through', async () => {
        // Pretend the version 2 step crashed after copying transfer_tasks but before dropping it,
        // with one more row written meanwhile (a build that crashed cannot have, but the copy must not care).
        const shardDb = `\`${MIGRATE_SHARD_DB}\``;
        const run = ['ns', 'wf', 'run'];
        await admin.query(`DROP DATABASE IF EXISTS ${shardDb}`);
        await migrateMysql(scratch);
        await admin.query(`INSERT INTO ${shardDb}.history_tasks VALUES (0, 1, 0, 5, ?, ?, ?, 'WorkflowTask', 'copied')`, run);
        await admin.query(`CREATE TABLE ${shardDb}.transfer_tasks (
          shard_id BIGINT NOT NULL, task_id BIGINT NOT NULL, namespace_id VARBINARY(255) NOT NULL, workflow_id VARBINARY(2048) NOT NULL,
          run_id VARBINARY(255) NOT NULL, type VARCHAR(255) NOT NULL, data MEDIUMTEXT NOT NULL, PRIMARY KEY (shard_id, task_id))`);
        for (const id of [5, 6]) await admin.query(`INSERT INTO ${shardDb}.transfer_tasks VALUES (0, ?, ?, ?, ?, 'WorkflowTask', 'copied')`, [id, ...run]);
        await admin.query(`UPDATE ${shardDb}.schema_version SET version = 1 WHERE schema_name = 'shard'`);
        await migrateMysql(scratch);
        const rows = await select<{ task_id: number }>(`SELECT task_id FROM ${shardDb}.history_tasks ORDER BY task_id`);
        assert.deepEqual(rows.map((r) => Number(r.task_id)), [5, 6]);
        const [left] = await select<{ n: number }>("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = 'transfer_tasks'", [MIGRATE_SHARD_DB]);
        assert.equal(Number(left?.n), 0);
      });

      it('one database may hold both schemas', async () => {
        await admin.query(`DROP DATABASE IF EXISTS \`${MIGRATE_SHARD_DB}\``);
        const single = { clusterDsn: dsn(MIGRATE_SHARD_DB), shardDsns: [dsn(MIGRATE_SHARD_DB)] };
        await migrateMysql(single);
        const p = await openMysqlPersistence({ ...single, numHistoryShards: 2 });
        try {
          await p.namespaces.createNamespace(namespace('solo'));
          await p.executions.acquireShard(1, 'host-a');
          await p.executions.commit(startCommit(1, 1, runKey('run-1')));
          assert.equal((await p.executions.getExecution(1, runKey('run-1')))?.dbVersion, 1);
        } finally {
          await p.close();
        }
      });

      it('brings a cluster database at version 2 to version 3 (namespaces are kept, with their account when their JSON has one; re-running the step is safe), then to version 4 (the visibility table)', async () => {
        for (const db of [MIGRATE_CLUSTER_DB, MIGRATE_SHARD_DB]) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
        await migrateMysql(scratch, { cluster: CLUSTER_MIGRATIONS.slice(0, 2), shard: SHARD_MIGRATIONS });
        const clusterDb = `\`${MIGRATE_CLUSTER_DB}\``;
        // What a version 2 build wrote; the second row by a build of the tenancy branch, before this migration.
        await admin.query(`INSERT INTO ${clusterDb}.namespaces (id, name, data) VALUES (?, ?, ?), (?, ?, ?)`, [
          'id-old',
          'old',
          JSON.stringify(preAccountNamespace('old')),
          'id-branch',
          'branch',
          JSON.stringify(namespace('branch')),
        ]);
        const toV3 = { cluster: CLUSTER_MIGRATIONS.slice(0, 3), shard: SHARD_MIGRATIONS };
        const steps = await migrateMysql(scratch, toV3);
        assert.deepEqual(steps.map((s) => `${s.database} ${s.schema} ${s.fromVersion}->${s.toVersion}`), [`${MIGRATE_CLUSTER_DB} cluster 2->3`]);
        const accounts = async () => select<{ id: Buffer; account_id: Buffer }>(`SELECT id, account_id FROM ${clusterDb}.namespaces ORDER BY id`);
        assert.deepEqual((await accounts()).map((row) => [String(row.id), String(row.account_id)]), [['id-branch', 'acct1'], ['id-old', '']]);

        // As if the step had crashed after its statements but before its version was recorded.
        const schema = await schemaOf([MIGRATE_CLUSTER_DB]);
        await admin.query(`UPDATE ${clusterDb}.schema_version SET version = 2 WHERE schema_name = 'cluster'`);
        assert.deepEqual((await migrateMysql(scratch, toV3)).map((s) => `${s.schema} ${s.fromVersion}->${s.toVersion}`), ['cluster 2->3']);
        assert.deepEqual(await schemaOf([MIGRATE_CLUSTER_DB]), schema);
        assert.equal((await accounts()).length, 2);
        // Version 4 adds the visibility table beside them.
        assert.deepEqual((await migrateMysql(scratch)).map((s) => `${s.schema} ${s.fromVersion}->${s.toVersion}`), [`cluster 3->${MYSQL_SCHEMA_VERSIONS.cluster}`]);
        assert.equal((await accounts()).length, 2);

        // A row in the old shape written into the new table (account_id takes its default).
        await admin.query(`INSERT INTO ${clusterDb}.namespaces (id, name, data) VALUES ('id-raw', 'raw', ?)`, [JSON.stringify(preAccountNamespace('raw'))]);
        const p = await openMysqlPersistence({ ...scratch, numHistoryShards: 1 });
        try {
          assert.deepEqual(await p.namespaces.getNamespaceByName('old'), withAccountDefaults(preAccountNamespace('old')));
          assert.deepEqual(await p.namespaces.getNamespaceById('id-raw'), withAccountDefaults(preAccountNamespace('raw')));
          assert.deepEqual(await p.namespaces.getNamespaceById('id-branch'), namespace('branch'));
          assert.deepEqual((await p.identity.listNamespacesOfAccount('acct1', { pageSize: 10 })).items, [namespace('branch')]);
          assert.deepEqual((await p.identity.listNamespacesOfAccount('', { pageSize: 10 })).items.map((n) => n.name), ['old', 'raw']);
          await p.namespaces.updateNamespace({ ...withAccountDefaults(preAccountNamespace('old')), accountId: 'acct7', updatedAt: 9 });
          assert.deepEqual((await p.identity.listNamespacesOfAccount('acct7', { pageSize: 10 })).items.map((n) => n.id), ['id-old']);
          const record = visibilityRecord('run-1', 3);
          await p.visibility.upsert([record]);
          assert.deepEqual(await p.visibility.get(record.namespaceId, 'run-1'), record);
        } finally {
          await p.close();
        }
      });

      it('brings a cluster database at version 5 to version 6: each shared saved view goes to whoever saved it, else to the account owners, else stays unassigned; re-running the step is safe', async () => {
        for (const db of [MIGRATE_CLUSTER_DB, MIGRATE_SHARD_DB]) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
        await migrateMysql(scratch, { cluster: CLUSTER_MIGRATIONS.slice(0, 5), shard: SHARD_MIGRATIONS });
        const clusterDb = `\`${MIGRATE_CLUSTER_DB}\``;
        await admin.query(`INSERT INTO ${clusterDb}.namespaces (id, name, data, account_id) VALUES ('id-orders', 'orders', ?, 'acct1')`, [JSON.stringify(namespace('orders'))]);
        const userData = (id: string, email: string, role: string) => JSON.stringify({ id, resourceVersion: 1, createdAt: T0, updatedAt: T0, accountId: 'acct1', email, role, deleted: false });
        await admin.query(`INSERT INTO ${clusterDb}.users (account_id, id, active_email, deleted, resource_version, data) VALUES (?, ?, ?, 0, 1, ?), (?, ?, ?, 0, 1, ?)`, [
          'acct1', 'u-ann', 'ann@example.com', userData('u-ann', 'Ann@Example.com', 'developer'),
          'acct1', 'u-boss', 'boss@example.com', userData('u-boss', 'boss@example.com', 'owner'),
        ]);
        await admin.query(`INSERT INTO ${clusterDb}.service_accounts (account_id, id, deleted, resource_version, data) VALUES ('acct1', 'sa-ci', 0, 1, ?)`, [
          JSON.stringify({ id: 'sa-ci', resourceVersion: 1, createdAt: T0, updatedAt: T0, accountId: 'acct1', name: 'ci', description: '', role: 'developer', deleted: false }),
        ]);
        await admin.query(`INSERT INTO ${clusterDb}.portal_saved_views (namespace_id, name, query, saved_by, updated_at) VALUES ?`, [
          [
            ['id-orders', 'by ann', 'q1', 'ann@EXAMPLE.com', T0],
            ['id-orders', 'by ci', 'q2', 'ci', T0 + 1],
            ['id-orders', 'by nobody we know', 'q3', 'gone@example.com', T0 + 2],
            ['id-vanished', 'orphan', 'q4', 'ann@example.com', T0 + 3],
          ],
        ]);
        const toV6 = { cluster: CLUSTER_MIGRATIONS.slice(0, 6), shard: SHARD_MIGRATIONS };
        assert.deepEqual((await migrateMysql(scratch, toV6)).map((s) => `${s.schema} ${s.fromVersion}->${s.toVersion}`), ['cluster 5->6']);
        const rows = async () =>
          (await select<Record<string, Buffer>>(`SELECT namespace_id, owner_type, owner_id, name FROM ${clusterDb}.portal_saved_views ORDER BY namespace_id, name`)).map((r) =>
            [r.namespace_id, r.owner_type, r.owner_id, r.name].map(String).join(' '),
          );
        const expected = ['id-orders user u-ann by ann', 'id-orders serviceAccount sa-ci by ci', 'id-orders user u-boss by nobody we know', 'id-vanished   orphan'];
        assert.deepEqual(await rows(), expected);

        // As if the step had crashed after its statements but before its version was recorded.
        const schema = await schemaOf([MIGRATE_CLUSTER_DB]);
        await admin.query(`UPDATE ${clusterDb}.schema_version SET version = 5 WHERE schema_name = 'cluster'`);
        assert.deepEqual((await migrateMysql(scratch, toV6)).map((s) => `${s.schema} ${s.fromVersion}->${s.toVersion}`), ['cluster 5->6']);
        assert.deepEqual(await schemaOf([MIGRATE_CLUSTER_DB]), schema);
        assert.deepEqual(await rows(), expected);

        await migrateMysql(scratch);
        const p = await openMysqlPersistence({ ...scratch, numHistoryShards: 1 });
        try {
          assert.deepEqual(await p.portal.listViews('id-orders', { type: 'user', id: 'u-ann' }, 10), [
            { namespaceId: 'id-orders', owner: { type: 'user', id: 'u-ann' }, name: 'by ann', query: 'q1', savedBy: 'ann@EXAMPLE.com', updatedAt: T0 },
          ]);
          assert.deepEqual((await p.portal.listViews('id-orders', { type: 'serviceAccount', id: 'sa-ci' }, 10)).map((v) => v.name), ['by ci']);
        } finally {
          await p.close();
        }
      });
    });

    describe('round trips (pipelined transactions)', () => {
      /** Round trips and statements `body` sent to MySQL (this process counts them all; the tests of a file run one at a time). */
      const traffic = async (body: () => Promise<unknown>): Promise<{ roundTrips: number; statements: number }> => {
        const before = mysqlTraffic();
        await body();
        const after = mysqlTraffic();
        return { roundTrips: after.roundTrips - before.roundTrips, statements: after.statements - before.statements };
      };
      const update = (key: ReturnType<typeof runKey>, expectedDbVersion: number, from: number, to: number, taskIds: number[]): ShardCommit => ({
        shardId: 1,
        rangeId: 1,
        update: {
          key,
          state: `v${expectedDbVersion + 1}`,
          nextEventId: to + 1,
          events: events(from, to),
          expectedDbVersion,
          upsertItems: [item('activity', `a${from}`)],
          deleteItems: expectedDbVersion > 1 ? [{ kind: 'activity', id: `a${from - 2}` }] : [],
        },
        tasks: taskIds.map((id) => transferTask(id, key)),
      });

      it('a commit whose conditions hold is one round trip (a start, an update with events, items and tasks); so are a usage fold and a task ack', async () => {
        const p = await openEmpty({ poolSize: 1 });
        try {
          const key = runKey('run-1');
          await p.executions.acquireShard(1, 'host-a'); // also opens the pool's one connection
          assert.equal((await traffic(() => p.executions.commit({ ...startCommit(1, 1, key), tasks: [transferTask(1, key), task(4, 0, 2, key)] }))).roundTrips, 1);
          assert.equal((await traffic(() => p.executions.commit(update(key, 1, 4, 5, [3])))).roundTrips, 1);
          assert.equal((await traffic(() => p.executions.commit(update(key, 2, 6, 8, [4, 5])))).roundTrips, 1);
          const fold = await traffic(() => p.executions.foldUsageTasks(1, 1, [{ task: { categoryId: 4, fireAt: 0, taskId: 2 }, increments: [{ namespaceId: 'ns', hourStart: 0, recordType: 'signal', amount: 1 }] }]));
          assert.equal(fold.roundTrips, 1);
          const ack = await traffic(() => p.executions.deleteTasks(1, [1, 3, 4].map((taskId) => ({ categoryId: TRANSFER, fireAt: 0, taskId }))));
          assert.equal(ack.roundTrips, 1);
          assert.ok(ack.statements > 1, 'several statements in that one round trip');
          const stored = await snapshot(p.executions, 1, key);
          assert.equal(stored.execution?.dbVersion, 3);
          assert.deepEqual(stored.history, events(1, 8));
          assert.deepEqual(stored.tasks[TRANSFER]?.map((t) => t.taskId), [5]);
          assert.deepEqual(stored.execution?.items.map((i) => i.id), ['a6'], 'a4 was deleted by the second update');
        } finally {
          await p.close();
        }
      });

      it('a lost condition: the one-packet attempt rolls back, the reads run again and report the exact error; nothing is written', async () => {
        const p = await openEmpty({ poolSize: 1 });
        try {
          const key = runKey('run-1');
          await p.executions.acquireShard(1, 'host-a');
          await p.executions.commit(startCommit(1, 1, key));
          const before = await snapshot(p.executions, 1, key);
          let error: unknown;
          const lost = await traffic(() => p.executions.commit(update(key, 7, 4, 5, [9])).catch((err: unknown) => (error = err)));
          assert.ok(error instanceof ConditionFailedError, String(error));
          assert.match(error.message, /: db version is 1, the update expected db version 7$/);
          // attempt, ROLLBACK, reads, ROLLBACK
          assert.equal(lost.roundTrips, 4);
          assert.deepEqual(await snapshot(p.executions, 1, key), before);
          await p.executions.acquireShard(1, 'host-b');
          await assert.rejects(p.executions.commit(update(key, 1, 4, 5, [9])), ShardOwnershipLostError);
          assert.deepEqual(await snapshot(p.executions, 1, key), before);
        } finally {
          await p.close();
        }
      });

      it('a write failing in the middle of the packet (a duplicate task id) writes nothing, and the connection serves the next commit', async () => {
        const p = await openEmpty({ poolSize: 1 });
        try {
          const key = runKey('run-1');
          await p.executions.acquireShard(1, 'host-a');
          await p.executions.commit({ ...startCommit(1, 1, key), tasks: [transferTask(7, key)] });
          const before = await snapshot(p.executions, 1, key);
          // The state UPDATE, item and event INSERTs run before the task INSERT fails.
          const err = await rejection(p.executions.commit(update(key, 1, 4, 5, [8, 7])), InvariantViolationError);
          assert.equal(err.message, 'a task of [8, 7] already exists in shard 1');
          assert.deepEqual(await snapshot(p.executions, 1, key), before);
          await p.executions.commit(update(key, 1, 4, 5, [8]));
          assert.deepEqual((await p.executions.readHistory(1, key, 1, 100, 100)).map((e) => e.eventId), [1, 2, 3, 4, 5]);
        } finally {
          await p.close();
        }
      });

      it('task queues: a lease, a backlog write while the lease holds and a delete are one round trip each; a duplicate task id writes nothing', async () => {
        const p = await openEmpty({ poolSize: 1 });
        try {
          const key = queueKey('tq');
          const row = (taskId: number) => ({ taskId, data: `task ${taskId}`, expiresAt: 0 });
          await p.taskQueues.listTasks(key, 0, 1); // opens the cluster pool's connection
          assert.equal((await traffic(() => p.taskQueues.leaseTaskQueue(key))).roundTrips, 1);
          assert.equal((await traffic(() => p.taskQueues.createTasks(key, 1, [row(1), row(2)]))).roundTrips, 1);
          const err = await rejection(p.taskQueues.createTasks(key, 1, [row(3), row(2)]), InvariantViolationError);
          assert.equal(err.message, `task queue tq (namespace ${key.namespaceId}, workflow, normal, partition 0): a task id of [3, 2] already exists`);
          assert.equal((await traffic(() => p.taskQueues.deleteTasks(key, [1]))).roundTrips, 1);
          assert.deepEqual((await p.taskQueues.listTasks(key, 0, 10)).map((t) => t.taskId), [2]);
        } finally {
          await p.close();
        }
      });

      it('the connection lost while a commit packet is in flight: MysqlConnectionError saying the outcome is unknown, all or nothing written, and the next commit works', async () => {
        await truncateAll();
        // A proxy in front of MariaDB whose sockets the test cuts.
        const sockets = new Set<Socket>();
        const proxy = createServer((client) => {
          const upstream = connect(PORT, HOST);
          const close = () => {
            client.destroy();
            upstream.destroy();
          };
          for (const socket of [client, upstream]) {
            sockets.add(socket);
            socket.on('error', close).on('close', close);
          }
          client.pipe(upstream).pipe(client);
        });
        await new Promise<void>((resolve) => proxy.listen(0, HOST, resolve));
        const via = `root@${HOST}:${(proxy.address() as { port: number }).port}`;
        const p = await openMysqlPersistence({ clusterDsn: dsn(CLUSTER_DB, via), shardDsns: SHARD_DBS.map((db) => dsn(db, via)), numHistoryShards: 128, poolSize: 1 });
        const holder = await createConnection({ host: HOST, port: PORT, user: 'root', database: SHARD_DBS[1] });
        try {
          const key = runKey('run-1');
          await p.executions.acquireShard(1, 'host-a');
          await p.executions.commit(startCommit(1, 1, key));
          const before = await snapshot(p.executions, 1, key);
          // Another session holds the execution row: the commit's packet waits at its FOR UPDATE.
          await holder.query('START TRANSACTION');
          await holder.query('SELECT db_version FROM executions WHERE shard_id = 1 FOR UPDATE');
          const pending = p.executions.commit(update(key, 1, 4, 5, [9])).then(
            () => undefined,
            (err: unknown) => err,
          );
          await eventually(async () => {
            const [row] = await select<{ n: number }>(
              `SELECT COUNT(*) AS n FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.db = ?`,
              [SHARD_DBS[1]],
            );
            return Number(row?.n ?? 0) >= 1;
          }, { intervalMs: 150 });
          for (const socket of sockets) socket.destroy();
          const err = await pending;
          assert.ok(err instanceof MysqlConnectionError, String(err));
          assert.match(err.message, /the outcome of the commit is unknown$/);
          await holder.query('ROLLBACK');
          // The server may still run the packet to its end once the lock is free: all of it or
          // none. Wait until the cut session's transaction is over either way.
          await eventually(async () => {
            const [row] = await select<{ n: number }>(
              `SELECT COUNT(*) AS n FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE p.db = ?`,
              [SHARD_DBS[1]],
            );
            return Number(row?.n ?? 0) === 0;
          }, { intervalMs: 150 });
          const after = await snapshot(p.executions, 1, key);
          if (after.execution?.dbVersion === 1) assert.deepEqual(after, before);
          else assert.deepEqual([after.execution?.dbVersion, after.history.length, after.tasks[TRANSFER]?.map((t) => t.taskId)], [2, 5, [9]]);
          await p.executions.commit(update(key, after.execution!.dbVersion, after.execution!.nextEventId, after.execution!.nextEventId, [10]));
        } finally {
          await holder.end();
          await p.close();
          proxy.close();
        }
      });

      it('a commit larger than one packet is split (COMMIT in the last) and reads back exactly', async () => {
        const p = await openEmpty({ poolSize: 1 });
        try {
          const key = runKey('run-1');
          await p.executions.acquireShard(1, 'host-a');
          await p.executions.commit(startCommit(1, 1, key));
          // Three events of 2 MiB: 4 MiB each as hex, one statement and one packet each.
          const big = [4, 5, 6].map((eventId) => ({ eventId, data: new Uint8Array(2 * 1024 * 1024).map((_, i) => (i * eventId) & 0xff) }));
          const sent = await traffic(() =>
            p.executions.commit({ shardId: 1, rangeId: 1, update: { key, state: 'big', nextEventId: 7, events: big, expectedDbVersion: 1, upsertItems: [], deleteItems: [] }, tasks: [transferTask(1, key)] }),
          );
          assert.ok(sent.roundTrips >= 3, `split into ${sent.roundTrips} packets`);
          const history = await p.executions.readHistory(1, key, 4, 7, 10);
          assert.deepEqual(history.map((e) => e.eventId), [4, 5, 6]);
          for (const [i, event] of history.entries()) assert.ok(Buffer.from(event.data).equals(Buffer.from(big[i]!.data)), `event ${event.eventId} intact`);
          assert.equal((await p.executions.getExecution(1, key))?.dbVersion, 2);
        } finally {
          await p.close();
        }
      });

      it('values travel exactly as text: quotes, backslashes, NUL and non-ASCII in strings, every byte value in events, the largest safe integer; a larger one is refused before anything is sent', async () => {
        const p = await openEmpty({ poolSize: 1 });
        try {
          const awkward = "it's \\ a \"test\" \u0000 \n\r\t \u001a ? ?? é 😀 ' OR 1=1; --";
          const key = runKey(`run-${awkward}`, `wf-${awkward}`);
          const bytes = new Uint8Array(256).map((_, i) => i);
          await p.executions.acquireShard(1, 'host-a');
          await p.executions.commit({
            shardId: 1,
            rangeId: 1,
            create: { key, state: awkward, nextEventId: 2, events: [{ eventId: 1, data: bytes }], upsertItems: [item('activity', awkward, awkward)] },
            current: { namespaceId: key.namespaceId, workflowId: key.workflowId, expectedRunId: null, record: { namespaceId: key.namespaceId, workflowId: key.workflowId, runId: key.runId, createRequestId: awkward, running: true, status: 1, startTime: Number.MAX_SAFE_INTEGER } },
            tasks: [{ ...transferTask(Number.MAX_SAFE_INTEGER, key), data: awkward }],
          });
          const stored = await snapshot(p.executions, 1, key);
          assert.equal(stored.execution?.state, awkward);
          assert.deepEqual(stored.execution?.items, [item('activity', awkward, awkward)]);
          assert.deepEqual(stored.history, [{ eventId: 1, data: bytes }]);
          assert.equal(stored.current?.createRequestId, awkward);
          assert.equal(stored.current?.startTime, Number.MAX_SAFE_INTEGER);
          assert.deepEqual(stored.tasks[TRANSFER]?.map((t) => [t.taskId, t.data]), [[Number.MAX_SAFE_INTEGER, awkward]]);
          const sent = mysqlTraffic().roundTrips;
          const err = await rejection(
            p.executions.commit({ shardId: 1, rangeId: 1, update: { key, state: 'x', nextEventId: 2 ** 53 + 2, events: [], expectedDbVersion: 1, upsertItems: [], deleteItems: [] }, tasks: [] }),
            InvalidArgumentError,
          );
          assert.equal(err.message, `expected an integer, got ${2 ** 53 + 2}`);
          assert.equal(mysqlTraffic().roundTrips, sent, 'refused before anything was sent');
          assert.deepEqual(await snapshot(p.executions, 1, key), stored);
        } finally {
          await p.close();
        }
      });
    });

    describe('concurrency', () => {
      it('20 commits racing on one execution with the same expected version: exactly one wins, history stays contiguous', async () => {
        const p = await openEmpty({ poolSize: 25 });
        try {
          const key = runKey('run-1');
          await p.executions.acquireShard(1, 'host-a');
          await p.executions.commit(startCommit(1, 1, key));
          const results = await Promise.allSettled(
            Array.from({ length: 20 }, (_, i) =>
              p.executions.commit({
                shardId: 1,
                rangeId: 1,
                update: {
                  key,
                  state: `writer ${i}`,
                  nextEventId: 6,
                  events: events(4, 5),
                  expectedDbVersion: 1,
                  upsertItems: [item('activity', '5', `writer ${i}`), item('activity', `a-${i}`)],
                  deleteItems: [],
                },
                tasks: [transferTask(100 + i, key)],
              }),
            ),
          );
          const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
          assert.equal(winners.length, 1, `exactly one commit succeeds, got ${winners.length}`);
          for (const r of results) {
            if (r.status === 'rejected') assert.ok(r.reason instanceof ConditionFailedError, String(r.reason));
          }
          const winner = winners[0]!;
          const stored = await p.executions.getExecution(1, key);
          assert.deepEqual({ ...stored, items: [] }, { ...key, state: `writer ${winner}`, items: [], nextEventId: 6, dbVersion: 2 });
          assert.deepEqual(
            stored?.items.sort((a, b) => a.id.localeCompare(b.id)),
            [item('activity', `a-${winner}`), item('activity', '5', `writer ${winner}`)].sort((a, b) => a.id.localeCompare(b.id)),
          );
          assert.deepEqual(await p.executions.readHistory(1, key, 1, 1000, 1000), events(1, 5));
          assert.deepEqual((await p.executions.listImmediateTasks(1, TRANSFER, 0, 1000)).map((t) => t.taskId), [100 + winner]);
        } finally {
          await p.close();
        }
      });

      it('20 starts racing for one workflow id: one wins, the others see its current record', async () => {
        const p = await openEmpty({ poolSize: 25 });
        try {
          await p.executions.acquireShard(2, 'host-a');
          const results = await Promise.allSettled(
            Array.from({ length: 20 }, (_, i) => p.executions.commit(startCommit(2, 1, runKey(`run-${i}`)))),
          );
          const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
          assert.equal(winners.length, 1);
          const current = await p.executions.getCurrentExecution(2, runKey('x').namespaceId, 'wf-1');
          assert.equal(current?.runId, `run-${winners[0]}`);
          for (const [i, r] of results.entries()) {
            if (r.status === 'fulfilled') continue;
            assert.ok(r.reason instanceof CurrentExecutionConditionFailedError, String(r.reason));
            assert.deepEqual(r.reason.actual, current);
            assert.equal(await p.executions.getExecution(2, runKey(`run-${i}`)), undefined);
          }
        } finally {
          await p.close();
        }
      });

      it('an id longer than the schema allows is InvalidArgumentError and writes nothing', async () => {
        const p = await openEmpty();
        try {
          await p.executions.acquireShard(1, 'host-a');
          const key = runKey('run-1', 'w'.repeat(3000));
          await rejection(p.executions.commit(startCommit(1, 1, key)), InvalidArgumentError);
          assert.deepEqual(await p.executions.listImmediateTasks(1, TRANSFER, 0, 10), []);
          const [row] = await select<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${SHARD_DBS[1]}\`.current_executions`);
          assert.equal(Number(row?.n), 0);
        } finally {
          await p.close();
        }
      });
    });
  });
} else if (process.env.CI === 'true') {
  describe('mysql persistence', () => {
    it(`needs MySQL at ${HOST}:${PORT}`, () => {
      assert.fail(`CI=true but no MySQL answers at ${HOST}:${PORT} as root (${probe.reason}); .ci/run starts MariaDB: is it installed?`);
    });
  });
} else {
  console.warn(
    [
      '',
      '#'.repeat(78),
      `# SKIPPING the MySQL persistence tests: no MySQL at ${HOST}:${PORT} (${probe.reason}).`,
      '# Start MariaDB (root, no password) to run them; under CI=true this is a failure.',
      '#'.repeat(78),
      '',
    ].join('\n'),
  );
  describe('mysql persistence', () => {
    it(`runs against MySQL at ${HOST}:${PORT}`, { skip: `no MySQL at ${HOST}:${PORT}: ${probe.reason}` }, () => undefined);
  });
}

/** An audit record the tests write; they set its id. */
const AUDIT = {
  accountId: 'acct1',
  time: 1,
  operation: 'CreateAccount',
  principal: { type: 'operator' as const, id: 'op', name: 'ops', apiKeyId: 'k-op' },
  status: 'OK' as const,
  details: '{}',
  xForwardedFor: '',
  asyncOperationId: '',
};

/**
 * Test registration is synchronous, so the server is probed synchronously, from a child process.
 */
function probeMysql(): { ok: true } | { ok: false; reason: string } {
  const script = `
    require(${JSON.stringify(require.resolve('mysql2/promise'))})
      .createConnection({ host: ${JSON.stringify(HOST)}, port: ${PORT}, user: 'root', connectTimeout: 3000 })
      .then((c) => c.end())
      .then(() => process.exit(0), (e) => { process.stderr.write(String(e.code || e.message)); process.exit(1); });`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
  if (result.status === 0) return { ok: true };
  return { ok: false, reason: result.stderr.trim() || result.error?.message || `probe exited with ${result.status}` };
}

/** A port nothing listens on: bind one, then release it. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

/** Polls `condition` every `intervalMs` until it holds, failing after `timeoutMs`. */
async function eventually(condition: () => Promise<boolean>, { timeoutMs = 5000, intervalMs = 20 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Awaits a rejection of the given type and returns the error for further checks. */
async function rejection<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E, what = ''): Promise<E> {
  try {
    const value = await promise;
    // A store opened by mistake must not keep the process alive.
    if (value && typeof (value as Persistence).close === 'function') await (value as Persistence).close();
  } catch (err) {
    assert.ok(err instanceof type, `${what}: expected ${type.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    return err;
  }
  return assert.fail(`${what}: expected ${type.name}, but the call succeeded`);
}
