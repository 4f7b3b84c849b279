import type Database from 'better-sqlite3';
import { batchAlreadyRunning, batchJobExists, batchRecordOf, decodeBatchToken, encodeBatchToken, type BatchRow } from '../batch-operations';
import { ConditionFailedError } from '../errors';
import type { BatchOperationRecord, BatchOperationStore, ListPage } from '../types';
import { checkLimit, type SqliteLane } from './sql';

const COLUMNS = 'namespace_id, job_id, state, version, start_time, data';

export class SqliteBatchOperationStore implements BatchOperationStore {
  private readonly get: Database.Statement<[string, string], BatchRow>;
  private readonly running: Database.Statement<[string], BatchRow>;
  private readonly insert: Database.Statement<[BatchOperationRecord]>;
  private readonly update: Database.Statement<[BatchOperationRecord]>;
  private readonly first: Database.Statement<[string, number], BatchRow>;
  private readonly after: Database.Statement<[string, number, number, string, number], BatchRow>;
  private readonly allRunning: Database.Statement<[number], BatchRow>;
  private readonly createTx: (record: BatchOperationRecord) => void;

  constructor(db: Database.Database, private readonly lane: SqliteLane) {
    this.get = db.prepare(`SELECT ${COLUMNS} FROM batch_operations WHERE namespace_id = ? AND job_id = ?`);
    this.running = db.prepare(`SELECT ${COLUMNS} FROM batch_operations WHERE namespace_id = ? AND state = 'running' LIMIT 1`);
    this.insert = db.prepare('INSERT INTO batch_operations (namespace_id, job_id, state, version, start_time, data) VALUES (@namespaceId, @jobId, @state, @version, @startTime, @data)');
    this.update = db.prepare('UPDATE batch_operations SET state = @state, version = @version, data = @data WHERE namespace_id = @namespaceId AND job_id = @jobId AND version = @version - 1');
    this.first = db.prepare(`SELECT ${COLUMNS} FROM batch_operations WHERE namespace_id = ? ORDER BY start_time DESC, job_id DESC LIMIT ?`);
    this.after = db.prepare(
      `SELECT ${COLUMNS} FROM batch_operations WHERE namespace_id = ? AND (start_time < ? OR (start_time = ? AND job_id < ?)) ORDER BY start_time DESC, job_id DESC LIMIT ?`,
    );
    this.allRunning = db.prepare(`SELECT ${COLUMNS} FROM batch_operations WHERE state = 'running' ORDER BY namespace_id LIMIT ?`);
    this.createTx = db.transaction((record: BatchOperationRecord) => {
      if (this.get.get(record.namespaceId, record.jobId)) throw batchJobExists(record.jobId);
      const running = this.running.get(record.namespaceId);
      if (running) throw batchAlreadyRunning(String(running.job_id));
      this.insert.run(record);
    }).immediate;
  }

  createBatchOperation(record: BatchOperationRecord): Promise<void> {
    return this.lane.run(() => this.createTx(record));
  }

  getBatchOperation(namespaceId: string, jobId: string): Promise<BatchOperationRecord | undefined> {
    return this.lane.run(() => {
      const row = this.get.get(namespaceId, jobId);
      return row ? batchRecordOf(row) : undefined;
    });
  }

  listBatchOperations(namespaceId: string, options: { pageSize: number; nextPageToken?: string }): Promise<ListPage<BatchOperationRecord>> {
    return this.lane.run(() => {
      checkLimit(options.pageSize, 'pageSize');
      let rows: BatchRow[];
      if (options.nextPageToken) {
        const [startTime, jobId] = decodeBatchToken(options.nextPageToken);
        rows = this.after.all(namespaceId, startTime, startTime, jobId, options.pageSize + 1);
      } else {
        rows = this.first.all(namespaceId, options.pageSize + 1);
      }
      const items = rows.slice(0, options.pageSize).map(batchRecordOf);
      const last = items[items.length - 1];
      return rows.length > options.pageSize && last ? { items, nextPageToken: encodeBatchToken(last) } : { items };
    });
  }

  updateBatchOperation(record: BatchOperationRecord): Promise<void> {
    return this.lane.run(() => {
      if (this.update.run(record).changes !== 1) throw new ConditionFailedError(`batch operation ${record.jobId} changed since version ${record.version - 1}`);
    });
  }

  listRunningBatchOperations(limit: number): Promise<BatchOperationRecord[]> {
    return this.lane.run(() => this.allRunning.all(limit).map(batchRecordOf));
  }
}
