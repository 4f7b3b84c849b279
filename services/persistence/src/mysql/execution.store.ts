import { InvalidArgumentError, InvariantViolationError, type Clock } from '@hourglass/common';
import { checkAppendedEvents, describeRun } from '../store-checks';
import { ConditionFailedError, CurrentExecutionConditionFailedError, ShardOwnershipLostError } from '../errors';
import type {
  CurrentExecutionRecord,
  CurrentExecutionUpdate,
  ExecutionKey,
  ExecutionRecord,
  ExecutionStore,
  ExecutionUpdate,
  ExecutionWrite,
  HistoryEventRow,
  ShardCommit,
  ShardRecord,
  TimerTaskKey,
  TimerTaskRow,
  TransferTaskRow,
} from '../types';
import { DuplicateKeyError } from './errors';
import {
  asBuffer,
  checkLimit,
  describeIds,
  inListChunks,
  insertBatches,
  placeholders,
  toBytes,
  toInt,
  toText,
  type MysqlDatabase,
  type SqlExecutor,
  type SqlParam,
} from './sql';

/** Maps a history shard to the database that holds it: shard s lives in shardDsns[s % N]. */
export class ShardRouter {
  constructor(private readonly databases: readonly MysqlDatabase[], readonly numHistoryShards: number) {}

  databaseFor(shardId: number): MysqlDatabase {
    if (!Number.isSafeInteger(shardId) || shardId < 0 || shardId >= this.numHistoryShards) {
      throw new InvalidArgumentError(
        `shard id ${shardId} is out of range: this cluster has ${this.numHistoryShards} history shards (0..${this.numHistoryShards - 1})`,
      );
    }
    return this.databases[shardId % this.databases.length]!;
  }
}

interface ShardRow {
  shard_id: number;
  range_id: number;
  owner: string;
  updated_at: number;
}

interface CurrentRow {
  run_id: Buffer;
  create_request_id: string;
  running: number;
  status: number;
  start_time: number;
}

interface TaskRow {
  task_id: number;
  namespace_id: Buffer;
  workflow_id: Buffer;
  run_id: Buffer;
  type: string;
  data: string;
}

interface TimerRow extends TaskRow {
  fire_at: number;
}

const RUN_WHERE = 'shard_id = ? AND namespace_id = ? AND workflow_id = ? AND run_id = ?';
const CURRENT_WHERE = 'shard_id = ? AND namespace_id = ? AND workflow_id = ?';
const CURRENT_COLUMNS = 'run_id, create_request_id, running, status, start_time';
const TASK_COLUMNS = 'task_id, namespace_id, workflow_id, run_id, type, data';
/** Per-row overhead beyond the payload, for sizing multi-row INSERTs. */
const ROW_OVERHEAD_BYTES = 256;

/**
 * The execution store over the shard databases. Every write to an execution goes through
 * `commit`: one transaction on the shard's database that
 *
 * 1. reads the shard row `LOCK IN SHARE MODE` and compares range_id (fencing). A shared lock is
 *    enough and lets the owner's commits to different executions of a shard run in parallel:
 *    acquireShard bumps range_id with an exclusive lock, so it waits until every commit that
 *    read the old range_id has finished, and every commit after it reads the new value. An old
 *    owner therefore can never commit after the new owner's acquireShard has returned.
 *    Commits never WRITE the shard row (that would be an S→X upgrade, which deadlocks between two
 *    concurrent commits), which is why the task id high-water mark lives in its own table;
 * 2. locks the current-run pointer (`FOR UPDATE`) and compares it;
 * 3. locks the execution row (`FOR UPDATE`) and compares db_version; every append to a run's
 *    history holds this lock (or inserted the row), so the MAX(event_id) read after it is exact;
 * 4. writes state, history and tasks with multi-row INSERTs; duplicate keys abort it.
 *
 * Locks are always taken in that order (shard, pointer, execution), by deleteExecution too.
 * Anything that throws rolls the whole transaction back. See sql.ts for why READ COMMITTED.
 */
export class MysqlExecutionStore implements ExecutionStore {
  constructor(private readonly shards: ShardRouter, private readonly clock: Clock) {}

  async acquireShard(shardId: number, owner: string): Promise<ShardRecord> {
    const db = this.shards.databaseFor(shardId);
    return db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO shards (shard_id, range_id, owner, updated_at) VALUES (?, 1, ?, ?)
         ON DUPLICATE KEY UPDATE range_id = range_id + 1, owner = VALUES(owner), updated_at = VALUES(updated_at)`,
        [shardId, owner, this.clock.now()],
      );
      // Our own uncommitted row: the upsert's exclusive lock keeps every other writer off it.
      const [row] = await tx.rows<ShardRow>('SELECT shard_id, range_id, owner, updated_at FROM shards WHERE shard_id = ?', [shardId]);
      return toShard(row!);
    });
  }

  async getShard(shardId: number): Promise<ShardRecord | undefined> {
    const db = this.shards.databaseFor(shardId);
    const [row] = await db.rows<ShardRow>('SELECT shard_id, range_id, owner, updated_at FROM shards WHERE shard_id = ?', [shardId]);
    return row && toShard(row);
  }

  async commit(commit: ShardCommit): Promise<void> {
    const db = this.shards.databaseFor(commit.shardId);
    await db.transaction(async (tx) => {
      await checkRangeId(tx, commit.shardId, commit.rangeId);
      if (commit.current) await writeCurrent(tx, commit.shardId, commit.current);
      if (commit.update) await writeUpdate(tx, commit.shardId, commit.update);
      if (commit.create) await writeCreate(tx, commit.shardId, commit.create);
      await writeTasks(tx, commit);
    });
  }

  async getExecution(shardId: number, key: ExecutionKey): Promise<ExecutionRecord | undefined> {
    const db = this.shards.databaseFor(shardId);
    const [row] = await db.rows<{ state: string; next_event_id: number; db_version: number }>(
      `SELECT state, next_event_id, db_version FROM executions WHERE ${RUN_WHERE}`,
      runParams(shardId, key),
    );
    return (
      row && {
        ...pickKey(key),
        state: row.state,
        nextEventId: toInt(row.next_event_id, 'executions.next_event_id'),
        dbVersion: toInt(row.db_version, 'executions.db_version'),
      }
    );
  }

  async getCurrentExecution(shardId: number, namespaceId: string, workflowId: string): Promise<CurrentExecutionRecord | undefined> {
    const db = this.shards.databaseFor(shardId);
    const [row] = await db.rows<CurrentRow>(`SELECT ${CURRENT_COLUMNS} FROM current_executions WHERE ${CURRENT_WHERE}`, [
      shardId,
      namespaceId,
      workflowId,
    ]);
    return row && toCurrent(namespaceId, workflowId, row);
  }

  async readHistory(shardId: number, key: ExecutionKey, fromEventId: number, toEventId: number, limit: number): Promise<HistoryEventRow[]> {
    checkLimit(limit);
    const db = this.shards.databaseFor(shardId);
    const rows = await db.rows<{ event_id: number; data: Buffer }>(
      `SELECT event_id, data FROM history_events WHERE ${RUN_WHERE} AND event_id >= ? AND event_id < ? ORDER BY event_id LIMIT ?`,
      [...runParams(shardId, key), fromEventId, toEventId, limit],
    );
    return rows.map((row) => ({ eventId: toInt(row.event_id, 'history_events.event_id'), data: toBytes(row.data) }));
  }

  async listTransferTasks(shardId: number, afterTaskId: number, limit: number): Promise<TransferTaskRow[]> {
    checkLimit(limit);
    const db = this.shards.databaseFor(shardId);
    const rows = await db.rows<TaskRow>(`SELECT ${TASK_COLUMNS} FROM transfer_tasks WHERE shard_id = ? AND task_id > ? ORDER BY task_id LIMIT ?`, [
      shardId,
      afterTaskId,
      limit,
    ]);
    return rows.map(toTransferTask);
  }

  async deleteTransferTasks(shardId: number, taskIds: number[]): Promise<void> {
    const db = this.shards.databaseFor(shardId);
    const chunks = inListChunks(taskIds);
    if (chunks.length === 0) return;
    await db.transaction(async (tx) => {
      const where = (chunk: number[]) => `shard_id = ? AND task_id IN (${placeholders(chunk.length)})`;
      let maxDeleted = 0;
      for (const chunk of chunks) {
        // Locking read: a row some commit is still inserting is waited for, so it cannot be
        // deleted below without being counted in the high-water mark.
        const rows = await tx.rows<{ task_id: number }>(`SELECT task_id FROM transfer_tasks WHERE ${where(chunk)} FOR UPDATE`, [shardId, ...chunk]);
        maxDeleted = Math.max(maxDeleted, maxTaskIdOf(rows));
      }
      await raiseTaskIdMark(tx, shardId, maxDeleted);
      for (const chunk of chunks) await tx.run(`DELETE FROM transfer_tasks WHERE ${where(chunk)}`, [shardId, ...chunk]);
    });
  }

  async listTimerTasks(shardId: number, beforeFireAt: number, limit: number): Promise<TimerTaskRow[]> {
    checkLimit(limit);
    const db = this.shards.databaseFor(shardId);
    const rows = await db.rows<TimerRow>(
      `SELECT fire_at, ${TASK_COLUMNS} FROM timer_tasks WHERE shard_id = ? AND fire_at < ? ORDER BY fire_at, task_id LIMIT ?`,
      [shardId, beforeFireAt, limit],
    );
    return rows.map((row) => ({ ...toTransferTask(row), fireAt: toInt(row.fire_at, 'timer_tasks.fire_at') }));
  }

  async deleteTimerTasks(shardId: number, keys: TimerTaskKey[]): Promise<void> {
    const db = this.shards.databaseFor(shardId);
    const chunks = inListChunks(keys);
    if (chunks.length === 0) return;
    await db.transaction(async (tx) => {
      // An OR of primary-key equalities: every server turns it into point lookups, which is not
      // true of a row-constructor IN list.
      const where = (chunk: TimerTaskKey[]) => `shard_id = ? AND (${chunk.map(() => '(fire_at = ? AND task_id = ?)').join(' OR ')})`;
      const params = (chunk: TimerTaskKey[]): SqlParam[] => [shardId, ...chunk.flatMap((key) => [key.fireAt, key.taskId])];
      let maxDeleted = 0;
      for (const chunk of chunks) {
        const rows = await tx.rows<{ task_id: number }>(`SELECT task_id FROM timer_tasks WHERE ${where(chunk)} FOR UPDATE`, params(chunk));
        maxDeleted = Math.max(maxDeleted, maxTaskIdOf(rows));
      }
      await raiseTaskIdMark(tx, shardId, maxDeleted);
      for (const chunk of chunks) await tx.run(`DELETE FROM timer_tasks WHERE ${where(chunk)}`, params(chunk));
    });
  }

  async maxTaskId(shardId: number): Promise<number> {
    const db = this.shards.databaseFor(shardId);
    // One statement reads one committed snapshot, and a deletion raises the mark in the same
    // transaction that removes the tasks, so no id can fall between the three reads.
    const [row] = await db.rows<{ max_task_id: number }>(
      `SELECT GREATEST(
         COALESCE((SELECT max_task_id FROM shard_task_id_marks WHERE shard_id = ?), 0),
         COALESCE((SELECT MAX(task_id) FROM transfer_tasks WHERE shard_id = ?), 0),
         COALESCE((SELECT MAX(task_id) FROM timer_tasks WHERE shard_id = ?), 0)) AS max_task_id`,
      [shardId, shardId, shardId],
    );
    return row ? toInt(row.max_task_id, 'max_task_id') : 0;
  }

  async deleteExecution(shardId: number, key: ExecutionKey): Promise<void> {
    const db = this.shards.databaseFor(shardId);
    const run = runParams(shardId, key);
    await db.transaction(async (tx) => {
      // Same lock order as commit (pointer, then execution), so the two cannot deadlock.
      await tx.rows(`SELECT run_id FROM current_executions WHERE ${CURRENT_WHERE} FOR UPDATE`, [shardId, key.namespaceId, key.workflowId]);
      await tx.rows(`SELECT db_version FROM executions WHERE ${RUN_WHERE} FOR UPDATE`, run);
      const transfer = await tx.rows<{ task_id: number }>(`SELECT task_id FROM transfer_tasks WHERE ${RUN_WHERE} FOR UPDATE`, run);
      const timers = await tx.rows<{ task_id: number }>(`SELECT task_id FROM timer_tasks WHERE ${RUN_WHERE} FOR UPDATE`, run);
      await raiseTaskIdMark(tx, shardId, Math.max(maxTaskIdOf(transfer), maxTaskIdOf(timers)));
      await tx.run(`DELETE FROM transfer_tasks WHERE ${RUN_WHERE}`, run);
      await tx.run(`DELETE FROM timer_tasks WHERE ${RUN_WHERE}`, run);
      // Only when the pointer is at this run: a newer run of the workflow id keeps its pointer.
      await tx.run(`DELETE FROM current_executions WHERE ${RUN_WHERE}`, run);
      await tx.run(`DELETE FROM history_events WHERE ${RUN_WHERE}`, run);
      await tx.run(`DELETE FROM executions WHERE ${RUN_WHERE}`, run);
    });
  }
}

async function checkRangeId(tx: SqlExecutor, shardId: number, expected: number): Promise<void> {
  const [row] = await tx.rows<{ range_id: number }>('SELECT range_id FROM shards WHERE shard_id = ? LOCK IN SHARE MODE', [shardId]);
  const actual = row ? toInt(row.range_id, 'shards.range_id') : 0;
  if (actual !== expected) throw new ShardOwnershipLostError(shardId, expected, actual);
}

async function writeCurrent(tx: SqlExecutor, shardId: number, current: CurrentExecutionUpdate): Promise<void> {
  const { namespaceId, workflowId, expectedRunId, record } = current;
  if (record.namespaceId !== namespaceId || record.workflowId !== workflowId) {
    throw new InvalidArgumentError(
      `current record is for workflow ${record.workflowId} (namespace ${record.namespaceId}), the update is for ${workflowId} (namespace ${namespaceId})`,
    );
  }
  const where = [shardId, namespaceId, workflowId];
  const mismatch = (row: CurrentRow | undefined): CurrentExecutionConditionFailedError => {
    const actualRunId = row ? toText(row.run_id) : null;
    return new CurrentExecutionConditionFailedError(
      `current run of workflow ${workflowId} (namespace ${namespaceId}) is ${actualRunId ?? 'absent'}, the write expected ${expectedRunId ?? 'none'}`,
      row && toCurrent(namespaceId, workflowId, row),
    );
  };
  const [row] = await tx.rows<CurrentRow>(`SELECT ${CURRENT_COLUMNS} FROM current_executions WHERE ${CURRENT_WHERE} FOR UPDATE`, where);
  if ((row ? toText(row.run_id) : null) !== expectedRunId) throw mismatch(row);

  const values = [record.runId, record.createRequestId, record.running ? 1 : 0, record.status, record.startTime];
  if (row) {
    await tx.run(`UPDATE current_executions SET run_id = ?, create_request_id = ?, running = ?, status = ?, start_time = ? WHERE ${CURRENT_WHERE}`, [
      ...values,
      ...where,
    ]);
    return;
  }
  try {
    await tx.run(`INSERT INTO current_executions (shard_id, namespace_id, workflow_id, ${CURRENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
      ...where,
      ...values,
    ]);
  } catch (err) {
    if (!(err instanceof DuplicateKeyError)) throw err;
    // A racing start inserted the pointer after our read saw none (READ COMMITTED takes no gap
    // lock on an absent row; the primary key decides). Report what it wrote.
    const [winner] = await tx.rows<CurrentRow>(`SELECT ${CURRENT_COLUMNS} FROM current_executions WHERE ${CURRENT_WHERE}`, where);
    throw mismatch(winner);
  }
}

async function writeUpdate(tx: SqlExecutor, shardId: number, update: ExecutionUpdate): Promise<void> {
  const run = runParams(shardId, update.key);
  const [row] = await tx.rows<{ db_version: number }>(`SELECT db_version FROM executions WHERE ${RUN_WHERE} FOR UPDATE`, run);
  const dbVersion = row ? toInt(row.db_version, 'executions.db_version') : undefined;
  if (dbVersion !== update.expectedDbVersion) {
    const found = dbVersion === undefined ? 'it does not exist' : `db version is ${dbVersion}`;
    throw new ConditionFailedError(`${describeRun(update.key)}: ${found}, the update expected db version ${update.expectedDbVersion}`);
  }
  if (update.events.length > 0) {
    const [max] = await tx.rows<{ max_event_id: number | null }>(`SELECT MAX(event_id) AS max_event_id FROM history_events WHERE ${RUN_WHERE}`, run);
    const stored = max?.max_event_id == null ? 0 : toInt(max.max_event_id, 'history_events.event_id');
    checkAppendedEvents(update, stored + 1);
  }
  const result = await tx.run(`UPDATE executions SET state = ?, next_event_id = ?, db_version = db_version + 1 WHERE ${RUN_WHERE} AND db_version = ?`, [
    update.state,
    update.nextEventId,
    ...run,
    update.expectedDbVersion,
  ]);
  if (result.affectedRows !== 1) throw new InvariantViolationError(`${describeRun(update.key)}: checked update changed ${result.affectedRows} rows`);
  await appendEvents(tx, run, update);
}

async function writeCreate(tx: SqlExecutor, shardId: number, create: ExecutionWrite): Promise<void> {
  const run = runParams(shardId, create.key);
  const exists = () => new ConditionFailedError(`${describeRun(create.key)} already exists`);
  const [row] = await tx.rows(`SELECT db_version FROM executions WHERE ${RUN_WHERE} FOR UPDATE`, run);
  if (row) throw exists();
  checkAppendedEvents(create, 1);
  try {
    await tx.run(
      `INSERT INTO executions (shard_id, namespace_id, workflow_id, run_id, state, next_event_id, db_version) VALUES (?, ?, ?, ?, ?, ?, 1)`,
      [...run, create.state, create.nextEventId],
    );
  } catch (err) {
    // A racing create of the same run committed between our read and our insert.
    if (err instanceof DuplicateKeyError) throw exists();
    throw err;
  }
  await appendEvents(tx, run, create);
}

/** The checks above make a duplicate unreachable; the primary key is the last line of defence, never an overwrite. */
async function appendEvents(tx: SqlExecutor, run: SqlParam[], write: ExecutionWrite): Promise<void> {
  for (const batch of insertBatches(write.events, (event) => event.data.byteLength + ROW_OVERHEAD_BYTES)) {
    const params: SqlParam[] = [];
    for (const event of batch) params.push(...run, event.eventId, asBuffer(event.data));
    try {
      await tx.run(
        `INSERT INTO history_events (shard_id, namespace_id, workflow_id, run_id, event_id, data) VALUES ${placeholders(batch.length, '(?, ?, ?, ?, ?, ?)')}`,
        params,
      );
    } catch (err) {
      if (err instanceof DuplicateKeyError) {
        const ids = batch.map((event) => event.eventId);
        const which = ids.length === 1 ? `event ${ids[0]}` : `an event of ${describeIds(ids)}`;
        throw new ConditionFailedError(`${describeRun(write.key)}: ${which} already exists`);
      }
      throw err;
    }
  }
}

/** A duplicate task id means the id allocator handed one out twice: a bug, not a lost race. */
async function writeTasks(tx: SqlExecutor, commit: ShardCommit): Promise<void> {
  const { shardId } = commit;
  const taskSize = (task: TransferTaskRow) => Buffer.byteLength(task.data) + ROW_OVERHEAD_BYTES;
  const duplicate = (kind: string, tasks: TransferTaskRow[]) => {
    const ids = tasks.map((task) => task.taskId);
    const which = ids.length === 1 ? `${kind} task ${ids[0]}` : `a ${kind} task of ${describeIds(ids)}`;
    return new InvariantViolationError(`${which} already exists in shard ${shardId}`);
  };
  for (const batch of insertBatches(commit.transferTasks, taskSize)) {
    const params: SqlParam[] = [];
    for (const task of batch) params.push(shardId, task.taskId, task.namespaceId, task.workflowId, task.runId, task.type, task.data);
    try {
      await tx.run(
        `INSERT INTO transfer_tasks (shard_id, ${TASK_COLUMNS}) VALUES ${placeholders(batch.length, '(?, ?, ?, ?, ?, ?, ?)')}`,
        params,
      );
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw duplicate('transfer', batch);
      throw err;
    }
  }
  for (const batch of insertBatches(commit.timerTasks, taskSize)) {
    const params: SqlParam[] = [];
    for (const task of batch) params.push(shardId, task.fireAt, task.taskId, task.namespaceId, task.workflowId, task.runId, task.type, task.data);
    try {
      await tx.run(
        `INSERT INTO timer_tasks (shard_id, fire_at, ${TASK_COLUMNS}) VALUES ${placeholders(batch.length, '(?, ?, ?, ?, ?, ?, ?, ?)')}`,
        params,
      );
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw duplicate('timer', batch);
      throw err;
    }
  }
}

/** Records that ids up to `maxTaskId` were used, before their last trace leaves the task tables. */
async function raiseTaskIdMark(tx: SqlExecutor, shardId: number, maxTaskId: number): Promise<void> {
  if (maxTaskId <= 0) return;
  await tx.run(
    `INSERT INTO shard_task_id_marks (shard_id, max_task_id) VALUES (?, ?)
     ON DUPLICATE KEY UPDATE max_task_id = GREATEST(max_task_id, VALUES(max_task_id))`,
    [shardId, maxTaskId],
  );
}

function maxTaskIdOf(rows: readonly { task_id: number }[]): number {
  return rows.reduce((max, row) => Math.max(max, toInt(row.task_id, 'task_id')), 0);
}


function runParams(shardId: number, key: ExecutionKey): SqlParam[] {
  return [shardId, key.namespaceId, key.workflowId, key.runId];
}

function pickKey(key: ExecutionKey): ExecutionKey {
  return { namespaceId: key.namespaceId, workflowId: key.workflowId, runId: key.runId };
}

function toShard(row: ShardRow): ShardRecord {
  return {
    shardId: toInt(row.shard_id, 'shards.shard_id'),
    rangeId: toInt(row.range_id, 'shards.range_id'),
    owner: row.owner,
    updatedAt: toInt(row.updated_at, 'shards.updated_at'),
  };
}

function toCurrent(namespaceId: string, workflowId: string, row: CurrentRow): CurrentExecutionRecord {
  return {
    namespaceId,
    workflowId,
    runId: toText(row.run_id),
    createRequestId: row.create_request_id,
    running: Number(row.running) === 1,
    status: toInt(row.status, 'current_executions.status'),
    startTime: toInt(row.start_time, 'current_executions.start_time'),
  };
}

function toTransferTask(row: TaskRow): TransferTaskRow {
  return {
    taskId: toInt(row.task_id, 'task_id'),
    namespaceId: toText(row.namespace_id),
    workflowId: toText(row.workflow_id),
    runId: toText(row.run_id),
    type: row.type,
    data: row.data,
  };
}
