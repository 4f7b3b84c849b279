import type Database from 'better-sqlite3';
import { InvariantViolationError } from '@hourglass/common';
import { ConditionFailedError } from '../errors';
import type { TaskQueueKey, TaskQueueKindName, TaskQueueLease, TaskQueueStore, TaskQueueTaskRow, TaskQueueType } from '../types';
import { checkLimit, isDuplicateKey, type SqliteLane } from './sql';

/** Named parameters of a queue key; `partition` is an SQL keyword, hence partition_id. */
const KEY_WHERE = 'namespace_id = @namespaceId AND name = @name AND type = @type AND kind = @kind AND partition_id = @partition';

interface KeyRow {
  namespace_id: string;
  name: string;
  type: TaskQueueType;
  kind: TaskQueueKindName;
  partition_id: number;
}

interface TaskRow {
  task_id: number;
  data: string;
  expires_at: number;
}

function prepareStatements(db: Database.Database) {
  return {
    lease: db.prepare<[TaskQueueKey], number>(
      `INSERT INTO task_queues (namespace_id, name, type, kind, partition_id, range_id)
       VALUES (@namespaceId, @name, @type, @kind, @partition, 1)
       ON CONFLICT (namespace_id, name, type, kind, partition_id) DO UPDATE SET range_id = range_id + 1
       RETURNING range_id`,
    ).pluck(),
    rangeId: db.prepare<[TaskQueueKey], number>(`SELECT range_id FROM task_queues WHERE ${KEY_WHERE}`).pluck(),
    insertTask: db.prepare<[TaskQueueKey & TaskQueueTaskRow]>(
      `INSERT INTO task_queue_tasks (namespace_id, name, type, kind, partition_id, task_id, data, expires_at)
       VALUES (@namespaceId, @name, @type, @kind, @partition, @taskId, @data, @expiresAt)`,
    ),
    listTasks: db.prepare<[TaskQueueKey & { afterTaskId: number; limit: number }], TaskRow>(
      `SELECT task_id, data, expires_at FROM task_queue_tasks WHERE ${KEY_WHERE} AND task_id > @afterTaskId
       ORDER BY task_id LIMIT @limit`,
    ),
    deleteTask: db.prepare<[TaskQueueKey & { taskId: number }]>(`DELETE FROM task_queue_tasks WHERE ${KEY_WHERE} AND task_id = @taskId`),
    queuesWithTasks: db.prepare<[], KeyRow>(
      'SELECT DISTINCT namespace_id, name, type, kind, partition_id FROM task_queue_tasks ORDER BY namespace_id, name, type, kind, partition_id',
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

export class SqliteTaskQueueStore implements TaskQueueStore {
  private readonly sql: Statements;
  private readonly createTasksTx: (key: TaskQueueKey, rangeId: number, tasks: TaskQueueTaskRow[]) => void;
  private readonly deleteTasksTx: (key: TaskQueueKey, taskIds: number[]) => void;

  constructor(private readonly db: Database.Database, private readonly lane: SqliteLane) {
    this.sql = prepareStatements(db);
    // IMMEDIATE: the lease check and the inserts must see the same range_id.
    this.createTasksTx = db.transaction((key: TaskQueueKey, rangeId: number, tasks: TaskQueueTaskRow[]) =>
      this.createTasksLocked(key, rangeId, tasks),
    ).immediate;
    this.deleteTasksTx = db.transaction((key: TaskQueueKey, taskIds: number[]) => {
      for (const taskId of taskIds) this.sql.deleteTask.run({ ...queueParams(key), taskId });
    }).immediate;
  }

  leaseTaskQueue(key: TaskQueueKey): Promise<TaskQueueLease> {
    return this.lane.run(() => {
      return { rangeId: this.sql.lease.get(queueParams(key))! };
    }, key.namespaceId);
  }

  createTasks(key: TaskQueueKey, rangeId: number, tasks: TaskQueueTaskRow[]): Promise<void> {
    return this.lane.write(this.db, () => this.createTasksTx(key, rangeId, tasks), key.namespaceId);
  }

  listTasks(key: TaskQueueKey, afterTaskId: number, limit: number): Promise<TaskQueueTaskRow[]> {
    return this.lane.run(() => {
      checkLimit(limit);
      return this.sql.listTasks
        .all({ ...queueParams(key), afterTaskId, limit })
        .map((row) => ({ taskId: row.task_id, data: row.data, expiresAt: row.expires_at }));
    }, key.namespaceId);
  }

  deleteTasks(key: TaskQueueKey, taskIds: number[]): Promise<void> {
    return this.lane.write(this.db, () => this.deleteTasksTx(key, taskIds), key.namespaceId);
  }

  listQueuesWithTasks(): Promise<TaskQueueKey[]> {
    return this.lane.run(() => {
      return this.sql.queuesWithTasks.all().map((row) => ({
        namespaceId: row.namespace_id,
        name: row.name,
        type: row.type,
        kind: row.kind,
        partition: row.partition_id,
      }));
    });
  }

  private createTasksLocked(key: TaskQueueKey, rangeId: number, tasks: TaskQueueTaskRow[]): void {
    const params = queueParams(key);
    const actual = this.sql.rangeId.get(params) ?? 0;
    if (actual !== rangeId) {
      throw new ConditionFailedError(`task queue ${describeQueue(key)}: range_id is ${actual}, the writer holds ${rangeId}`);
    }
    for (const task of tasks) {
      try {
        this.sql.insertTask.run({ ...params, taskId: task.taskId, data: task.data, expiresAt: task.expiresAt });
      } catch (err) {
        // The lease holder allocates ids from its range: a repeat is an allocator bug.
        if (isDuplicateKey(err)) throw new InvariantViolationError(`task queue ${describeQueue(key)}: task ${task.taskId} already exists`);
        throw err;
      }
    }
  }
}

/** Copies only the key fields, so a caller's extra properties never reach the binder. */
function queueParams(key: TaskQueueKey): TaskQueueKey {
  return { namespaceId: key.namespaceId, name: key.name, type: key.type, kind: key.kind, partition: key.partition };
}

function describeQueue(key: TaskQueueKey): string {
  return `${key.name} (namespace ${key.namespaceId}, ${key.type}, ${key.kind}, partition ${key.partition})`;
}
