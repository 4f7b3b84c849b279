import { createHash } from 'node:crypto';
import { InvalidArgumentError, InvariantViolationError, type Clock, type HourglassError } from '@hourglass/common';
import type { ResultSetHeader } from 'mysql2';
import { checkAppendedEvents, checkCommitShape, checkNoCommitUsage, checkUsageIncrements, checkUsageQuery, describeRun, lastItemPerKey, mergeIncrements } from '../store-checks';
import { ConditionFailedError, CurrentExecutionConditionFailedError, ShardOwnershipLostError } from '../errors';
import type {
  CurrentExecutionRecord,
  CurrentExecutionUpdate,
  ExecutionDeletion,
  ExecutionItemKey,
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
  UsageQuery,
  UsageRow,
} from '../types';
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
  GUARD_FAILED,
  StatementFailedError,
  guardStatement,
  type MysqlDatabase,
  type PipelinedTransaction,
  type SqlParam,
  type Statement,
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

  /** Every shard database once. */
  get all(): readonly MysqlDatabase[] {
    return [...new Set(this.databases)];
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
  category_id: number;
  fire_at: number;
  task_id: number;
  namespace_id: Buffer;
  workflow_id: Buffer;
  run_id: Buffer;
  type: string;
  data: string;
}

interface TaskKeyRow {
  category_id: number;
  fire_at: number;
  task_id: number;
}

/** One row of getExecution's UNION: part 0 is the execution row, part 1 the items. */
interface ExecutionPartRow {
  part: number;
  data: string;
  next_event_id: number | null;
  db_version: number | null;
  kind: Buffer | null;
  item_id: Buffer | null;
}

const RUN_WHERE = 'shard_id = ? AND namespace_id = ? AND workflow_id = ? AND run_id = ?';
const CURRENT_WHERE = 'shard_id = ? AND namespace_id = ? AND workflow_id = ?';
const CURRENT_COLUMNS = 'run_id, create_request_id, running, status, start_time';
const TASK_COLUMNS = 'category_id, fire_at, task_id, namespace_id, workflow_id, run_id, type, data';
const TASK_KEY_WHERE = '(category_id = ? AND fire_at = ? AND task_id = ?)';
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
 * 4. writes state, item rows, history and tasks with multi-row INSERTs; duplicate keys abort it.
 *
 * Locks are always taken in that order (shard, pointer, execution), by a run's deletion too.
 * Anything that throws rolls the whole transaction back. See sql.ts for why READ COMMITTED.
 */
export class MysqlExecutionStore implements ExecutionStore {
  /** Usage goes as usage tasks, folded in batches: in the commits, every commit of a namespace would queue on its counter rows. */
  readonly foldsUsageInCommit = false;

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

  async releaseShard(shardId: number, owner: string, rangeId: number): Promise<boolean> {
    // Takes the row's exclusive lock like acquireShard: it waits for the commits that read the old
    // range_id, and none with it succeeds afterwards.
    const result = await this.shards
      .databaseFor(shardId)
      .run("UPDATE shards SET range_id = range_id + 1, owner = '', updated_at = ? WHERE shard_id = ? AND range_id = ? AND owner = ?", [this.clock.now(), shardId, rangeId, owner]);
    return result.affectedRows === 1;
  }

  async getShard(shardId: number): Promise<ShardRecord | undefined> {
    const db = this.shards.databaseFor(shardId);
    const [row] = await db.rows<ShardRow>('SELECT shard_id, range_id, owner, updated_at FROM shards WHERE shard_id = ?', [shardId]);
    return row && toShard(row);
  }

  async commit(commit: ShardCommit): Promise<void> {
    const db = this.shards.databaseFor(commit.shardId);
    checkCommitShape(commit);
    checkNoCommitUsage(commit);
    const plan = new CommitPlan(commit);
    await db.pipelined(async (tx) => {
      if (plan.optimistic) {
        // One round trip: START TRANSACTION, the locking reads, the guard (every condition in
        // SQL), the writes, COMMIT. The guard failing skips the writes and COMMIT; the two round
        // trips below then run from scratch and report exactly which condition failed.
        const locking = plan.lockingReads();
        const guardAt = locking.length;
        const writes = plan.writes();
        await tx.begin([]);
        try {
          const written = await tx.commit([...locking, plan.guard(), ...writes.map((w) => w.statement)]);
          writes.forEach((write, i) => write.committed?.(written[guardAt + 1 + i] as ResultSetHeader));
          return;
        } catch (err) {
          if (!(err instanceof StatementFailedError)) throw err;
          // Only the guard raises this (by its code, not its index: an error a statement raises
          // after its column definitions arrived is counted one statement late).
          if (err.code !== GUARD_FAILED) throw err.index <= guardAt ? err : await writeError(err, writes, guardAt + 1, tx);
        }
        await tx.rollback();
      }
      // Round trip 1: START TRANSACTION and every locking read, in lock order.
      const results = await tx.begin(plan.reads);
      // The checks, in the order the statements ran; any throw rolls back.
      const writes = plan.check(results);
      // Round trip 2: every write and COMMIT. A failing write skips the rest, COMMIT included.
      let written: unknown[];
      try {
        written = await tx.commit(writes.map((w) => w.statement));
      } catch (err) {
        if (err instanceof StatementFailedError) throw await writeError(err, writes, 0, tx);
        throw err;
      }
      writes.forEach((write, i) => write.committed?.(written[i] as ResultSetHeader));
    });
  }

  async getExecution(shardId: number, key: ExecutionKey): Promise<ExecutionRecord | undefined> {
    const db = this.shards.databaseFor(shardId);
    const run = runParams(shardId, key);
    // ONE statement: under READ COMMITTED a statement reads one snapshot, so the items always
    // belong to the db_version returned with them (two statements could straddle a commit).
    const rows = await db.rows<ExecutionPartRow>(
      `SELECT 0 AS part, state AS data, next_event_id, db_version, NULL AS kind, NULL AS item_id FROM executions WHERE ${RUN_WHERE}
       UNION ALL
       SELECT 1, data, NULL, NULL, kind, item_id FROM execution_items WHERE ${RUN_WHERE}`,
      [...run, ...run],
    );
    const row = rows.find((r) => Number(r.part) === 0);
    if (!row) return undefined;
    const items: ExecutionItemRow[] = rows
      .filter((r) => Number(r.part) === 1)
      .map((r) => ({ kind: toText(r.kind), id: toText(r.item_id), data: toText(r.data) }));
    return {
      ...pickKey(key),
      state: toText(row.data),
      items,
      nextEventId: toInt(row.next_event_id, 'executions.next_event_id'),
      dbVersion: toInt(row.db_version, 'executions.db_version'),
    };
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

  async listExecutionKeys(shardId: number, namespaceId: string, after: { workflowId: string; runId: string } | undefined, limit: number): Promise<ExecutionKey[]> {
    checkLimit(limit);
    const db = this.shards.databaseFor(shardId);
    const workflowId = after?.workflowId ?? '';
    const runId = after?.runId ?? '';
    const rows = await db.rows<{ workflow_id: Buffer; run_id: Buffer }>(
      `SELECT workflow_id, run_id FROM executions
       WHERE shard_id = ? AND namespace_id = ? AND (workflow_id > ? OR (workflow_id = ? AND run_id > ?))
       ORDER BY workflow_id, run_id LIMIT ?`,
      [shardId, namespaceId, workflowId, workflowId, runId, limit],
    );
    return rows.map((row) => ({ namespaceId, workflowId: toText(row.workflow_id), runId: toText(row.run_id) }));
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

  async listImmediateTasks(shardId: number, categoryId: number, afterTaskId: number, limit: number): Promise<HistoryTaskRow[]> {
    checkLimit(limit);
    const db = this.shards.databaseFor(shardId);
    const rows = await db.rows<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM history_tasks WHERE shard_id = ? AND category_id = ? AND fire_at = 0 AND task_id > ? ORDER BY task_id LIMIT ?`,
      [shardId, categoryId, afterTaskId, limit],
    );
    return rows.map(toTask);
  }

  async listScheduledTasks(shardId: number, categoryId: number, beforeFireAt: number, limit: number): Promise<HistoryTaskRow[]> {
    checkLimit(limit);
    const db = this.shards.databaseFor(shardId);
    const rows = await db.rows<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM history_tasks WHERE shard_id = ? AND category_id = ? AND fire_at < ? ORDER BY fire_at, task_id LIMIT ?`,
      [shardId, categoryId, beforeFireAt, limit],
    );
    return rows.map(toTask);
  }

  async deleteTasks(shardId: number, keys: HistoryTaskKey[]): Promise<void> {
    const db = this.shards.databaseFor(shardId);
    const chunks = inListChunks(keys);
    if (chunks.length === 0) return;
    // An OR of primary-key equalities: every server turns it into point lookups, which is not
    // true of a row-constructor IN list.
    const where = (chunk: readonly HistoryTaskKey[]): Statement => ({
      sql: `shard_id = ? AND (${chunk.map(() => TASK_KEY_WHERE).join(' OR ')})`,
      params: taskKeyParams(shardId, chunk),
    });
    // One round trip. The locking reads come first: a row some commit is still inserting is
    // waited for, so once they return every listed row that exists is committed and locked by
    // us. The mark is then raised to the highest of them (a fresh committed read of the same
    // keys, which sees exactly those rows: they cannot be deleted under our locks, and a key that
    // was absent appears only if a task id were handed out twice), and exactly they are deleted.
    await db.pipelined(async (tx) => {
      const statements: Statement[] = [];
      for (const chunk of chunks) {
        const w = where(chunk);
        statements.push({ sql: `SELECT task_id FROM history_tasks WHERE ${w.sql} FOR UPDATE`, params: w.params });
      }
      for (const chunk of chunks) {
        const w = where(chunk);
        statements.push({
          sql: `INSERT INTO shard_task_id_marks (shard_id, max_task_id)
           SELECT ?, MAX(task_id) FROM history_tasks WHERE ${w.sql} HAVING MAX(task_id) IS NOT NULL
           ON DUPLICATE KEY UPDATE max_task_id = GREATEST(max_task_id, VALUES(max_task_id))`,
          params: [shardId, ...w.params!],
        });
        statements.push({ sql: `DELETE FROM history_tasks WHERE ${w.sql}`, params: w.params });
      }
      await tx.begin([]);
      await tx.commit(statements);
    });
  }

  async deleteImmediateTasksUpTo(shardId: number, categoryId: number, maxTaskId: number): Promise<void> {
    const db = this.shards.databaseFor(shardId);
    const range = 'shard_id = ? AND category_id = ? AND fire_at = 0 AND task_id <= ?';
    await db.pipelined(async (tx) => {
      // Only the highest row of the range is locked and counted (a backward scan of the primary
      // key that waits for a row still being inserted). The delete is bounded by that row, not by
      // maxTaskId: a row committed after this read with a higher id is left for the next ack,
      // so every id deleted is covered by the high-water mark.
      const [rows] = await tx.begin([{ sql: `SELECT task_id FROM history_tasks WHERE ${range} ORDER BY task_id DESC LIMIT 1 FOR UPDATE`, params: [shardId, categoryId, maxTaskId] }]);
      const [top] = rows as { task_id: number }[];
      if (!top) return;
      const upTo = toInt(top.task_id, 'task_id');
      await tx.commit([taskIdMark(shardId, upTo), { sql: `DELETE FROM history_tasks WHERE ${range}`, params: [shardId, categoryId, upTo] }]);
    });
  }

  async maxTaskId(shardId: number): Promise<number> {
    const db = this.shards.databaseFor(shardId);
    // One statement reads one committed snapshot, and a deletion raises the mark in the same
    // transaction that removes the tasks, so no id can fall between the two reads.
    const [row] = await db.rows<{ max_task_id: number }>(
      `SELECT GREATEST(
         COALESCE((SELECT max_task_id FROM shard_task_id_marks WHERE shard_id = ?), 0),
         COALESCE((SELECT MAX(task_id) FROM history_tasks WHERE shard_id = ?), 0)) AS max_task_id`,
      [shardId, shardId],
    );
    return row ? toInt(row.max_task_id, 'max_task_id') : 0;
  }

  async foldUsageTasks(shardId: number, rangeId: number, batch: readonly UsageFold[]): Promise<boolean[]> {
    for (const fold of batch) checkUsageIncrements(fold.increments);
    if (batch.length === 0) return [];
    const db = this.shards.databaseFor(shardId);
    const keysWhere = (chunk: readonly HistoryTaskKey[]): string => `shard_id = ? AND (${chunk.map(() => TASK_KEY_WHERE).join(' OR ')})`;
    // The range_id check and the tasks' locking reads. Two folds of the same task (a retry racing
    // the first) serialise here, and only one finds the row.
    const reads: Statement[] = [
      { sql: RANGE_ID_SQL, params: [shardId] },
      ...inListChunks(batch.map((f) => f.task)).map((chunk) => ({ sql: `SELECT category_id, fire_at, task_id FROM history_tasks WHERE ${keysWhere(chunk)} FOR UPDATE`, params: taskKeyParams(shardId, chunk) })),
    ];
    // A task listed twice in the batch folds once.
    const firsts = (present: (taskId: number) => boolean): boolean[] => {
      const taken = new Set<number>();
      return batch.map(({ task }) => {
        if (!present(task.taskId) || taken.has(task.taskId)) return false;
        taken.add(task.taskId);
        return true;
      });
    };
    return db.pipelined(async (tx) => {
      // One round trip when the shard is still ours and every task is there (the usual case):
      // the reads, a guard that fails unless both hold (see CommitPlan.guard), the writes, COMMIT.
      const folded = firsts(() => true);
      const distinct = batch.filter((_, i) => folded[i]).map((f) => f.task);
      const conditions: Statement[] = [
        { sql: '(SELECT range_id FROM shards WHERE shard_id = ?) = ?', params: [shardId, rangeId] },
        ...inListChunks(distinct).map((chunk) => ({ sql: `(SELECT COUNT(*) FROM history_tasks WHERE ${keysWhere(chunk)}) = ?`, params: [...taskKeyParams(shardId, chunk), new Set(chunk).size] })),
      ];
      await tx.begin([]);
      try {
        await tx.commit([...reads, guardStatement(conditions), ...foldWrites(shardId, batch, folded)]);
        return folded;
      } catch (err) {
        if (!(err instanceof StatementFailedError) || err.code !== GUARD_FAILED) throw err;
      }
      await tx.rollback();
      // Two round trips otherwise: the reads, then (when anything folds) the writes and COMMIT.
      const [range, ...found] = await tx.begin(reads);
      compareRangeId(shardId, rangeId, (range as { range_id: number }[])[0]);
      const present = new Set<number>();
      for (const rows of found as TaskKeyRow[][]) for (const row of rows) present.add(toInt(row.task_id, 'task_id'));
      const foldedNow = firsts((taskId) => present.has(taskId));
      if (foldedNow.some((f) => f)) await tx.commit(foldWrites(shardId, batch, foldedNow));
      return foldedNow;
    });
  }

  async readHourlyUsage(query: UsageQuery): Promise<UsageRow[]> {
    checkUsageQuery(query);
    const ids = [...new Set(query.namespaceIds)];
    const sums = new Map<string, UsageRow>();
    for (const chunk of inListChunks(ids)) {
      for (const db of this.shards.all) {
        const rows = await db.rows<{ namespace_id: Buffer | string; hour_start: number; record_type: Buffer | string; amount: number | string }>(
          `SELECT namespace_id, hour_start, record_type, amount FROM usage_hourly
           WHERE namespace_id IN (${placeholders(chunk.length)}) AND hour_start >= ? AND hour_start < ?`,
          [...chunk, query.fromMs, query.toMs],
        );
        for (const row of rows) {
          const namespaceId = toText(row.namespace_id);
          const hourStart = toInt(row.hour_start, 'usage_hourly.hour_start');
          const recordType = toText(row.record_type);
          const amount = toInt(row.amount, 'usage_hourly.amount');
          const k = `${hourStart}\u0000${namespaceId}\u0000${recordType}`;
          const sum = sums.get(k);
          if (sum) sum.amount += amount;
          else sums.set(k, { namespaceId, hourStart, recordType, amount });
        }
      }
    }
    return [...sums.values()].sort(
      (a, b) => a.hourStart - b.hourStart || (a.namespaceId < b.namespaceId ? -1 : a.namespaceId > b.namespaceId ? 1 : 0) || (a.recordType < b.recordType ? -1 : a.recordType > b.recordType ? 1 : 0),
    );
  }
}

const RANGE_ID_SQL = 'SELECT range_id FROM shards WHERE shard_id = ? LOCK IN SHARE MODE';

function compareRangeId(shardId: number, expected: number, row: { range_id: number } | undefined): void {
  const actual = row ? toInt(row.range_id, 'shards.range_id') : 0;
  if (actual !== expected) throw new ShardOwnershipLostError(shardId, expected, actual);
}

/** The commit's error for a failed statement of a packet whose writes start at `offset`. */
async function writeError(err: StatementFailedError, writes: readonly Write[], offset: number, tx: PipelinedTransaction): Promise<unknown> {
  const onError = writes[err.index - offset]?.onError;
  return onError ? onError(err, tx) : err;
}

/** A write of a pipelined commit and what its failure means (a duplicate key, mostly). */
interface Write {
  statement: Statement;
  /** Turns the statement's error into the commit's error; may read more inside the transaction first. */
  onError?: (err: StatementFailedError, tx: PipelinedTransaction) => Promise<HourglassError | StatementFailedError>;
  /** Checks the statement's result once committed. */
  committed?: (result: ResultSetHeader) => void;
}

/**
 * One commit as statements: the locking reads in the order locks are taken (shard, current
 * pointer, the update's run, the created run, the deleted run's pointer and run); `check`, the
 * conditions compared in JS in that order; the writes; and, unless the commit deletes a run or
 * fails a check that needs no read, the same conditions as one SQL guard (`guard`).
 */
class CommitPlan {
  readonly reads: Statement[] = [];
  /** Indexes in `reads` of the reads that take no lock (what the guard reads again anyway). */
  private readonly plainReads = new Set<number>();
  /** False when the commit cannot go in one packet (see `MysqlExecutionStore.commit`). */
  optimistic = true;
  private readonly checks: ((results: unknown[], writes: Write[]) => void)[] = [];
  /** Conditions (SQL boolean expressions) that hold exactly when `check` passes. */
  private readonly conditions: Statement[] = [];
  /** Writes that do not depend on what was read. */
  private readonly fixedWrites: Write[] = [];

  constructor(private readonly commit: ShardCommit) {
    const { shardId } = commit;
    this.read({ sql: RANGE_ID_SQL, params: [shardId] }, (rows: { range_id: number }[]) => compareRangeId(shardId, commit.rangeId, rows[0]));
    this.conditions.push({ sql: '(SELECT range_id FROM shards WHERE shard_id = ?) = ?', params: [shardId, commit.rangeId] });
    if (commit.current) this.planCurrent(commit.current);
    if (commit.update) this.planUpdate(commit.update);
    if (commit.create) this.planCreate(commit.create);
    if (commit.deletion) this.planDeletion(commit.deletion);
  }

  /** Runs the checks on the reads' results (throwing the first that fails); the writes, tasks last. */
  check(results: unknown[]): Write[] {
    const writes: Write[] = [];
    for (const step of this.checks) step(results, writes);
    return [...writes, ...taskWrites(this.commit)];
  }

  /** The writes when every condition holds (what `check` returns then). */
  writes(): Write[] {
    return [...this.fixedWrites, ...taskWrites(this.commit)];
  }

  /** Every condition as one guard statement (see guardStatement). */
  guard(): Statement {
    return guardStatement(this.conditions);
  }

  /** The reads that take locks, in order: the one-packet attempt needs only these before its guard. */
  lockingReads(): Statement[] {
    return this.reads.filter((_, i) => !this.plainReads.has(i));
  }

  /** Adds a read whose rows `then` gets (with the writes to extend) when checking. */
  private read<R>(statement: Statement, then: (rows: R[], writes: Write[]) => void, locking = true): void {
    const index = this.reads.push(statement) - 1;
    if (!locking) this.plainReads.add(index);
    this.checks.push((results, writes) => then(results[index] as R[], writes));
  }

  /** Adds writes to both paths. */
  private write(writes: Write[]): void {
    this.checks.push((_, out) => out.push(...writes));
    this.fixedWrites.push(...writes);
  }

  private planCurrent(current: CurrentExecutionUpdate): void {
    const { shardId } = this.commit;
    const { namespaceId, workflowId, expectedRunId, record } = current;
    const where = [shardId, namespaceId, workflowId];
    const mismatch = (row: CurrentRow | undefined): CurrentExecutionConditionFailedError => {
      const actualRunId = row ? toText(row.run_id) : null;
      return new CurrentExecutionConditionFailedError(
        `current run of workflow ${workflowId} (namespace ${namespaceId}) is ${actualRunId ?? 'absent'}, the write expected ${expectedRunId ?? 'none'}`,
        row && toCurrent(namespaceId, workflowId, row),
      );
    };
    const recordMatches = record.namespaceId === namespaceId && record.workflowId === workflowId;
    if (!recordMatches) this.optimistic = false;
    this.read({ sql: `SELECT ${CURRENT_COLUMNS} FROM current_executions WHERE ${CURRENT_WHERE} FOR UPDATE`, params: where }, (rows: CurrentRow[]) => {
      if (!recordMatches) {
        throw new InvalidArgumentError(
          `current record is for workflow ${record.workflowId} (namespace ${record.namespaceId}), the update is for ${workflowId} (namespace ${namespaceId})`,
        );
      }
      const [row] = rows;
      if ((row ? toText(row.run_id) : null) !== expectedRunId) throw mismatch(row);
    });
    this.conditions.push(
      expectedRunId === null
        ? { sql: `NOT EXISTS (SELECT 1 FROM current_executions WHERE ${CURRENT_WHERE})`, params: where }
        : { sql: `(SELECT run_id FROM current_executions WHERE ${CURRENT_WHERE}) = ?`, params: [...where, expectedRunId] },
    );
    const values = [record.runId, record.createRequestId, record.running ? 1 : 0, record.status, record.startTime];
    // The pointer exists exactly when a run was expected (the check above).
    if (expectedRunId !== null) {
      this.write([
        { statement: { sql: `UPDATE current_executions SET run_id = ?, create_request_id = ?, running = ?, status = ?, start_time = ? WHERE ${CURRENT_WHERE}`, params: [...values, ...where] } },
      ]);
      return;
    }
    this.write([
      {
        statement: { sql: `INSERT INTO current_executions (shard_id, namespace_id, workflow_id, ${CURRENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, params: [...where, ...values] },
        onError: async (err, tx) => {
          if (err.code !== 'ER_DUP_ENTRY') return err;
          // A racing start inserted the pointer after our read saw none (READ COMMITTED takes no
          // gap lock on an absent row; the primary key decides). Report what it wrote.
          const [winners] = await tx.query([{ sql: `SELECT ${CURRENT_COLUMNS} FROM current_executions WHERE ${CURRENT_WHERE}`, params: where }]);
          return mismatch((winners as CurrentRow[])[0]);
        },
      },
    ]);
  }

  /**
   * Locks the run's execution row and requires its db_version to be `expected`: checked in JS on
   * the two-round-trip path (ConditionFailedError naming `what`), and by the guard in one packet.
   */
  private lockAtVersion(key: ExecutionKey, run: SqlParam[], expected: number, what: string): void {
    this.read({ sql: `SELECT db_version FROM executions WHERE ${RUN_WHERE} FOR UPDATE`, params: run }, (rows: { db_version: number }[]) => {
      const dbVersion = rows[0] ? toInt(rows[0].db_version, 'executions.db_version') : undefined;
      if (dbVersion !== expected) {
        const found = dbVersion === undefined ? 'it does not exist' : `db version is ${dbVersion}`;
        throw new ConditionFailedError(`${describeRun(key)}: ${found}, the ${what} expected db version ${expected}`);
      }
    });
    this.conditions.push({ sql: `(SELECT db_version FROM executions WHERE ${RUN_WHERE}) = ?`, params: [...run, expected] });
  }

  private planUpdate(update: ExecutionUpdate): void {
    const run = runParams(this.commit.shardId, update.key);
    this.lockAtVersion(update.key, run, update.expectedDbVersion, 'update');
    const first = update.events[0];
    if (first) {
      // Exact: every append to a run's history holds its execution row's lock, taken just above.
      const maxSql = `SELECT MAX(event_id) AS max_event_id FROM history_events WHERE ${RUN_WHERE}`;
      this.read({ sql: maxSql, params: run }, (rows: { max_event_id: number | null }[]) => {
        const max = rows[0]?.max_event_id;
        checkAppendedEvents(update, (max == null ? 0 : toInt(max, 'history_events.event_id')) + 1);
      }, false);
      this.conditions.push({ sql: `COALESCE((${maxSql}), 0) = ?`, params: [...run, first.eventId - 1] });
      if (!passes(() => checkAppendedEvents(update, first.eventId))) this.optimistic = false;
    }
    this.write([
      {
        // The db_version condition again, in the statement: a mismatch sets NULL, which the NOT
        // NULL column refuses (STRICT_ALL_TABLES), failing the packet before COMMIT.
        statement: {
          sql: `UPDATE executions SET state = ?, next_event_id = ?, db_version = IF(db_version = ?, db_version + 1, NULL) WHERE ${RUN_WHERE}`,
          params: [update.state, update.nextEventId, update.expectedDbVersion, ...run],
        },
        onError: async (err) =>
          err.code === 'ER_BAD_NULL_ERROR' ? new InvariantViolationError(`${describeRun(update.key)}: checked update found db version changed under its lock`, undefined, { cause: err.error }) : err,
        committed: (result) => {
          // Unreachable: the row was locked FOR UPDATE with the expected version above.
          if (result.affectedRows !== 1) throw new InvariantViolationError(`${describeRun(update.key)}: checked update changed ${result.affectedRows} rows`);
        },
      },
      ...deleteItemWrites(run, update.deleteItems),
      ...upsertItemWrites(run, update),
      ...eventWrites(run, update),
    ]);
  }

  private planCreate(create: ExecutionWrite): void {
    const run = runParams(this.commit.shardId, create.key);
    const exists = () => new ConditionFailedError(`${describeRun(create.key)} already exists`);
    this.read({ sql: `SELECT db_version FROM executions WHERE ${RUN_WHERE} FOR UPDATE`, params: run }, (rows) => {
      if (rows[0]) throw exists();
      checkAppendedEvents(create, 1);
    });
    this.conditions.push({ sql: `NOT EXISTS (SELECT 1 FROM executions WHERE ${RUN_WHERE})`, params: run });
    if (!passes(() => checkAppendedEvents(create, 1))) this.optimistic = false;
    this.write([
      {
        statement: {
          sql: `INSERT INTO executions (shard_id, namespace_id, workflow_id, run_id, state, next_event_id, db_version) VALUES (?, ?, ?, ?, ?, ?, 1)`,
          params: [...run, create.state, create.nextEventId],
        },
        // A racing create of the same run committed between our read and our insert.
        onError: async (err) => (err.code === 'ER_DUP_ENTRY' ? exists() : err),
      },
      ...upsertItemWrites(run, create),
      ...eventWrites(run, create),
    ]);
  }

  /**
   * Removes a run whose db_version is still the expected one. Same lock order as every commit
   * (pointer, then execution), so the two cannot deadlock on the same run.
   */
  private planDeletion(deletion: ExecutionDeletion): void {
    const { shardId } = this.commit;
    const { key } = deletion;
    const run = runParams(shardId, key);
    this.read({ sql: `SELECT run_id FROM current_executions WHERE ${CURRENT_WHERE} FOR UPDATE`, params: [shardId, key.namespaceId, key.workflowId] }, () => undefined);
    this.lockAtVersion(key, run, deletion.expectedDbVersion, 'deletion');
    // The run's tasks stay: each finds no run when it comes up and is dropped (as Temporal's are).
    // Only when the pointer is at this run: a newer run of the workflow id keeps its pointer.
    this.write(['current_executions', 'history_events', 'execution_items', 'executions'].map((table) => ({ statement: { sql: `DELETE FROM ${table} WHERE ${RUN_WHERE}`, params: run } })));
  }
}

/** The writes of a usage fold: the mark, the folded tasks' deletes, the counters. */
function foldWrites(shardId: number, batch: readonly UsageFold[], folded: readonly boolean[]): Statement[] {
  const tasks = batch.filter((_, i) => folded[i]).map((f) => f.task);
  const writes: Statement[] = [taskIdMark(shardId, Math.max(...tasks.map((t) => t.taskId)))];
  for (const chunk of inListChunks(tasks)) {
    writes.push({ sql: `DELETE FROM history_tasks WHERE shard_id = ? AND (${chunk.map(() => TASK_KEY_WHERE).join(' OR ')})`, params: taskKeyParams(shardId, chunk) });
  }
  // In key order, so concurrent folds take the counter rows' locks in the same order.
  // Multi-row inserts without padding (a repeated row would count twice).
  for (const chunk of insertBatches(mergeIncrements(batch, folded), () => 128)) {
    writes.push({
      sql: `INSERT INTO usage_hourly (namespace_id, hour_start, record_type, amount) VALUES ${placeholders(chunk.length, '(?, ?, ?, ?)')}
       ON DUPLICATE KEY UPDATE amount = amount + VALUES(amount)`,
      params: chunk.flatMap((i) => [i.namespaceId, i.hourStart, i.recordType, i.amount]),
    });
  }
  return writes;
}

/** Whether `check` returns without throwing. */
function passes(check: () => void): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

/** Item rows are keyed by SHA-256 of the id (see the shard schema, version 2). */
function itemKey(id: string): Buffer {
  return createHash('sha256').update(id, 'utf8').digest();
}

function deleteItemWrites(run: SqlParam[], keys: readonly ExecutionItemKey[]): Write[] {
  return inListChunks(lastItemPerKey(keys)).map((chunk) => ({
    statement: {
      sql: `DELETE FROM execution_items WHERE ${RUN_WHERE} AND (${chunk.map(() => '(kind = ? AND item_key = ?)').join(' OR ')})`,
      params: [...run, ...chunk.flatMap((key) => [key.kind, itemKey(key.id)])],
    },
  }));
}

function upsertItemWrites(run: SqlParam[], write: ExecutionWrite): Write[] {
  const items = lastItemPerKey(write.upsertItems);
  return insertBatches(items, (item) => Buffer.byteLength(item.data) + Buffer.byteLength(item.id) + ROW_OVERHEAD_BYTES).map((batch) => {
    const params: SqlParam[] = [];
    for (const item of batch) params.push(...run, item.kind, itemKey(item.id), item.id, item.data);
    return {
      statement: {
        sql: `INSERT INTO execution_items (shard_id, namespace_id, workflow_id, run_id, kind, item_key, item_id, data)
       VALUES ${placeholders(batch.length, '(?, ?, ?, ?, ?, ?, ?, ?)')}
       ON DUPLICATE KEY UPDATE item_id = VALUES(item_id), data = VALUES(data)`,
        params,
      },
    };
  });
}

/** The checks above make a duplicate unreachable; the primary key is the last line of defence, never an overwrite. */
function eventWrites(run: SqlParam[], write: ExecutionWrite): Write[] {
  // Bytes travel as hex: twice their size in the statement.
  return insertBatches(write.events, (event) => 2 * event.data.byteLength + ROW_OVERHEAD_BYTES).map((batch) => {
    const params: SqlParam[] = [];
    for (const event of batch) params.push(...run, event.eventId, asBuffer(event.data));
    return {
      statement: { sql: `INSERT INTO history_events (shard_id, namespace_id, workflow_id, run_id, event_id, data) VALUES ${placeholders(batch.length, '(?, ?, ?, ?, ?, ?)')}`, params },
      onError: async (err) => {
        if (err.code !== 'ER_DUP_ENTRY') return err;
        const ids = batch.map((event) => event.eventId);
        const which = ids.length === 1 ? `event ${ids[0]}` : `an event of ${describeIds(ids)}`;
        return new ConditionFailedError(`${describeRun(write.key)}: ${which} already exists`);
      },
    };
  });
}

/** A duplicate task id means the id allocator handed one out twice: a bug, not a lost race. */
function taskWrites(commit: ShardCommit): Write[] {
  const { shardId } = commit;
  return insertBatches(commit.tasks, (task) => Buffer.byteLength(task.data) + ROW_OVERHEAD_BYTES).map((batch) => {
    const params: SqlParam[] = [];
    for (const task of batch) {
      params.push(shardId, task.categoryId, task.fireAt, task.taskId, task.namespaceId, task.workflowId, task.runId, task.type, task.data);
    }
    return {
      statement: { sql: `INSERT INTO history_tasks (shard_id, ${TASK_COLUMNS}) VALUES ${placeholders(batch.length, '(?, ?, ?, ?, ?, ?, ?, ?, ?)')}`, params },
      onError: async (err) => {
        if (err.code !== 'ER_DUP_ENTRY') return err;
        const ids = batch.map((task) => task.taskId);
        const which = ids.length === 1 ? `task ${ids[0]}` : `a task of ${describeIds(ids)}`;
        return new InvariantViolationError(`${which} already exists in shard ${shardId}`);
      },
    };
  });
}

/** Records that ids up to `maxTaskId` were used, before their last trace leaves the task tables. */
function taskIdMark(shardId: number, maxTaskId: number): Statement {
  return {
    sql: `INSERT INTO shard_task_id_marks (shard_id, max_task_id) VALUES (?, ?)
     ON DUPLICATE KEY UPDATE max_task_id = GREATEST(max_task_id, VALUES(max_task_id))`,
    params: [shardId, maxTaskId],
  };
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

function taskKeyParams(shardId: number, keys: readonly HistoryTaskKey[]): SqlParam[] {
  return [shardId, ...keys.flatMap((key) => [key.categoryId, key.fireAt, key.taskId])];
}

function toTask(row: TaskRow): HistoryTaskRow {
  return {
    categoryId: toInt(row.category_id, 'history_tasks.category_id'),
    taskId: toInt(row.task_id, 'history_tasks.task_id'),
    fireAt: toInt(row.fire_at, 'history_tasks.fire_at'),
    namespaceId: toText(row.namespace_id),
    workflowId: toText(row.workflow_id),
    runId: toText(row.run_id),
    type: row.type,
    data: row.data,
  };
}
