import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Clock } from '@hourglass/common';
import { preAccountNamespace, runKey, startCommit, withAccountDefaults } from '../contract/fixtures';
import { runIdentityContract, runStoreContract, runVisibilityContract, visibilityRecord } from '../contract/store-contract';
import { SchemaVersionTooNewError, StoreInUseError, StoreMismatchError } from '../errors';
import type { NamespaceRecord } from '../types';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate, readSchemaVersion } from './migrations';
import { openSqlitePersistence } from './sqlite-persistence';
import { WalSync, WalSyncFailedError } from './wal-sync';

const T0 = 1_700_000_000_000;

function namespace(name: string): NamespaceRecord {
  return {
    id: `id-${name}`,
    name,
    accountId: 'acct1',
    resourceVersion: 1,
    limits: {},
    state: 'registered',
    description: '',
    ownerEmail: '',
    retentionMs: 1000,
    data: {},
    createdAt: T0,
    updatedAt: T0,
  };
}

/** Reads or pokes a closed store's file directly, bypassing the persistence layer. */
function withRawDb<T>(file: string, body: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return body(db);
  } finally {
    db.close();
  }
}

describe('sqlite persistence', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hourglass-sqlite-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const freshFile = (): string => path.join(dir, `store-${++files}.db`);

  runStoreContract('sqlite :memory:', async () => openSqlitePersistence({ path: ':memory:' }));
  runStoreContract('sqlite file', async () => openSqlitePersistence({ path: freshFile() }));
  runIdentityContract('sqlite :memory:', async () => openSqlitePersistence({ path: ':memory:' }));
  runIdentityContract('sqlite file', async () => openSqlitePersistence({ path: freshFile() }));
  runVisibilityContract('sqlite :memory:', async () => openSqlitePersistence({ path: ':memory:' }));

  it('keeps data across close and reopen of a file', async () => {
    const file = freshFile();
    const first = openSqlitePersistence({ path: file });
    await first.namespaces.createNamespace(namespace('orders'));
    const shard = await first.executions.acquireShard(1, 'host-a');
    await first.close();

    const second = openSqlitePersistence({ path: file });
    try {
      assert.deepEqual(await second.namespaces.getNamespaceByName('orders'), namespace('orders'));
      assert.deepEqual(await second.executions.getShard(1), shard);
      assert.equal((await second.executions.acquireShard(1, 'host-b')).rangeId, 2);
    } finally {
      await second.close();
    }
  });

  it('creates missing parent directories and switches the file to WAL', async () => {
    const file = path.join(dir, 'nested', 'deeper', 'store.db');
    await openSqlitePersistence({ path: file }).close();
    assert.equal(withRawDb(file, (db) => db.pragma('journal_mode', { simple: true })), 'wal');
  });

  it('reopening a migrated file applies nothing again', async () => {
    const file = freshFile();
    await openSqlitePersistence({ path: file }).close();
    assert.equal(withRawDb(file, readSchemaVersion), LATEST_SCHEMA_VERSION);
    // Re-running the initial migration would fail on CREATE TABLE, so a clean reopen proves idempotency.
    const reopened = openSqlitePersistence({ path: file });
    await reopened.close();
    assert.equal(withRawDb(file, readSchemaVersion), LATEST_SCHEMA_VERSION);
  });

  it('applies only the migrations newer than the stored version', async () => {
    const file = freshFile();
    await openSqlitePersistence({ path: file }).close();
    const next = {
      version: LATEST_SCHEMA_VERSION + 1,
      description: 'test step',
      up: (db: Database.Database) => db.exec('CREATE TABLE extra (x)'),
    };
    withRawDb(file, (db) => migrate(db, [...MIGRATIONS, next]));
    withRawDb(file, (db) => {
      assert.equal(readSchemaVersion(db), LATEST_SCHEMA_VERSION + 1);
      assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'extra'").pluck().get(), 1);
    });
  });

  it('brings a version 1 file to the current schema: tasks move to history_tasks, state is kept', async () => {
    const file = freshFile();
    withRawDb(file, (db) => {
      migrate(db, MIGRATIONS.slice(0, 1));
      // What a version 1 build wrote: a run with its whole state in one blob, history, both task tables.
      const run = [1, 'ns', 'wf', 'run'];
      db.prepare("INSERT INTO shards VALUES (1, 3, 'old-host', 1, 62)").run();
      db.prepare(`INSERT INTO executions VALUES (?, ?, ?, ?, '{"v1":"whole state"}', 3, 7)`).run(...run);
      for (const id of [1, 2]) db.prepare('INSERT INTO history_events VALUES (?, ?, ?, ?, ?, ?)').run(...run, id, Buffer.from([id]));
      for (const id of [60, 62]) db.prepare("INSERT INTO transfer_tasks VALUES (?, ?, ?, ?, ?, 'WorkflowTask', '{}')").run(1, id, ...run.slice(1));
      db.prepare("INSERT INTO timer_tasks VALUES (1, 1000, 61, ?, ?, ?, 'UserTimer', '{}')").run(...run.slice(1));
    });
    const p = openSqlitePersistence({ path: file });
    try {
      const key = { namespaceId: 'ns', workflowId: 'wf', runId: 'run' };
      const task = (categoryId: number, fireAt: number, taskId: number, type: string) => ({ categoryId, fireAt, taskId, ...key, type, data: '{}' });
      assert.deepEqual(await p.executions.getExecution(1, key), { ...key, state: '{"v1":"whole state"}', items: [], nextEventId: 3, dbVersion: 7 });
      assert.deepEqual(await p.executions.listImmediateTasks(1, 1, 0, 10), [task(1, 0, 60, 'WorkflowTask'), task(1, 0, 62, 'WorkflowTask')]);
      assert.deepEqual(await p.executions.listScheduledTasks(1, 2, 2000, 10), [task(2, 1000, 61, 'UserTimer')]);
      assert.equal(await p.executions.maxTaskId(1), 62);
      await p.executions.commit({
        shardId: 1,
        rangeId: 3,
        update: { key, state: 'v2', nextEventId: 3, events: [], expectedDbVersion: 7, upsertItems: [{ kind: 'activity', id: '1', data: 'a' }], deleteItems: [] },
        tasks: [],
      });
      assert.deepEqual((await p.executions.getExecution(1, key))?.items, [{ kind: 'activity', id: '1', data: 'a' }]);
    } finally {
      await p.close();
    }
    withRawDb(file, (db) => {
      const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
      assert.ok(!tables.includes('transfer_tasks') && !tables.includes('timer_tasks'), tables.join(', '));
    });
  });

  it("brings a version 9 file to the latest version: each run's history and items keyed by its number, deletion still takes them", async () => {
    const file = freshFile();
    const runs = ['run-a', 'run-b'];
    withRawDb(file, (db) => {
      migrate(db, MIGRATIONS.slice(0, 9));
      db.prepare("INSERT INTO shards VALUES (1, 3, 'old-host', 1, 0)").run();
      for (const runId of runs) {
        const run = [1, 'ns', 'wf', runId];
        db.prepare("INSERT INTO executions VALUES (?, ?, ?, ?, 'state', 3, 1)").run(...run);
        for (const id of [1, 2]) db.prepare('INSERT INTO history_events VALUES (?, ?, ?, ?, ?, ?)').run(...run, id, Buffer.from(`${runId}-${id}`));
        db.prepare("INSERT INTO execution_items VALUES (?, ?, ?, ?, 'activity', '5', ?)").run(...run, `item of ${runId}`);
      }
    });
    const key = (runId: string) => ({ namespaceId: 'ns', workflowId: 'wf', runId });
    const p = openSqlitePersistence({ path: file });
    try {
      for (const runId of runs) {
        assert.deepEqual(await p.executions.getExecution(1, key(runId)), { ...key(runId), state: 'state', items: [{ kind: 'activity', id: '5', data: `item of ${runId}` }], nextEventId: 3, dbVersion: 1 });
        const history = await p.executions.readHistory(1, key(runId), 1, 100, 100);
        assert.deepEqual(history.map((e) => [e.eventId, Buffer.from(e.data).toString()]), [[1, `${runId}-1`], [2, `${runId}-2`]]);
      }
      // Appends and item changes after the migration, then a deletion that must cascade through the new keys.
      await p.executions.commit({
        shardId: 1,
        rangeId: 3,
        update: { key: key('run-a'), state: 'v2', nextEventId: 4, events: [{ eventId: 3, data: Buffer.from('run-a-3') }], expectedDbVersion: 1, upsertItems: [{ kind: 'timer', id: 't', data: 'x' }], deleteItems: [{ kind: 'activity', id: '5' }] },
        tasks: [],
      });
      assert.deepEqual((await p.executions.getExecution(1, key('run-a')))?.items, [{ kind: 'timer', id: 't', data: 'x' }]);
      assert.equal((await p.executions.readHistory(1, key('run-a'), 1, 100, 100)).length, 3);
      await p.executions.commit({ shardId: 1, rangeId: 3, deletion: { key: key('run-a'), expectedDbVersion: 2 }, tasks: [] });
      assert.equal(await p.executions.getExecution(1, key('run-a')), undefined);
      assert.deepEqual(await p.executions.readHistory(1, key('run-a'), 1, 100, 100), []);
      assert.equal((await p.executions.readHistory(1, key('run-b'), 1, 100, 100)).length, 2, 'the other run keeps its history');
    } finally {
      await p.close();
    }
    withRawDb(file, (db) => {
      assert.deepEqual(db.prepare('SELECT run_seq, count(*) AS n FROM history_events GROUP BY run_seq').all(), [{ run_seq: 2, n: 2 }], "only run-b's events are left");
      assert.equal(db.prepare('SELECT count(*) FROM execution_items').pluck().get(), 1, "only run-b's item is left");
      assert.deepEqual(db.pragma('foreign_key_check'), []);
      const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%_v10'").pluck().all();
      assert.deepEqual(tables, []);
    });
  });

  it('brings a version 2 file to the latest version: namespaces are kept, with their account when their JSON has one', async () => {
    const file = freshFile();
    withRawDb(file, (db) => {
      migrate(db, MIGRATIONS.slice(0, 2));
      const insert = db.prepare('INSERT INTO namespaces (id, name, data) VALUES (?, ?, ?)');
      insert.run('id-old', 'old', JSON.stringify(preAccountNamespace('old')));
      // Written by a build of this branch before the migration: the account is in the JSON only.
      insert.run('id-branch', 'branch', JSON.stringify(namespace('branch')));
    });
    const p = openSqlitePersistence({ path: file });
    try {
      assert.deepEqual(await p.namespaces.getNamespaceByName('old'), withAccountDefaults(preAccountNamespace('old')));
      assert.deepEqual(await p.namespaces.getNamespaceById('id-branch'), namespace('branch'));
      assert.deepEqual((await p.identity.listNamespacesOfAccount('acct1', { pageSize: 10 })).items, [namespace('branch')]);
      assert.deepEqual((await p.identity.listNamespacesOfAccount('', { pageSize: 10 })).items, [withAccountDefaults(preAccountNamespace('old'))]);
      assert.deepEqual((await p.namespaces.listNamespaces({ pageSize: 10 })).items.map((n) => n.name), ['branch', 'old']);
    } finally {
      await p.close();
    }
    assert.equal(withRawDb(file, readSchemaVersion), LATEST_SCHEMA_VERSION);
  });

  it('brings a version 3 file to the latest version: the visibility table exists and takes records', async () => {
    const file = freshFile();
    withRawDb(file, (db) => migrate(db, MIGRATIONS.slice(0, 3)));
    const p = openSqlitePersistence({ path: file });
    try {
      const record = visibilityRecord('run-1', 2);
      await p.visibility.upsert([record]);
      assert.deepEqual(await p.visibility.get(record.namespaceId, 'run-1'), record);
    } finally {
      await p.close();
    }
    assert.equal(withRawDb(file, readSchemaVersion), LATEST_SCHEMA_VERSION);
  });

  it('brings a version 6 file to the latest version: each shared saved view goes to whoever saved it, else to the account owners, else stays unassigned', async () => {
    const file = freshFile();
    withRawDb(file, (db) => {
      migrate(db, MIGRATIONS.slice(0, 6));
      db.prepare('INSERT INTO namespaces (id, name, data, account_id) VALUES (?, ?, ?, ?)').run('id-orders', 'orders', JSON.stringify(namespace('orders')), 'acct1');
      const user = db.prepare('INSERT INTO users (account_id, id, active_email, deleted, resource_version, data) VALUES (?, ?, ?, ?, 1, ?)');
      const userData = (id: string, email: string, role: string, deleted: boolean) =>
        JSON.stringify({ id, resourceVersion: 1, createdAt: T0, updatedAt: T0, accountId: 'acct1', email, role, deleted });
      user.run('acct1', 'u-ann', 'ann@example.com', 0, userData('u-ann', 'Ann@Example.com', 'developer', false));
      user.run('acct1', 'u-boss', 'boss@example.com', 0, userData('u-boss', 'boss@example.com', 'owner', false));
      user.run('acct1', 'u-gone', null, 1, userData('u-gone', 'gone@example.com', 'developer', true));
      user.run('acct2', 'u-other', 'ci', 0, userData('u-other', 'ci', 'owner', false));
      db.prepare('INSERT INTO service_accounts (account_id, id, deleted, resource_version, data) VALUES (?, ?, 0, 1, ?)').run(
        'acct1',
        'sa-ci',
        JSON.stringify({ id: 'sa-ci', resourceVersion: 1, createdAt: T0, updatedAt: T0, accountId: 'acct1', name: 'ci', description: '', role: 'developer', deleted: false }),
      );
      const view = db.prepare('INSERT INTO portal_saved_views (namespace_id, name, query, saved_by, updated_at) VALUES (?, ?, ?, ?, ?)');
      view.run('id-orders', 'by ann', 'q1', 'ann@EXAMPLE.com', T0);
      view.run('id-orders', 'by ci', 'q2', 'ci', T0 + 1);
      view.run('id-orders', 'by a deleted user', 'q3', 'gone@example.com', T0 + 2);
      // A namespace row that is gone (or of no account): nobody to give the view to.
      view.run('id-vanished', 'orphan', 'q4', 'ann@example.com', T0 + 3);
    });
    const p = openSqlitePersistence({ path: file });
    try {
      const names = async (namespaceId: string, type: 'user' | 'serviceAccount', id: string) =>
        (await p.portal.listViews(namespaceId, { type, id }, 10)).map((v) => `${v.name}: ${v.query} (${v.savedBy})`);
      assert.deepEqual(await p.portal.listViews('id-orders', { type: 'user', id: 'u-ann' }, 10), [
        { namespaceId: 'id-orders', owner: { type: 'user', id: 'u-ann' }, name: 'by ann', query: 'q1', savedBy: 'ann@EXAMPLE.com', updatedAt: T0 },
      ]);
      assert.deepEqual(await names('id-orders', 'serviceAccount', 'sa-ci'), ['by ci: q2 (ci)']);
      // The user who saved it is deleted: the account's owner gets it (and the user in another account named ci nothing).
      assert.deepEqual(await names('id-orders', 'user', 'u-boss'), ['by a deleted user: q3 (gone@example.com)']);
      assert.deepEqual(await names('id-orders', 'user', 'u-gone'), []);
      assert.deepEqual(await names('id-orders', 'user', 'u-other'), []);
      assert.deepEqual(await names('id-vanished', 'user', 'u-ann'), []);
      // The new key: Ann may now save a view named like the owner's.
      await p.portal.saveView({ namespaceId: 'id-orders', owner: { type: 'user', id: 'u-ann' }, name: 'by a deleted user', query: 'mine', savedBy: 'ann@example.com', updatedAt: T0 + 9 });
      assert.deepEqual(await names('id-orders', 'user', 'u-boss'), ['by a deleted user: q3 (gone@example.com)']);
    } finally {
      await p.close();
    }
    assert.equal(withRawDb(file, readSchemaVersion), LATEST_SCHEMA_VERSION);
    // Nothing is lost: the unassigned view is still there, owned by nobody.
    assert.deepEqual(
      withRawDb(file, (db) => db.prepare('SELECT owner_type, owner_id, name FROM portal_saved_views WHERE namespace_id = ?').all('id-vanished')),
      [{ owner_type: '', owner_id: '', name: 'orphan' }],
    );
  });

  it('a namespace row in the shape written before accounts reads with the defaults, and gets an account when updated', async () => {
    const file = freshFile();
    await openSqlitePersistence({ path: file }).close();
    withRawDb(file, (db) => db.prepare('INSERT INTO namespaces (id, name, data) VALUES (?, ?, ?)').run('id-old', 'old', JSON.stringify(preAccountNamespace('old'))));
    const p = openSqlitePersistence({ path: file });
    try {
      const old = await p.namespaces.getNamespaceById('id-old');
      assert.deepEqual(old, withAccountDefaults(preAccountNamespace('old')));
      await p.namespaces.updateNamespace({ ...withAccountDefaults(preAccountNamespace('old')), accountId: 'acct7', updatedAt: T0 + 1 });
      assert.deepEqual((await p.identity.listNamespacesOfAccount('acct7', { pageSize: 10 })).items.map((n) => n.id), ['id-old']);
      assert.deepEqual((await p.identity.listNamespacesOfAccount('', { pageSize: 10 })).items, []);
    } finally {
      await p.close();
    }
  });

  it('refuses a database whose schema version is newer than this build supports', async () => {
    const file = freshFile();
    await openSqlitePersistence({ path: file }).close();
    const newer = LATEST_SCHEMA_VERSION + 5;
    withRawDb(file, (db) => db.prepare('UPDATE schema_version SET version = ?').run(newer));
    assert.throws(() => openSqlitePersistence({ path: file }), (err: unknown) => {
      assert.ok(err instanceof SchemaVersionTooNewError);
      assert.equal(err.message, `database schema version ${newer} is newer than this build supports (${LATEST_SCHEMA_VERSION})`);
      return true;
    });
    // Refusing must not have touched the stored version.
    assert.equal(withRawDb(file, readSchemaVersion), newer);
  });

  it('a committed transaction survives SIGKILL of the writing process', async () => {
    const file = freshFile();
    const child = `
      const { openSqlitePersistence } = require(${JSON.stringify(path.join(__dirname, 'sqlite-persistence.js'))});
      (async () => {
        const p = openSqlitePersistence({ path: process.argv[1] });
        await p.executions.acquireShard(1, 'doomed');
        const task = { categoryId: 1, fireAt: 0, taskId: 7, namespaceId: 'n', workflowId: 'w', runId: 'r', type: 't', data: '{}' };
        await p.executions.commit({ shardId: 1, rangeId: 1, tasks: [task] });
        process.kill(process.pid, 'SIGKILL');
      })();`;
    const result = spawnSync(process.execPath, ['-e', child, file], { encoding: 'utf8' });
    assert.equal(result.signal, 'SIGKILL', result.stderr);

    const p = openSqlitePersistence({ path: file });
    try {
      assert.equal((await p.executions.getShard(1))?.owner, 'doomed');
      assert.deepEqual((await p.executions.listImmediateTasks(1, 1, 0, 10)).map((t) => t.taskId), [7]);
    } finally {
      await p.close();
    }
  });

  it('acknowledged commits survive SIGKILL across the store\'s own checkpoints and the log\'s reuse', async () => {
    const file = freshFile();
    const child = `
      const { openSqlitePersistence } = require(${JSON.stringify(path.join(__dirname, 'sqlite-persistence.js'))});
      (async () => {
        // A checkpoint after every few rows: the log is copied, synced and reused many times over.
        const p = openSqlitePersistence({ path: process.argv[1], checkpointAfterChanges: 3 });
        await p.executions.acquireShard(1, 'doomed');
        for (let taskId = 1; taskId <= 60; taskId++) {
          const task = { categoryId: 1, fireAt: 0, taskId, namespaceId: 'n', workflowId: 'w', runId: 'r', type: 't', data: '{}' };
          await p.executions.commit({ shardId: 1, rangeId: 1, tasks: [task] });
        }
        process.stdout.write(String(p.walSync.checkpoints));
        process.kill(process.pid, 'SIGKILL');
      })();`;
    const result = spawnSync(process.execPath, ['-e', child, file], { encoding: 'utf8' });
    assert.equal(result.signal, 'SIGKILL', result.stderr);
    assert.ok(Number(result.stdout) >= 10, `checkpoints before the kill: ${result.stdout}`);

    const p = openSqlitePersistence({ path: file });
    try {
      const ids = (await p.executions.listImmediateTasks(1, 1, 0, 100)).map((t) => t.taskId);
      assert.deepEqual(ids, Array.from({ length: 60 }, (_, i) => i + 1));
    } finally {
      await p.close();
    }
  });

  describe('one process per file', () => {
    const MODULE = JSON.stringify(path.join(__dirname, 'sqlite-persistence.js'));
    const inUse = (file: string, pid: number): RegExp =>
      new RegExp(
        `^SQLite file ${escapeRegExp(JSON.stringify(path.resolve(file)))} is in use by another process \\(pid ${pid} on host ${escapeRegExp(os.hostname())}, since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\): stop it, or use another file$`,
      );

    /** Opens `file` in a child process: what it threw, or 'opened'. */
    function openInChild(file: string): { outcome: string; name?: string; message?: string } {
      const script = `
        const { openSqlitePersistence } = require(${MODULE});
        try {
          openSqlitePersistence({ path: process.argv[1] });
          console.log(JSON.stringify({ outcome: 'opened' }));
        } catch (err) {
          console.log(JSON.stringify({ outcome: 'refused', name: err.name, message: err.message }));
        }`;
      const result = spawnSync(process.execPath, ['-e', script, file], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(result.status, 0, result.stderr);
      return JSON.parse(result.stdout) as { outcome: string; name?: string; message?: string };
    }

    it('a second process opening the file is refused, naming the file and the holder, and the holder keeps working', async () => {
      const file = freshFile();
      const holder = openSqlitePersistence({ path: file });
      try {
        const shard = await holder.executions.acquireShard(1, 'holder');
        const refused = openInChild(file);
        assert.equal(refused.outcome, 'refused');
        assert.equal(refused.name, 'StoreInUseError');
        assert.match(refused.message ?? '', inUse(file, process.pid));
        // The refused process touched nothing: the holder still owns its shard and commits.
        assert.deepEqual(await holder.executions.getShard(1), shard);
        const task = { categoryId: 1, fireAt: 0, taskId: 1, namespaceId: 'n', workflowId: 'w', runId: 'r', type: 't', data: '{}' };
        await holder.executions.commit({ shardId: 1, rangeId: shard.rangeId, tasks: [task] });
        assert.deepEqual(await holder.executions.listImmediateTasks(1, 1, 0, 10), [task]);
        // A second open in the same process is refused the same way.
        assert.throws(() => openSqlitePersistence({ path: file }), (err: unknown) => err instanceof StoreInUseError && inUse(file, process.pid).test(err.message));
      } finally {
        await holder.close();
      }
      assert.equal(openInChild(file).outcome, 'opened', 'closing releases the file');
    });

    it('the lock dies with its holder: after SIGKILL the file opens at once, and the new holder is the one named', async () => {
      const file = freshFile();
      const script = `
        const { openSqlitePersistence } = require(${MODULE});
        const p = openSqlitePersistence({ path: process.argv[1] });
        p.executions.acquireShard(1, 'doomed').then(() => console.log('ready'));
        setInterval(() => undefined, 60_000);`;
      const child = spawn(process.execPath, ['-e', script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = once(child, 'exit');
      try {
        let output = '';
        child.stdout.setEncoding('utf8');
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`the holder did not get ready: ${output}`)), 30_000);
          child.stdout.on('data', (chunk: string) => {
            output += chunk;
            if (output.includes('ready')) {
              clearTimeout(timer);
              resolve();
            }
          });
        });
        assert.throws(() => openSqlitePersistence({ path: file }), (err: unknown) => {
          assert.ok(err instanceof StoreInUseError, String(err));
          assert.match(err.message, inUse(file, child.pid!));
          assert.equal(err.owner?.pid, child.pid);
          return true;
        });
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      const p = openSqlitePersistence({ path: file });
      try {
        assert.equal((await p.executions.getShard(1))?.owner, 'doomed');
        assert.equal(openInChild(file).outcome, 'refused');
        assert.match(openInChild(file).message ?? '', inUse(file, process.pid));
      } finally {
        await p.close();
      }
    });

    it(':memory: stores take no lock', async () => {
      const [a, b] = [openSqlitePersistence({ path: ':memory:' }), openSqlitePersistence({ path: ':memory:' })];
      await a.executions.acquireShard(1, 'a');
      assert.equal(await b.executions.getShard(1), undefined, 'each is its own database');
      await Promise.all([a.close(), b.close()]);
    });
  });

  describe('the recorded number of history shards', () => {
    it('a new store records 4 unless told otherwise', async () => {
      for (const [given, recorded] of [[undefined, 4], [8, 8]] as const) {
        const p = openSqlitePersistence({ path: freshFile(), ...(given ? { numHistoryShards: given } : {}) });
        try {
          assert.equal((await p.cluster.getClusterMetadata()).numHistoryShards, recorded);
        } finally {
          await p.close();
        }
      }
    });

    it('a reopen with no count uses the recorded one; the same count works; another is refused naming both', async () => {
      const file = freshFile();
      const clock: Clock = { now: () => T0, wakeAt: () => () => undefined };
      await openSqlitePersistence({ path: file, numHistoryShards: 8, clock }).close();
      for (const numHistoryShards of [undefined, 8]) {
        const p = openSqlitePersistence({ path: file, ...(numHistoryShards ? { numHistoryShards } : {}) });
        try {
          assert.deepEqual(await p.cluster.getClusterMetadata(), { clusterName: 'active', numHistoryShards: 8, createdAt: T0 });
        } finally {
          await p.close();
        }
      }
      for (const numHistoryShards of [4, 16]) {
        assert.throws(() => openSqlitePersistence({ path: file, numHistoryShards }), (err: unknown) => {
          assert.ok(err instanceof StoreMismatchError, String(err));
          assert.equal(
            err.message,
            `this store was created with 8 history shards and that cannot change, but ${numHistoryShards} were asked for: ask for 8 or leave the number unset`,
          );
          return true;
        });
      }
      // A refused open releases the file and leaves the record alone.
      assert.equal(withRawDb(file, (db) => db.prepare('SELECT data FROM cluster_metadata').pluck().get()), JSON.stringify({ clusterName: 'active', numHistoryShards: 8, createdAt: T0 }));
      assert.throws(() => openSqlitePersistence({ path: ':memory:', numHistoryShards: 0 }), /numHistoryShards must be a positive integer, got 0/);
    });
  });

  it('stamps shard acquisitions with the injected clock', async () => {
    const clock: Clock = { now: () => T0 + 42, wakeAt: () => () => undefined };
    const p = openSqlitePersistence({ path: ':memory:', clock });
    try {
      assert.equal((await p.executions.acquireShard(1, 'host-a')).updatedAt, T0 + 42);
    } finally {
      await p.close();
    }
  });

  it("commits queued together (a group commit) each add their own usage: a refused one adds none, the others do", async () => {
    const p = openSqlitePersistence({ path: ':memory:' });
    try {
      const { rangeId } = await p.executions.acquireShard(0, 'host-a');
      const H = 3_600_000;
      const usage = (amount: number) => [{ namespaceId: 'ns-a', hourStart: H, recordType: 'signal', amount }];
      const start = (runId: string, amount: number) => ({ ...startCommit(0, rangeId, runKey(runId, `wf-${runId}`)), usage: usage(amount) });
      // Queued in one turn, they run as one group commit; the second repeats the first run's id.
      const results = await Promise.allSettled([p.executions.commit(start('a', 1)), p.executions.commit(start('a', 10)), p.executions.commit(start('b', 100))]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.deepEqual(await p.executions.readHourlyUsage({ namespaceIds: ['ns-a'], fromMs: 0, toMs: 2 * H }), [{ namespaceId: 'ns-a', hourStart: H, recordType: 'signal', amount: 101 }]);
    } finally {
      await p.close();
    }
  });

  it('close is idempotent', async () => {
    const p = openSqlitePersistence({ path: ':memory:' });
    await p.close();
    await p.close();
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('sqlite query planner statistics', () => {
  /** What ANALYZE recorded for the visibility table's indexes: index name → rows counted. */
  function visibilityStatistics(file: string): Map<string, number> {
    const db = new Database(file, { readonly: true });
    try {
      const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").get() !== undefined;
      if (!hasTable) return new Map();
      const rows = db.prepare("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'visibility_executions'").all() as { idx: string; stat: string }[];
      return new Map(rows.map((r) => [r.idx, Number(r.stat.split(' ')[0])]));
    } finally {
      db.close();
    }
  }

  async function fill(persistence: ReturnType<typeof openSqlitePersistence>, from: number, count: number): Promise<void> {
    const records = Array.from({ length: count }, (_, k) => {
      const i = from + k;
      return i % 3 === 0 ? visibilityRecord(`run-${i}`, 1) : visibilityRecord(`run-${i}`, 1, { status: 2, closeTime: 1_000_000 + i, executionDuration: 1 });
    });
    await persistence.visibility.upsert(records);
  }

  it('are gathered at open and refreshed as tables grow, so list filters are planned on the indexes that serve their order', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hg-stats-'));
    const file = path.join(dir, 'hourglass.db');
    try {
      let persistence = openSqlitePersistence({ path: file });
      await fill(persistence, 0, 2000);
      await persistence.close();
      assert.equal(visibilityStatistics(file).size, 0, 'statistics existed before any refresh');
      // Opening a store whose tables have no statistics gathers them.
      persistence = openSqlitePersistence({ path: file });
      await persistence.close();
      const atOpen = visibilityStatistics(file);
      assert.equal(atOpen.get('visibility_executions_status'), 2000);
      assert.equal(atOpen.get('visibility_executions_close'), 2000);
      // A table that grew many times over is analysed again by the periodic refresh.
      persistence = openSqlitePersistence({ path: file });
      await fill(persistence, 2000, 60_000);
      await (persistence as unknown as { refreshPlannerStatistics(): Promise<void> }).refreshPlannerStatistics();
      await persistence.close();
      assert.equal(visibilityStatistics(file).get('visibility_executions_status'), 62_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite temporary storage', () => {
  it('keeps statement journals and sorts in memory, never in a temporary file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hourglass-sqlite-temp-'));
    const p = openSqlitePersistence({ path: path.join(dir, 'temp.db') });
    try {
      // A multi-row insert or an upsert inside a transaction keeps a statement journal: with
      // temp_store = FILE (SQLite's default) that was a temporary file and ~200 writes a workflow.
      const db = (p as unknown as { db: { pragma(q: string, o: { simple: true }): unknown } }).db;
      assert.equal(db.pragma('temp_store', { simple: true }), 2, 'temp_store is not MEMORY');
    } finally {
      await p.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite durability', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hourglass-sqlite-sync-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const freshFile = (name: string): string => path.join(dir, `${name}.db`);
  const walSyncOf = (p: unknown): WalSync | undefined => (p as { walSync: WalSync | undefined }).walSync;
  it('syncs the write-ahead log after every commit, before the caller is answered, by default; not when asked for normal', async () => {
    const durable = openSqlitePersistence({ path: freshFile('durable') });
    const relaxed = openSqlitePersistence({ path: freshFile('relaxed'), synchronous: 'normal' });
    const memory = openSqlitePersistence({ path: ':memory:' });
    try {
      const sync = walSyncOf(durable);
      assert.ok(sync, 'a durable store on a file syncs its log');
      assert.equal(walSyncOf(relaxed), undefined);
      assert.equal(walSyncOf(memory), undefined, 'a store in memory has no log to sync');
      const before = sync.syncs;
      await durable.namespaces.createNamespace(namespace('synced'));
      // Answered only once the commit was synced: nothing is pending and one more sync completed.
      assert.equal(sync.pending(), false, 'the caller was answered before its commit was synced');
      assert.ok(sync.syncs > before, 'no sync ran for the commit');
      // A read changes nothing and needs no sync.
      const afterWrite = sync.syncs;
      assert.ok(await durable.namespaces.getNamespaceByName('synced'));
      assert.equal(sync.syncs, afterWrite);
    } finally {
      await durable.close();
      await relaxed.close();
      await memory.close();
    }
  });

  it('a checkpoint that cannot run reports the store failed, with what failed', async () => {
    const file = freshFile('failed-checkpoint');
    const db = new Database(file);
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x INTEGER)'); // the log exists from the first write
    const sync = new WalSync(db, file);
    db.close();
    const err = await new Promise<Error | null>((resolve) => sync.checkpoint(resolve));
    sync.close();
    assert.ok(err instanceof WalSyncFailedError, String(err));
    assert.match(err.message, /could not checkpoint its write-ahead log .*restart the server/);
  });

  it('a durable store checkpoints its log itself, off the commits; a normal one leaves it to SQLite', async () => {
    const file = freshFile('checkpointed');
    const durable = openSqlitePersistence({ path: file, checkpointAfterChanges: 5 });
    const relaxed = openSqlitePersistence({ path: freshFile('relaxed-checkpoints'), synchronous: 'normal' });
    const pragma = (p: unknown, name: string): unknown => (p as { db: Database.Database }).db.pragma(name, { simple: true });
    try {
      // SQLite syncs nothing itself and checkpoints never inside a COMMIT; NORMAL and 1,000 pages otherwise.
      assert.equal(pragma(durable, 'synchronous'), 0);
      assert.equal(pragma(durable, 'wal_autocheckpoint'), 0);
      assert.equal(pragma(relaxed, 'synchronous'), 1);
      assert.equal(pragma(relaxed, 'wal_autocheckpoint'), 1000);
      const sync = walSyncOf(durable) as WalSync;
      for (let i = 0; i < 10; i++) await durable.namespaces.createNamespace(namespace(`checkpointed-${i}`));
      await (durable as unknown as { lane: { idle(): Promise<void> } }).lane.idle();
      assert.ok(sync.checkpoints >= 2, `checkpoints: ${sync.checkpoints}`);
    } finally {
      await durable.close();
      await relaxed.close();
    }
    // Closed (SQLite's last checkpoint, synced), every namespace is in the file.
    const reopened = openSqlitePersistence({ path: file });
    try {
      for (let i = 0; i < 10; i++) assert.ok(await reopened.namespaces.getNamespaceByName(`checkpointed-${i}`), `checkpointed-${i}`);
    } finally {
      await reopened.close();
    }
  });
});
