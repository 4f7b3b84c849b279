/**
 * The Elasticsearch visibility index (@elastic/elasticsearch): one index for every namespace,
 * documents laid out by vq's mapping (query-mapping.ts), one per run, id `<namespace id>~<run id>`.
 * Writes are bulk requests with external versioning (the record's version), so Elasticsearch itself
 * refuses a late or duplicated record (409, ignored here) and keeps the newest state. Queries are
 * translated by toEsQuery/toEsCount and always filtered by the namespace id.
 */
import type { Client } from '@elastic/elasticsearch';
import { InvalidArgumentError, UnavailableError, type Logger } from '@hourglass/common';
import { EXECUTION_STATUS_NUMBERS } from '../attributes';
import type { CheckedQuery } from '../query/ast';
import type { SearchAttributeValue } from '../payloads';
import type { VisibilityDeletion, VisibilityIndex, VisibilityRecord } from '../record';
import type { SearchCount, SearchPage, VisibilitySearchBackend } from '../search';
import { rowOf } from '../search';
import type { PageCursor } from '../sql';
import { ES_GROUP_BY_AGGREGATION, esIndexTemplate, toEsCount, toEsDocument, toEsQuery } from './query-index';

/**
 * The client library, loaded on first use (require's cache keeps it): with its Arrow support it took
 * a third of a second of every process's start, Elasticsearch configured or not.
 */
function elasticsearch(): typeof import('@elastic/elasticsearch') {
  return require('@elastic/elasticsearch') as typeof import('@elastic/elasticsearch');
}

export interface ElasticsearchStoreOptions {
  /** ELASTICSEARCH_URL, e.g. http://127.0.0.1:9200 (credentials in the URL are used, never logged). */
  url: string;
  /** Default `hourglass-visibility`. */
  index?: string;
  logger: Logger;
}

export const DEFAULT_VISIBILITY_INDEX = 'hourglass-visibility';

/** The document id of a run: run ids are unique, the namespace keeps it so whatever produced them. */
export function esDocumentId(namespaceId: string, runId: string): string {
  return `${namespaceId}~${runId}`;
}

/** The bulk operations of a batch of records: index with external versioning. */
export function esUpsertOperations(index: string, records: readonly VisibilityRecord[]): unknown[] {
  return records.flatMap((record) => [
    { index: { _index: index, _id: esDocumentId(record.namespaceId, record.runId), version: record.version, version_type: 'external' } },
    toEsDocument(rowOf(record), (name) => record.searchAttributeTypes?.[name]),
  ]);
}

export class ElasticsearchVisibilityStore implements VisibilityIndex, VisibilitySearchBackend {
  readonly index: string;

  private constructor(
    private readonly client: Client,
    index: string,
    private readonly where: string,
  ) {
    this.index = index;
  }

  /** Connects, checks the cluster answers, and creates the index with its mapping when it is missing. */
  static async open(options: ElasticsearchStoreOptions): Promise<ElasticsearchVisibilityStore> {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new InvalidArgumentError('ELASTICSEARCH_URL is not a URL (expected e.g. http://127.0.0.1:9200)');
    }
    const where = `Elasticsearch at ${url.protocol}//${url.host}`;
    const client = new (elasticsearch().Client)({ node: options.url, requestTimeout: 30_000, maxRetries: 3 });
    const store = new ElasticsearchVisibilityStore(client, options.index ?? DEFAULT_VISIBILITY_INDEX, where);
    try {
      await client.info();
      if (!(await client.indices.exists({ index: store.index }))) {
        const template = esIndexTemplate();
        await client.indices.create({ index: store.index, settings: template.settings, mappings: template.mappings } as Parameters<Client['indices']['create']>[0]);
      }
    } catch (err) {
      await client.close().catch(() => undefined);
      if (err instanceof elasticsearch().errors.ResponseError && err.body && JSON.stringify(err.body).includes('resource_already_exists_exception')) return store;
      throw new UnavailableError(`${where} is unreachable or refused the visibility index ${store.index}: ${(err as Error).message}`, undefined, { cause: err });
    }
    options.logger.info({ index: store.index }, `visibility index on ${where}`);
    return store;
  }

  async upsert(records: readonly VisibilityRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.bulk(esUpsertOperations(this.index, records));
  }

  async delete(deletions: readonly VisibilityDeletion[]): Promise<void> {
    if (deletions.length === 0) return;
    await this.bulk(
      deletions.map((d) => ({ delete: { _index: this.index, _id: esDocumentId(d.namespaceId, d.runId), version: d.version, version_type: 'external' } })),
    );
  }

  async list(q: CheckedQuery, opts: { namespaceId: string; pageSize: number; after?: PageCursor }): Promise<SearchPage> {
    const body = toEsQuery(q, { namespaceId: opts.namespaceId, pageSize: opts.pageSize + 1, ...(opts.after ? { after: opts.after.values } : {}) });
    const response = await this.call(() => this.client.search<Record<string, unknown>>({ index: this.index, ...body } as Parameters<Client['search']>[0]));
    const hits = response.hits.hits;
    const page = hits.slice(0, opts.pageSize);
    const records = page.map((hit) => recordOfDocument(hit._source ?? {}));
    const last = page[page.length - 1];
    if (hits.length <= opts.pageSize || !last?.sort) return { records };
    return { records, next: { values: last.sort as PageCursor['values'] } };
  }

  async count(q: CheckedQuery, opts: { namespaceId: string }): Promise<SearchCount> {
    const body = toEsCount(q, opts);
    const response = await this.call(() => this.client.search({ index: this.index, ...body } as Parameters<Client['search']>[0]));
    const total = response.hits.total;
    const count = typeof total === 'number' ? total : (total?.value ?? 0);
    if (q.groupBy.length === 0) return { count };
    const aggregation = (response.aggregations?.[ES_GROUP_BY_AGGREGATION] ?? {}) as { buckets?: { key: string; doc_count: number }[] };
    const groups = (aggregation.buckets ?? []).map((b) => ({ value: EXECUTION_STATUS_NUMBERS.get(String(b.key)) ?? 0, count: b.doc_count })).sort((a, b) => a.value - b.value);
    return { count, groups };
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** One bulk request; version conflicts (a newer state already indexed) and missing documents on delete are expected. */
  private async bulk(operations: unknown[]): Promise<void> {
    const response = await this.call(() => this.client.bulk({ operations } as Parameters<Client['bulk']>[0]));
    if (!response.errors) return;
    for (const item of response.items) {
      const result = item.index ?? item.delete ?? item.create ?? item.update;
      if (!result?.error) continue;
      if (result.status === 409 || (item.delete && result.status === 404)) continue;
      throw new UnavailableError(`${this.where} refused a visibility write: ${result.error.type}: ${result.error.reason ?? ''}`);
    }
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof elasticsearch().errors.ResponseError && err.statusCode === 400) throw new InvalidArgumentError(`${this.where} refused the query: ${err.message}`);
      throw new UnavailableError(`${this.where}: ${(err as Error).message}`, undefined, { cause: err });
    }
  }
}

/** A document back as a record (the inverse of toEsDocument). */
export function recordOfDocument(doc: Record<string, unknown>): VisibilityRecord {
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const attributes: Record<string, SearchAttributeValue> = {};
  const byType = (doc.SearchAttributes ?? {}) as Record<string, Record<string, SearchAttributeValue>>;
  for (const values of Object.values(byType)) Object.assign(attributes, values);
  return {
    namespaceId: String(doc.NamespaceId),
    runId: String(doc.RunId),
    workflowId: String(doc.WorkflowId),
    workflowType: String(doc.WorkflowType),
    status: EXECUTION_STATUS_NUMBERS.get(String(doc.ExecutionStatus)) ?? 0,
    startTime: Number(doc.StartTime),
    executionTime: Number(doc.ExecutionTime),
    closeTime: num(doc.CloseTime),
    executionDuration: num(doc.ExecutionDuration),
    taskQueue: String(doc.TaskQueue),
    historyLength: Number(doc.HistoryLength),
    historySizeBytes: Number(doc.HistorySizeBytes),
    stateTransitionCount: Number(doc.StateTransitionCount),
    parentWorkflowId: text(doc.ParentWorkflowId),
    parentRunId: text(doc.ParentRunId),
    rootWorkflowId: text(doc.RootWorkflowId),
    rootRunId: text(doc.RootRunId),
    memo: typeof doc.Memo === 'string' ? new Uint8Array(Buffer.from(doc.Memo, 'base64')) : null,
    searchAttributes: Object.keys(attributes).length > 0 ? attributes : null,
    version: Number(doc.RecordVersion),
  };
}
