import { batchAlreadyRunning, batchJobExists, batchRecordOf, decodeBatchToken, encodeBatchToken, type BatchRow } from '../batch-operations';
import { ConditionFailedError } from '../errors';
import type { BatchOperationRecord, BatchOperationStore, ListPage } from '../types';
import { checkLimit, type MysqlDatabase } from './sql';

const COLUMNS = 'namespace_id, job_id, state, version, start_time, data';

/** Batch operations live in the cluster database. */
export class MysqlBatchOperationStore implements BatchOperationStore {
  constructor(private readonly db: MysqlDatabase) {}

  async createBatchOperation(record: BatchOperationRecord): Promise<void> {
    await this.db.transaction(async (tx) => {
      // FOR UPDATE on the namespace's running rows serialises two starts racing in one namespace.
      const running = await tx.rows<BatchRow>(`SELECT ${COLUMNS} FROM batch_operations WHERE namespace_id = ? AND state = 'running' FOR UPDATE`, [record.namespaceId]);
      const existing = await tx.rows<BatchRow>(`SELECT ${COLUMNS} FROM batch_operations WHERE namespace_id = ? AND job_id = ? FOR UPDATE`, [record.namespaceId, record.jobId]);
      if (existing.length > 0) throw batchJobExists(record.jobId);
      if (running[0]) throw batchAlreadyRunning(String(running[0].job_id));
      await tx.run('INSERT INTO batch_operations (namespace_id, job_id, state, version, start_time, data) VALUES (?, ?, ?, ?, ?, ?)', [
        record.namespaceId,
        record.jobId,
        record.state,
        record.version,
        record.startTime,
        record.data,
      ]);
    });
  }

  async getBatchOperation(namespaceId: string, jobId: string): Promise<BatchOperationRecord | undefined> {
    const rows = await this.db.rows<BatchRow>(`SELECT ${COLUMNS} FROM batch_operations WHERE namespace_id = ? AND job_id = ?`, [namespaceId, jobId]);
    return rows[0] ? batchRecordOf(rows[0]) : undefined;
  }

  async listBatchOperations(namespaceId: string, options: { pageSize: number; nextPageToken?: string }): Promise<ListPage<BatchOperationRecord>> {
    checkLimit(options.pageSize, 'pageSize');
    const limit = options.pageSize + 1;
    let rows: BatchRow[];
    if (options.nextPageToken) {
      const [startTime, jobId] = decodeBatchToken(options.nextPageToken);
      rows = await this.db.rows<BatchRow>(
        `SELECT ${COLUMNS} FROM batch_operations WHERE namespace_id = ? AND (start_time < ? OR (start_time = ? AND job_id < ?)) ORDER BY start_time DESC, job_id DESC LIMIT ${limit}`,
        [namespaceId, startTime, startTime, jobId],
      );
    } else {
      rows = await this.db.rows<BatchRow>(`SELECT ${COLUMNS} FROM batch_operations WHERE namespace_id = ? ORDER BY start_time DESC, job_id DESC LIMIT ${limit}`, [namespaceId]);
    }
    const items = rows.slice(0, options.pageSize).map(batchRecordOf);
    const last = items[items.length - 1];
    return rows.length > options.pageSize && last ? { items, nextPageToken: encodeBatchToken(last) } : { items };
  }

  async updateBatchOperation(record: BatchOperationRecord): Promise<void> {
    const result = await this.db.run('UPDATE batch_operations SET state = ?, version = ?, data = ? WHERE namespace_id = ? AND job_id = ? AND version = ?', [
      record.state,
      record.version,
      record.data,
      record.namespaceId,
      record.jobId,
      record.version - 1,
    ]);
    if (result.affectedRows !== 1) throw new ConditionFailedError(`batch operation ${record.jobId} changed since version ${record.version - 1}`);
  }

  async listRunningBatchOperations(limit: number): Promise<BatchOperationRecord[]> {
    checkLimit(limit, 'limit');
    return (await this.db.rows<BatchRow>(`SELECT ${COLUMNS} FROM batch_operations WHERE state = 'running' ORDER BY namespace_id LIMIT ${limit}`, [])).map(batchRecordOf);
  }
}
