import type Database from 'better-sqlite3';
import { InvalidArgumentError, InvariantViolationError, type Clock } from '@hourglass/common';
import { checkAppendedEvents, checkCommitShape, checkNoCommitUsage, checkUsageIncrements, checkUsageQuery, describeRun, lastItemPerKey, mergeIncrements } from '../store-checks';
import { ConditionFailedError, CurrentExecutionConditionFailedError, ShardOwnershipLostError } from '../errors';
import type {
  CurrentExecutionRecord,
  CurrentExecutionUpdate,
  ExecutionDeletion,
  ExecutionItemRow,
  ExecutionKey,
  ExecutionRecord,
  ExecutionStore,
  ExecutionUpdate,
  ExecutionWrite,
  HistoryEventRow,
  HistoryTaskKey,
  HistoryTaskRow,
  ShardCommit,
  ShardRecord,
  UsageFold,
  UsageIncrement,
  UsageQuery,
  UsageRow,
} from '../types';
import { RowInserter, WeightedSteps, checkLimit, toBytes, type SqliteLane } from './sql';

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
  category_id: number;
  fire_at: number;
  task_id: number;
  namespace_id: string;
  workflow_id: string;
  run_id: string;
  type: string;
  data: string;
}

const RUN_WHERE = 'shard_id = @shardId AND namespace_id = @namespaceId AND workflow_id = @workflowId AND run_id = @runId';
const TASK_COLUMNS = 'category_id, fire_at, task_id, namespace_id, workflow_id, run_id, type, data';

/** All statements, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  return {
    acquireShard: db.prepare<[{ shardId: number; owner: string; now: number }], ShardRow>(
      `INSERT INTO shards (shard_id, range_id, owner, updated_at) VALUES (@shardId, 1, @owner, @now)
       ON CONFLICT (shard_id) DO UPDATE SET range_id = range_id + 1, owner = excluded.owner, updated_at = excluded.updated_at
       RETURNING shard_id, range_id, owner, updated_at`,
    ),
    releaseShard: db.prepare<[{ shardId: number; owner: string; rangeId: number; now: number }]>(
      "UPDATE shards SET range_id = range_id + 1, owner = '', updated_at = @now WHERE shard_id = @shardId AND range_id = @rangeId AND owner = @owner",
    ),
    getShard: db.prepare<[number], ShardRow>('SELECT shard_id, range_id, owner, updated_at FROM shards WHERE shard_id = ?'),
    rangeId: db.prepare<[number], number>('SELECT range_id FROM shards WHERE shard_id = ?').pluck(),
    // The larger of the mark (ids deleted) and the ids still stored; no shard row: 0.
    maxTaskId: db
      .prepare<[number, number], number>(
        'SELECT MAX(COALESCE((SELECT max_task_id FROM shards WHERE shard_id = ?), 0), COALESCE((SELECT MAX(task_id) FROM history_tasks WHERE shard_id = ?), 0))',
      )
      .pluck(),
    maxImmediateUpTo: db
      .prepare<[number, number, number], number | null>('SELECT MAX(task_id) FROM history_tasks WHERE shard_id = ? AND category_id = ? AND fire_at = 0 AND task_id <= ?')
      .pluck(),
    raiseMaxTaskId: db.prepare<[number, number]>('UPDATE shards SET max_task_id = MAX(max_task_id, ?) WHERE shard_id = ?'),
    getExecution: db.prepare<[RunParams], ExecutionRow & { run_seq: number }>(`SELECT run_seq, state, next_event_id, db_version FROM executions WHERE ${RUN_WHERE}`),
    // The checks read the version (and the run's number) alone: the state blob is not decoded into a string to be dropped.
    runVersion: db.prepare<[RunParams], { run_seq: number; db_version: number }>(`SELECT run_seq, db_version FROM executions WHERE ${RUN_WHERE}`),
    insertExecution: db.prepare<[RunParams & { state: string; nextEventId: number }]>(
      `INSERT INTO executions (shard_id, namespace_id, workflow_id, run_id, state, next_event_id, db_version)
       VALUES (@shardId, @namespaceId, @workflowId, @runId, @state, @nextEventId, 1)`,
    ),
    updateExecution: db.prepare<[{ runSeq: number; state: string; nextEventId: number; expectedDbVersion: number }]>(
      `UPDATE executions SET state = @state, next_event_id = @nextEventId, db_version = db_version + 1
       WHERE run_seq = @runSeq AND db_version = @expectedDbVersion`,
    ),
    // History and item rows go with the execution row through ON DELETE CASCADE.
    deleteExecution: db.prepare<[number]>('DELETE FROM executions WHERE run_seq = ?'),
    listItems: db.prepare<[number], { kind: string; item_id: string; data: string }>('SELECT kind, item_id, data FROM execution_items WHERE run_seq = ? ORDER BY kind, item_id'),
    deleteItem: db.prepare<[number, string, string]>('DELETE FROM execution_items WHERE run_seq = ? AND kind = ? AND item_id = ?'),
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
    maxEventId: db.prepare<[number], number | null>('SELECT MAX(event_id) FROM history_events WHERE run_seq = ?').pluck(),
    listExecutionKeys: db.prepare<[{ shardId: number; namespaceId: string; workflowId: string; runId: string; limit: number }], { workflow_id: string; run_id: string }>(
      `SELECT workflow_id, run_id FROM executions
       WHERE shard_id = @shardId AND namespace_id = @namespaceId AND (workflow_id > @workflowId OR (workflow_id = @workflowId AND run_id > @runId))
       ORDER BY workflow_id, run_id LIMIT @limit`,
    ),
    readHistory: db.prepare<[RunParams & { from: number; to: number; limit: number }], { event_id: number; data: Buffer }>(
      `SELECT event_id, data FROM history_events WHERE run_seq = (SELECT run_seq FROM executions WHERE ${RUN_WHERE})
       AND event_id >= @from AND event_id < @to ORDER BY event_id LIMIT @limit`,
    ),
    listImmediate: db.prepare<[number, number, number, number], TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM history_tasks WHERE shard_id = ? AND category_id = ? AND fire_at = 0 AND task_id > ?
       ORDER BY task_id LIMIT ?`,
    ),
    listScheduled: db.prepare<[number, number, number, number], TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM history_tasks WHERE shard_id = ? AND category_id = ? AND fire_at < ?
       ORDER BY fire_at, task_id LIMIT ?`,
    ),
    deleteTask: db.prepare<[number, number, number, number]>(
      'DELETE FROM history_tasks WHERE shard_id = ? AND category_id = ? AND fire_at = ? AND task_id = ?',
    ),
    deleteImmediateUpTo: db.prepare<[number, number, number]>(
      'DELETE FROM history_tasks WHERE shard_id = ? AND category_id = ? AND fire_at = 0 AND task_id <= ?',
    ),
    addUsage: db.prepare<[UsageIncrement]>(
      `INSERT INTO usage_hourly (namespace_id, hour_start, record_type, amount) VALUES (@namespaceId, @hourStart, @recordType, @amount)
       ON CONFLICT (namespace_id, hour_start, record_type) DO UPDATE SET amount = amount + excluded.amount`,
    ),
    readUsage: db.prepare<[string, number, number], { hour_start: number; record_type: string; amount: number }>(
      `SELECT hour_start, record_type, amount FROM usage_hourly WHERE namespace_id = ? AND hour_start >= ? AND hour_start < ?
       ORDER BY hour_start, record_type`,
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

export class SqliteExecutionStore implements ExecutionStore {
  private readonly sql: Statements;
  /** The commit's row inserts, many rows per statement. */
  private readonly inserts: { event: RowInserter; item: RowInserter; task: RowInserter };
  // IMMEDIATE: every one of these reads then writes; taking the write lock first avoids
  // SQLITE_BUSY on lock upgrade when another connection wrote in between.
  private readonly deleteTasksTx: (shardId: number, keys: HistoryTaskKey[]) => void;
  private readonly deleteImmediateUpToTx: (shardId: number, categoryId: number, maxTaskId: number) => void;
  private readonly foldUsageTx: (shardId: number, rangeId: number, batch: readonly UsageFold[]) => boolean[];

  /**
   * A commit's usage goes into the hourly counters in its own transaction (the one writer keeps
   * nobody waiting on them). Off only to exercise the usage-task path, which MySQL takes and which
   * still folds the tasks an older build left.
   */
  readonly foldsUsageInCommit: boolean;

  constructor(
    private readonly db: Database.Database,
    private readonly lane: SqliteLane,
    private readonly clock: Clock,
    options: { foldsUsageInCommit?: boolean } = {},
  ) {
    this.foldsUsageInCommit = options.foldsUsageInCommit ?? true;
    this.sql = prepareStatements(db);
    this.inserts = {
      event: new RowInserter(db, 'INSERT INTO history_events (run_seq, event_id, data)', 3),
      item: new RowInserter(db, 'INSERT INTO execution_items (run_seq, kind, item_id, data)', 4, ' ON CONFLICT (run_seq, kind, item_id) DO UPDATE SET data = excluded.data'),
      task: new RowInserter(db, `INSERT INTO history_tasks (shard_id, ${TASK_COLUMNS})`, 9),
    };
    this.deleteTasksTx = db.transaction((shardId: number, keys: HistoryTaskKey[]) => {
      this.markTaskIdsUsed(shardId, keys.reduce((max, key) => Math.max(max, key.taskId), 0));
      for (const key of keys) this.sql.deleteTask.run(shardId, key.categoryId, key.fireAt, key.taskId);
    }).immediate;
    this.deleteImmediateUpToTx = db.transaction((shardId: number, categoryId: number, maxTaskId: number) => {
      this.markTaskIdsUsed(shardId, this.sql.maxImmediateUpTo.get(shardId, categoryId, maxTaskId) ?? 0);
      this.sql.deleteImmediateUpTo.run(shardId, categoryId, maxTaskId);
    }).immediate;
    this.foldUsageTx = db.transaction((shardId: number, rangeId: number, batch: readonly UsageFold[]) => {
      this.checkRangeId(shardId, rangeId);
      this.markTaskIdsUsed(shardId, batch.reduce((max, f) => Math.max(max, f.task.taskId), 0));
      const folded = batch.map(({ task }) => this.sql.deleteTask.run(shardId, task.categoryId, task.fireAt, task.taskId).changes > 0);
      for (const increment of mergeIncrements(batch, folded)) this.sql.addUsage.run(increment);
      return folded;
    }).immediate;
  }

  async foldUsageTasks(shardId: number, rangeId: number, batch: readonly UsageFold[]): Promise<boolean[]> {
    for (const fold of batch) checkUsageIncrements(fold.increments);
    if (batch.length === 0) return [];
    return this.lane.write(this.db, () => this.foldUsageTx(shardId, rangeId, batch));
  }

  async readHourlyUsage(query: UsageQuery): Promise<UsageRow[]> {
    checkUsageQuery(query);
    return this.lane.run(() => {
      const rows: UsageRow[] = [];
      for (const namespaceId of new Set(query.namespaceIds)) {
        for (const row of this.sql.readUsage.all(namespaceId, query.fromMs, query.toMs)) {
          rows.push({ namespaceId, hourStart: row.hour_start, recordType: row.record_type, amount: row.amount });
        }
      }
      return sortUsage(rows);
    });
  }

  acquireShard(shardId: number, owner: string): Promise<ShardRecord> {
    return this.lane.run(() => {
      // One upsert statement: atomic even against another process acquiring the same shard.
      return toShard(this.sql.acquireShard.get({ shardId, owner, now: this.clock.now() })!);
    });
  }

  releaseShard(shardId: number, owner: string, rangeId: number): Promise<boolean> {
    return this.lane.run(() => this.sql.releaseShard.run({ shardId, owner, rangeId, now: this.clock.now() }).changes === 1);
  }

  getShard(shardId: number): Promise<ShardRecord | undefined> {
    return this.lane.run(() => {
      const row = this.sql.getShard.get(shardId);
      return row && toShard(row);
    });
  }

  async commit(commit: ShardCommit): Promise<void> {
    checkCommitShape(commit);
    if (!this.foldsUsageInCommit) checkNoCommitUsage(commit);
    // Alone on the connection, or grouped with other short commits waiting with it; a large commit
    // (thousands of rows) gives the event loop turns while it writes.
    return this.lane.transaction(this.db, this.commitSteps(commit), commitTenant(commit));
  }

  getExecution(shardId: number, key: ExecutionKey): Promise<ExecutionRecord | undefined> {
    return this.lane.run(() => {
      // Both reads run synchronously on the one connection, so no commit can fall between them.
      const run = runParams(shardId, key);
      const row = this.sql.getExecution.get(run);
      if (!row) return undefined;
      const items: ExecutionItemRow[] = this.sql.listItems.all(row.run_seq).map((item) => ({ kind: item.kind, id: item.item_id, data: item.data }));
      return { ...pickKey(key), state: row.state, items, nextEventId: row.next_event_id, dbVersion: row.db_version };
    }, key.namespaceId);
  }

  getCurrentExecution(shardId: number, namespaceId: string, workflowId: string): Promise<CurrentExecutionRecord | undefined> {
    return this.lane.run(() => {
      const row = this.sql.getCurrent.get(shardId, namespaceId, workflowId);
      return row && toCurrent(namespaceId, workflowId, row);
    }, namespaceId);
  }

  listExecutionKeys(shardId: number, namespaceId: string, after: { workflowId: string; runId: string } | undefined, limit: number): Promise<ExecutionKey[]> {
    return this.lane.run(() => {
      checkLimit(limit);
      const rows = this.sql.listExecutionKeys.all({ shardId, namespaceId, workflowId: after?.workflowId ?? '', runId: after?.runId ?? '', limit });
      return rows.map((row) => ({ namespaceId, workflowId: row.workflow_id, runId: row.run_id }));
    }, namespaceId);
  }

  readHistory(shardId: number, key: ExecutionKey, fromEventId: number, toEventId: number, limit: number): Promise<HistoryEventRow[]> {
    return this.lane.run(() => {
      checkLimit(limit);
      const rows = this.sql.readHistory.all({ ...runParams(shardId, key), from: fromEventId, to: toEventId, limit });
      return rows.map((row) => ({ eventId: row.event_id, data: toBytes(row.data) }));
    }, key.namespaceId);
  }

  listImmediateTasks(shardId: number, categoryId: number, afterTaskId: number, limit: number): Promise<HistoryTaskRow[]> {
    return this.lane.run(() => {
      checkLimit(limit);
      return this.sql.listImmediate.all(shardId, categoryId, afterTaskId, limit).map(toTask);
    });
  }

  listScheduledTasks(shardId: number, categoryId: number, beforeFireAt: number, limit: number): Promise<HistoryTaskRow[]> {
    return this.lane.run(() => {
      checkLimit(limit);
      return this.sql.listScheduled.all(shardId, categoryId, beforeFireAt, limit).map(toTask);
    });
  }

  deleteTasks(shardId: number, keys: HistoryTaskKey[]): Promise<void> {
    return this.lane.write(this.db, () => {
      this.deleteTasksTx(shardId, keys);
    });
  }

  deleteImmediateTasksUpTo(shardId: number, categoryId: number, maxTaskId: number): Promise<void> {
    return this.lane.write(this.db, () => {
      this.deleteImmediateUpToTx(shardId, categoryId, maxTaskId);
    });
  }

  maxTaskId(shardId: number): Promise<number> {
    return this.lane.run(() => {
      return this.sql.maxTaskId.get(shardId, shardId) ?? 0;
    });
  }

  /**
   * The commit as a list of statements (and the checks before them), run in one transaction: a throw
   * at any step also undoes the writes of the steps before it. The checks come first.
   */
  private commitSteps(commit: ShardCommit): WeightedSteps {
    const steps = new WeightedSteps();
    steps.push(() => this.checkRangeId(commit.shardId, commit.rangeId));
    if (commit.current) steps.push(() => this.writeCurrent(commit.shardId, commit.current as CurrentExecutionUpdate));
    if (commit.update) this.updateSteps(commit.shardId, commit.update, steps);
    if (commit.create) this.createSteps(commit.shardId, commit.create, steps);
    if (commit.deletion) steps.push(() => this.writeDeletion(commit.shardId, commit.deletion as ExecutionDeletion));
    this.taskSteps(commit, steps);
    const usage = commit.usage;
    if (usage && usage.length > 0) steps.push(() => usage.forEach((increment) => this.sql.addUsage.run(increment)));
    return steps;
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

  /** The stored db_version must be `expected`; `what` names the write in the message. Returns the run's number. */
  private checkDbVersion(run: RunParams, key: ExecutionKey, expected: number, what: string): number {
    const row = this.sql.runVersion.get(run);
    if (row?.db_version !== expected) {
      const found = row === undefined ? 'it does not exist' : `db version is ${row.db_version}`;
      throw new ConditionFailedError(`${describeRun(key)}: ${found}, the ${what} expected db version ${expected}`);
    }
    return row.run_seq;
  }

  private updateSteps(shardId: number, update: ExecutionUpdate, steps: WeightedSteps): void {
    const run = runParams(shardId, update.key);
    // The run's number, read by the first step; the later steps of the same transaction use it.
    const seq = { runSeq: 0 };
    steps.push(() => {
      seq.runSeq = this.checkDbVersion(run, update.key, update.expectedDbVersion, 'update');
      if (update.events.length > 0) checkAppendedEvents(update, (this.sql.maxEventId.get(seq.runSeq) ?? 0) + 1);
      const { state, nextEventId, expectedDbVersion } = update;
      const { changes } = this.sql.updateExecution.run({ runSeq: seq.runSeq, state, nextEventId, expectedDbVersion });
      if (changes !== 1) throw new InvariantViolationError(`${describeRun(update.key)}: checked update changed ${changes} rows`);
    });
    for (const item of update.deleteItems) steps.push(() => this.sql.deleteItem.run(seq.runSeq, item.kind, item.id));
    this.itemSteps(seq, update, steps);
    this.eventSteps(seq, update, steps);
  }

  private createSteps(shardId: number, create: ExecutionWrite, steps: WeightedSteps): void {
    const run = runParams(shardId, create.key);
    const seq = { runSeq: 0 };
    steps.push(() => {
      if (this.sql.runVersion.get(run) !== undefined) throw new ConditionFailedError(`${describeRun(create.key)} already exists`);
      checkAppendedEvents(create, 1);
      seq.runSeq = Number(this.sql.insertExecution.run({ ...run, state: create.state, nextEventId: create.nextEventId }).lastInsertRowid);
    });
    this.itemSteps(seq, create, steps);
    this.eventSteps(seq, create, steps);
  }

  private itemSteps(seq: { runSeq: number }, write: ExecutionWrite, steps: WeightedSteps): void {
    this.inserts.item.pushSteps(steps, lastItemPerKey(write.upsertItems), (item) => [seq.runSeq, item.kind, item.id, item.data]);
  }

  /**
   * The checks above make a duplicate unreachable; the primary key is the last line of defence, never
   * an overwrite. Up to ROWS_PER_INSERT events per statement.
   */
  private eventSteps(seq: { runSeq: number }, write: ExecutionWrite, steps: WeightedSteps): void {
    this.inserts.event.pushSteps(
      steps,
      write.events,
      (event) => [seq.runSeq, event.eventId, event.data],
      (chunk) => new ConditionFailedError(`${describeRun(write.key)}: ${eventIds(chunk)} already exists`),
    );
  }

  private writeDeletion(shardId: number, deletion: ExecutionDeletion): void {
    const run = runParams(shardId, deletion.key);
    const runSeq = this.checkDbVersion(run, deletion.key, deletion.expectedDbVersion, 'deletion');
    // The run's tasks stay: each finds no run when it comes up and is dropped (as Temporal's are).
    // Only when the pointer is at this run: a newer run of the workflow id keeps its pointer.
    this.sql.deleteCurrentIfRun.run(run);
    this.sql.deleteExecution.run(runSeq);
  }

  private taskSteps(commit: ShardCommit, steps: WeightedSteps): void {
    const { shardId } = commit;
    this.inserts.task.pushSteps(
      steps,
      commit.tasks,
      (t) => [shardId, t.categoryId, t.fireAt, t.taskId, t.namespaceId, t.workflowId, t.runId, t.type, t.data],
      // A duplicate task id means the id allocator handed one out twice: a bug, not a lost race.
      (chunk) => new InvariantViolationError(`a task of [${chunk.map((t) => t.taskId).join(', ')}] already exists in shard ${shardId}`),
    );
  }

  /**
   * Deleted task ids stay counted in maxTaskId: before the last trace of an id leaves history_tasks,
   * the shard row's mark is raised past it. Only deletions write it, so a commit never touches the
   * shard row.
   */
  private markTaskIdsUsed(shardId: number, maxTaskId: number): void {
    if (maxTaskId > 0) this.sql.raiseMaxTaskId.run(maxTaskId, shardId);
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

/** The events of a failed insert, for its message. */
function eventIds(events: readonly HistoryEventRow[]): string {
  const first = events[0]?.eventId;
  const last = events[events.length - 1]?.eventId;
  return events.length === 1 ? `event ${first}` : `an event of ${first}..${last}`;
}

function sortUsage(rows: UsageRow[]): UsageRow[] {
  return rows.sort((a, b) => a.hourStart - b.hourStart || cmp(a.namespaceId, b.namespaceId) || cmp(a.recordType, b.recordType));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toTask(row: TaskRow): HistoryTaskRow {
  return {
    categoryId: row.category_id,
    taskId: row.task_id,
    fireAt: row.fire_at,
    namespaceId: row.namespace_id,
    workflowId: row.workflow_id,
    runId: row.run_id,
    type: row.type,
    data: row.data,
  };
}

/** The namespace a commit belongs to, its turn in the lane ('' for one that names no run: not seen today). */
function commitTenant(commit: ShardCommit): string {
  return (commit.update ?? commit.create ?? commit.deletion)?.key.namespaceId ?? commit.current?.namespaceId ?? '';
}
