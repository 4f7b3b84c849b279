import { InvariantViolationError } from '@hourglass/common';
import { ConditionFailedError } from '../errors';
import type { TaskQueueKey, TaskQueueKindName, TaskQueueLease, TaskQueueStore, TaskQueueTaskRow, TaskQueueType } from '../types';
import {
  GUARD_FAILED,
  StatementFailedError,
  checkLimit,
  describeIds,
  guardStatement,
  inListChunks,
  insertBatches,
  placeholders,
  toInt,
  toText,
  type MysqlDatabase,
  type SqlParam,
  type Statement,
} from './sql';

/** `partition` is an SQL keyword, hence partition_id. */
const KEY_WHERE = 'namespace_id = ? AND name = ? AND type = ? AND kind = ? AND partition_id = ?';
const KEY_COLUMNS = 'namespace_id, name, type, kind, partition_id';

interface KeyRow {
  namespace_id: Buffer;
  name: Buffer;
  type: Buffer;
  kind: Buffer;
  partition_id: number;
}

interface TaskRow {
  task_id: number;
  data: string;
  expires_at: number;
}

/**
 * Task queues and their backlog live in the cluster database (see README: task queue rows are
 * small and only written when a task finds no waiting poller, and keeping them out of the shard
 * databases keeps moving a history shard a matter of history tables alone).
 */
export class MysqlTaskQueueStore implements TaskQueueStore {
  constructor(private readonly db: MysqlDatabase) {}

  async leaseTaskQueue(key: TaskQueueKey): Promise<TaskQueueLease> {
    // Upsert and read back in one transaction (one round trip): the row lock taken by the upsert
    // keeps another lease from bumping it between the two statements.
    return this.db.pipelined(async (tx) => {
      await tx.begin([]);
      const [, rows] = await tx.commit([
        { sql: `INSERT INTO task_queues (${KEY_COLUMNS}, range_id) VALUES (?, ?, ?, ?, ?, 1) ON DUPLICATE KEY UPDATE range_id = range_id + 1`, params: keyParams(key) },
        { sql: `SELECT range_id FROM task_queues WHERE ${KEY_WHERE}`, params: keyParams(key) },
      ]);
      const [row] = rows as { range_id: number }[];
      return { rangeId: toInt(row!.range_id, 'task_queues.range_id') };
    });
  }

  async createTasks(key: TaskQueueKey, rangeId: number, tasks: TaskQueueTaskRow[]): Promise<void> {
    // A shared lock is enough: a lease bumps range_id with an exclusive lock, so it waits for
    // writers that checked the old value to finish, and writers after it see the new one.
    const read: Statement = { sql: `SELECT range_id FROM task_queues WHERE ${KEY_WHERE} LOCK IN SHARE MODE`, params: keyParams(key) };
    const batches = insertBatches(tasks, (task) => Buffer.byteLength(task.data));
    const inserts: Statement[] = batches.map((batch) => {
      const params: SqlParam[] = [];
      for (const task of batch) params.push(...keyParams(key), task.taskId, task.data, task.expiresAt);
      return { sql: `INSERT INTO task_queue_tasks (${KEY_COLUMNS}, task_id, data, expires_at) VALUES ${placeholders(batch.length, '(?, ?, ?, ?, ?, ?, ?, ?)')}`, params };
    });
    /** The error for a failed statement of a packet whose inserts start at `offset`. */
    const duplicate = (err: unknown, offset: number): unknown => {
      const batch = err instanceof StatementFailedError && err.code === 'ER_DUP_ENTRY' ? batches[err.index - offset] : undefined;
      // The lease holder allocates ids from its range: a repeat is an allocator bug.
      return batch ? new InvariantViolationError(`task queue ${describeQueue(key)}: a task id of ${describeIds(batch.map((t) => t.taskId))} already exists`) : err;
    };
    await this.db.pipelined(async (tx) => {
      // One round trip while the lease holds: the locking read, a guard on range_id, the inserts,
      // COMMIT. A lost lease fails the guard; the read then runs again to report the range_id.
      await tx.begin([]);
      try {
        await tx.commit([read, guardStatement([{ sql: `(SELECT range_id FROM task_queues WHERE ${KEY_WHERE}) = ?`, params: [...keyParams(key), rangeId] }]), ...inserts]);
        return;
      } catch (err) {
        if (!(err instanceof StatementFailedError) || err.code !== GUARD_FAILED) throw duplicate(err, 2);
      }
      await tx.rollback();
      const [rows] = await tx.begin([read]);
      const [row] = rows as { range_id: number }[];
      const actual = row ? toInt(row.range_id, 'task_queues.range_id') : 0;
      if (actual !== rangeId) {
        throw new ConditionFailedError(`task queue ${describeQueue(key)}: range_id is ${actual}, the writer holds ${rangeId}`);
      }
      try {
        await tx.commit(inserts);
      } catch (err) {
        throw duplicate(err, 0);
      }
    });
  }

  async listTasks(key: TaskQueueKey, afterTaskId: number, limit: number): Promise<TaskQueueTaskRow[]> {
    checkLimit(limit);
    const rows = await this.db.rows<TaskRow>(
      `SELECT task_id, data, expires_at FROM task_queue_tasks WHERE ${KEY_WHERE} AND task_id > ? ORDER BY task_id LIMIT ?`,
      [...keyParams(key), afterTaskId, limit],
    );
    return rows.map((row) => ({
      taskId: toInt(row.task_id, 'task_queue_tasks.task_id'),
      data: row.data,
      expiresAt: toInt(row.expires_at, 'task_queue_tasks.expires_at'),
    }));
  }

  async deleteTasks(key: TaskQueueKey, taskIds: number[]): Promise<void> {
    const chunks = inListChunks(taskIds);
    if (chunks.length === 0) return;
    // One transaction, one round trip.
    await this.db.pipelined(async (tx) => {
      await tx.begin([]);
      await tx.commit(chunks.map((chunk) => ({ sql: `DELETE FROM task_queue_tasks WHERE ${KEY_WHERE} AND task_id IN (${placeholders(chunk.length)})`, params: [...keyParams(key), ...chunk] })));
    });
  }

  async listQueuesWithTasks(): Promise<TaskQueueKey[]> {
    const rows = await this.db.rows<KeyRow>(`SELECT DISTINCT ${KEY_COLUMNS} FROM task_queue_tasks ORDER BY ${KEY_COLUMNS}`, []);
    return rows.map((row) => ({
      namespaceId: toText(row.namespace_id),
      name: toText(row.name),
      type: toText(row.type) as TaskQueueType,
      kind: toText(row.kind) as TaskQueueKindName,
      partition: toInt(row.partition_id, 'task_queue_tasks.partition_id'),
    }));
  }
}

/** Only the key fields, in KEY_WHERE order. */
function keyParams(key: TaskQueueKey): SqlParam[] {
  return [key.namespaceId, key.name, key.type, key.kind, key.partition];
}

function describeQueue(key: TaskQueueKey): string {
  return `${key.name} (namespace ${key.namespaceId}, ${key.type}, ${key.kind}, partition ${key.partition})`;
}
