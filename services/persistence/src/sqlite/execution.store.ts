import type Database from 'better-sqlite3';
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
import { checkLimit, isDuplicateKey, toBytes } from './sql';

interface RunParams {
  shardId: number;
  namespaceId: string;
  workflowId: string;
  runId: string;
}

interface ShardRow {
  shard_id: number;
  range_id: number;
  owner: string;
  updated_at: number;
}

interface ExecutionRow {
  state: string;
  next_event_id: number;
  db_version: number;
}

interface CurrentRow {
  run_id: string;
  create_request_id: string;
  running: number;
  status: number;
  start_time: number;
}

interface TaskRow {
  task_id: number;
  namespace_id: string;
  workflow_id: string;
  run_id: string;
  type: string;
  data: string;
}

interface TimerRow extends TaskRow {
  fire_at: number;
}

const RUN_WHERE = 'shard_id = @shardId AND namespace_id = @namespaceId AND workflow_id = @workflowId AND run_id = @runId';
const TASK_COLUMNS = 'task_id, namespace_id, workflow_id, run_id, type, data';

/** All statements, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  return {
    acquireShard: db.prepare<[{ shardId: number; owner: string; now: number }], ShardRow>(
      `INSERT INTO shards (shard_id, range_id, owner, updated_at) VALUES (@shardId, 1, @owner, @now)
       ON CONFLICT (shard_id) DO UPDATE SET range_id = range_id + 1, owner = excluded.owner, updated_at = excluded.updated_at
       RETURNING shard_id, range_id, owner, updated_at`,
    ),
    getShard: db.prepare<[number], ShardRow>('SELECT shard_id, range_id, owner, updated_at FROM shards WHERE shard_id = ?'),
    rangeId: db.prepare<[number], number>('SELECT range_id FROM shards WHERE shard_id = ?').pluck(),
    maxTaskId: db.prepare<[number], number>('SELECT max_task_id FROM shards WHERE shard_id = ?').pluck(),
    raiseMaxTaskId: db.prepare<[number, number]>('UPDATE shards SET max_task_id = MAX(max_task_id, ?) WHERE shard_id = ?'),

    getExecution: db.prepare<[RunParams], ExecutionRow>(`SELECT state, next_event_id, db_version FROM executions WHERE ${RUN_WHERE}`),
    insertExecution: db.prepare<[RunParams & { state: string; nextEventId: number }]>(
      `INSERT INTO executions (shard_id, namespace_id, workflow_id, run_id, state, next_event_id, db_version)
       VALUES (@shardId, @namespaceId, @workflowId, @runId, @state, @nextEventId, 1)`,
    ),
    updateExecution: db.prepare<[RunParams & { state: string; nextEventId: number; expectedDbVersion: number }]>(
      `UPDATE executions SET state = @state, next_event_id = @nextEventId, db_version = db_version + 1
       WHERE ${RUN_WHERE} AND db_version = @expectedDbVersion`,
    ),
    // History rows go with the execution row through ON DELETE CASCADE.
    deleteExecution: db.prepare<[RunParams]>(`DELETE FROM executions WHERE ${RUN_WHERE}`),

    getCurrent: db.prepare<[number, string, string], CurrentRow>(
      `SELECT run_id, create_request_id, running, status, start_time FROM current_executions
       WHERE shard_id = ? AND namespace_id = ? AND workflow_id = ?`,
    ),
    upsertCurrent: db.prepare<[number, CurrentExecutionRecord & { runningInt: number }]>(
      `INSERT INTO current_executions (shard_id, namespace_id, workflow_id, run_id, create_request_id, running, status, start_time)
       VALUES (?, @namespaceId, @workflowId, @runId, @createRequestId, @runningInt, @status, @startTime)
       ON CONFLICT (shard_id, namespace_id, workflow_id) DO UPDATE SET run_id = excluded.run_id,
         create_request_id = excluded.create_request_id, running = excluded.running, status = excluded.status,
         start_time = excluded.start_time`,
    ),
    deleteCurrentIfRun: db.prepare<[RunParams]>(`DELETE FROM current_executions WHERE ${RUN_WHERE}`),

    maxEventId: db.prepare<[RunParams], number | null>(`SELECT MAX(event_id) FROM history_events WHERE ${RUN_WHERE}`).pluck(),
    insertEvent: db.prepare<[RunParams & { eventId: number; data: Uint8Array }]>(
      `INSERT INTO history_events (shard_id, namespace_id, workflow_id, run_id, event_id, data)
       VALUES (@shardId, @namespaceId, @workflowId, @runId, @eventId, @data)`,
    ),
    readHistory: db.prepare<[RunParams & { from: number; to: number; limit: number }], { event_id: number; data: Buffer }>(
      `SELECT event_id, data FROM history_events WHERE ${RUN_WHERE} AND event_id >= @from AND event_id < @to
       ORDER BY event_id LIMIT @limit`,
    ),

    insertTransfer: db.prepare<[number, TransferTaskRow]>(
      `INSERT INTO transfer_tasks (shard_id, task_id, namespace_id, workflow_id, run_id, type, data)
       VALUES (?, @taskId, @namespaceId, @workflowId, @runId, @type, @data)`,
    ),
    listTransfer: db.prepare<[number, number, number], TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM transfer_tasks WHERE shard_id = ? AND task_id > ? ORDER BY task_id LIMIT ?`,
    ),
    deleteTransfer: db.prepare<[number, number]>('DELETE FROM transfer_tasks WHERE shard_id = ? AND task_id = ?'),
    deleteTransferOfRun: db.prepare<[RunParams]>(`DELETE FROM transfer_tasks WHERE ${RUN_WHERE}`),

    insertTimer: db.prepare<[number, TimerTaskRow]>(
      `INSERT INTO timer_tasks (shard_id, fire_at, task_id, namespace_id, workflow_id, run_id, type, data)
       VALUES (?, @fireAt, @taskId, @namespaceId, @workflowId, @runId, @type, @data)`,
    ),
    listTimers: db.prepare<[number, number, number], TimerRow>(
      `SELECT fire_at, ${TASK_COLUMNS} FROM timer_tasks WHERE shard_id = ? AND fire_at < ?
       ORDER BY fire_at, task_id LIMIT ?`,
    ),
    deleteTimer: db.prepare<[number, number, number]>('DELETE FROM timer_tasks WHERE shard_id = ? AND fire_at = ? AND task_id = ?'),
    deleteTimersOfRun: db.prepare<[RunParams]>(`DELETE FROM timer_tasks WHERE ${RUN_WHERE}`),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

export class SqliteExecutionStore implements ExecutionStore {
  private readonly sql: Statements;
  // IMMEDIATE: every one of these reads then writes; taking the write lock first avoids
  // SQLITE_BUSY on lock upgrade when another connection wrote in between.
  private readonly commitTx: (commit: ShardCommit) => void;
  private readonly deleteExecutionTx: (run: RunParams) => void;
  private readonly deleteTransferTx: (shardId: number, taskIds: number[]) => void;
  private readonly deleteTimersTx: (shardId: number, keys: TimerTaskKey[]) => void;

  constructor(db: Database.Database, private readonly clock: Clock) {
    this.sql = prepareStatements(db);
    this.commitTx = db.transaction((commit: ShardCommit) => this.commitLocked(commit)).immediate;
    this.deleteExecutionTx = db.transaction((run: RunParams) => this.deleteExecutionLocked(run)).immediate;
    this.deleteTransferTx = db.transaction((shardId: number, taskIds: number[]) => {
      for (const taskId of taskIds) this.sql.deleteTransfer.run(shardId, taskId);
    }).immediate;
    this.deleteTimersTx = db.transaction((shardId: number, keys: TimerTaskKey[]) => {
      for (const key of keys) this.sql.deleteTimer.run(shardId, key.fireAt, key.taskId);
    }).immediate;
  }

  async acquireShard(shardId: number, owner: string): Promise<ShardRecord> {
    // One upsert statement: atomic even against another process acquiring the same shard.
    return toShard(this.sql.acquireShard.get({ shardId, owner, now: this.clock.now() })!);
  }

  async getShard(shardId: number): Promise<ShardRecord | undefined> {
    const row = this.sql.getShard.get(shardId);
    return row && toShard(row);
  }

  async commit(commit: ShardCommit): Promise<void> {
    this.commitTx(commit);
  }

  async getExecution(shardId: number, key: ExecutionKey): Promise<ExecutionRecord | undefined> {
    const row = this.sql.getExecution.get(runParams(shardId, key));
    return row && { ...pickKey(key), state: row.state, nextEventId: row.next_event_id, dbVersion: row.db_version };
  }

  async getCurrentExecution(shardId: number, namespaceId: string, workflowId: string): Promise<CurrentExecutionRecord | undefined> {
    const row = this.sql.getCurrent.get(shardId, namespaceId, workflowId);
    return row && toCurrent(namespaceId, workflowId, row);
  }

  async readHistory(shardId: number, key: ExecutionKey, fromEventId: number, toEventId: number, limit: number): Promise<HistoryEventRow[]> {
    checkLimit(limit);
    const rows = this.sql.readHistory.all({ ...runParams(shardId, key), from: fromEventId, to: toEventId, limit });
    return rows.map((row) => ({ eventId: row.event_id, data: toBytes(row.data) }));
  }

  async listTransferTasks(shardId: number, afterTaskId: number, limit: number): Promise<TransferTaskRow[]> {
    checkLimit(limit);
    return this.sql.listTransfer.all(shardId, afterTaskId, limit).map(toTransferTask);
  }

  async deleteTransferTasks(shardId: number, taskIds: number[]): Promise<void> {
    this.deleteTransferTx(shardId, taskIds);
  }

  async listTimerTasks(shardId: number, beforeFireAt: number, limit: number): Promise<TimerTaskRow[]> {
    checkLimit(limit);
    return this.sql.listTimers.all(shardId, beforeFireAt, limit).map((row) => ({ ...toTransferTask(row), fireAt: row.fire_at }));
  }

  async deleteTimerTasks(shardId: number, keys: TimerTaskKey[]): Promise<void> {
    this.deleteTimersTx(shardId, keys);
  }

  async maxTaskId(shardId: number): Promise<number> {
    return this.sql.maxTaskId.get(shardId) ?? 0;
  }

  async deleteExecution(shardId: number, key: ExecutionKey): Promise<void> {
    this.deleteExecutionTx(runParams(shardId, key));
  }

  /** Runs inside the transaction: a throw at any step also undoes the writes of the steps before it. */
  private commitLocked(commit: ShardCommit): void {
    this.checkRangeId(commit.shardId, commit.rangeId);
    if (commit.current) this.writeCurrent(commit.shardId, commit.current);
    if (commit.update) this.writeUpdate(commit.shardId, commit.update);
    if (commit.create) this.writeCreate(commit.shardId, commit.create);
    this.writeTasks(commit);
  }

  private checkRangeId(shardId: number, expected: number): void {
    const actual = this.sql.rangeId.get(shardId) ?? 0;
    if (actual !== expected) throw new ShardOwnershipLostError(shardId, expected, actual);
  }

  private writeCurrent(shardId: number, current: CurrentExecutionUpdate): void {
    const { namespaceId, workflowId, expectedRunId, record } = current;
    if (record.namespaceId !== namespaceId || record.workflowId !== workflowId) {
      throw new InvalidArgumentError(
        `current record is for workflow ${record.workflowId} (namespace ${record.namespaceId}), the update is for ${workflowId} (namespace ${namespaceId})`,
      );
    }
    const row = this.sql.getCurrent.get(shardId, namespaceId, workflowId);
    const actualRunId = row?.run_id ?? null;
    if (actualRunId !== expectedRunId) {
      throw new CurrentExecutionConditionFailedError(
        `current run of workflow ${workflowId} (namespace ${namespaceId}) is ${actualRunId ?? 'absent'}, the write expected ${expectedRunId ?? 'none'}`,
        row && toCurrent(namespaceId, workflowId, row),
      );
    }
    this.sql.upsertCurrent.run(shardId, { ...record, runningInt: record.running ? 1 : 0 });
  }

  private writeUpdate(shardId: number, update: ExecutionUpdate): void {
    const run = runParams(shardId, update.key);
    const row = this.sql.getExecution.get(run);
    if (!row || row.db_version !== update.expectedDbVersion) {
      const found = row ? `db version is ${row.db_version}` : 'it does not exist';
      throw new ConditionFailedError(
        `${describeRun(update.key)}: ${found}, the update expected db version ${update.expectedDbVersion}`,
      );
    }
    checkAppendedEvents(update, (this.sql.maxEventId.get(run) ?? 0) + 1);
    const { state, nextEventId, expectedDbVersion } = update;
    const { changes } = this.sql.updateExecution.run({ ...run, state, nextEventId, expectedDbVersion });
    if (changes !== 1) throw new InvariantViolationError(`${describeRun(update.key)}: checked update changed ${changes} rows`);
    this.appendEvents(run, update);
  }

  private writeCreate(shardId: number, create: ExecutionWrite): void {
    const run = runParams(shardId, create.key);
    if (this.sql.getExecution.get(run)) throw new ConditionFailedError(`${describeRun(create.key)} already exists`);
    checkAppendedEvents(create, 1);
    this.sql.insertExecution.run({ ...run, state: create.state, nextEventId: create.nextEventId });
    this.appendEvents(run, create);
  }

  /** The checks above make a duplicate unreachable; the primary key is the last line of defence, never an overwrite. */
  private appendEvents(run: RunParams, write: ExecutionWrite): void {
    for (const event of write.events) {
      try {
        this.sql.insertEvent.run({ ...run, eventId: event.eventId, data: event.data });
      } catch (err) {
        if (isDuplicateKey(err)) throw new ConditionFailedError(`${describeRun(write.key)}: event ${event.eventId} already exists`);
        throw err;
      }
    }
  }

  private writeTasks(commit: ShardCommit): void {
    const { shardId } = commit;
    for (const task of commit.transferTasks) {
      insertTask(() => this.sql.insertTransfer.run(shardId, task), `transfer task ${task.taskId} already exists in shard ${shardId}`);
    }
    for (const task of commit.timerTasks) {
      insertTask(
        () => this.sql.insertTimer.run(shardId, task),
        `timer task ${task.taskId} at ${task.fireAt} already exists in shard ${shardId}`,
      );
    }
    const maxId = [...commit.transferTasks, ...commit.timerTasks].reduce((max, task) => Math.max(max, task.taskId), 0);
    if (maxId > 0) this.sql.raiseMaxTaskId.run(maxId, shardId);
  }

  private deleteExecutionLocked(run: RunParams): void {
    this.sql.deleteTransferOfRun.run(run);
    this.sql.deleteTimersOfRun.run(run);
    // Only when the pointer is at this run: a newer run of the workflow id keeps its pointer.
    this.sql.deleteCurrentIfRun.run(run);
    this.sql.deleteExecution.run(run);
  }
}


/** A duplicate task id means the id allocator handed one out twice: a bug, not a lost race. */
function insertTask(insert: () => void, duplicateMessage: string): void {
  try {
    insert();
  } catch (err) {
    if (isDuplicateKey(err)) throw new InvariantViolationError(duplicateMessage);
    throw err;
  }
}

function runParams(shardId: number, key: ExecutionKey): RunParams {
  return { shardId, namespaceId: key.namespaceId, workflowId: key.workflowId, runId: key.runId };
}

function pickKey(key: ExecutionKey): ExecutionKey {
  return { namespaceId: key.namespaceId, workflowId: key.workflowId, runId: key.runId };
}

function toShard(row: ShardRow): ShardRecord {
  return { shardId: row.shard_id, rangeId: row.range_id, owner: row.owner, updatedAt: row.updated_at };
}

function toCurrent(namespaceId: string, workflowId: string, row: CurrentRow): CurrentExecutionRecord {
  return {
    namespaceId,
    workflowId,
    runId: row.run_id,
    createRequestId: row.create_request_id,
    running: row.running === 1,
    status: row.status,
    startTime: row.start_time,
  };
}

function toTransferTask(row: TaskRow): TransferTaskRow {
  return {
    taskId: row.task_id,
    namespaceId: row.namespace_id,
    workflowId: row.workflow_id,
    runId: row.run_id,
    type: row.type,
    data: row.data,
  };
}
