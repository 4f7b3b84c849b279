/**
 * The visibility record of one run: what search shows of it, built from mutable state after each
 * commit that changed something visible, carried by the bus and applied by the indexer to a store.
 * `version` grows with every change of the run (its state transition count), so a store that
 * already holds a newer version ignores a late or duplicated record.
 */

import type { SearchAttributeType } from './attributes';
import type { SearchAttributeValue } from './payloads';

export interface VisibilityRecord {
  namespaceId: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  /** temporal.api.enums.v1.WorkflowExecutionStatus number (1 running). */
  status: number;
  /** ms since the epoch. */
  startTime: number;
  executionTime: number;
  /** null while the run is open. */
  closeTime: number | null;
  /** Nanoseconds from execution time to close; null while open. */
  executionDuration: number | null;
  taskQueue: string;
  historyLength: number;
  historySizeBytes: number;
  stateTransitionCount: number;
  parentWorkflowId: string | null;
  parentRunId: string | null;
  rootWorkflowId: string | null;
  rootRunId: string | null;
  /** Encoded temporal.api.common.v1.Memo, null when the run has none. */
  memo: Uint8Array | null;
  /** Attribute name → value, null when the run has none. */
  searchAttributes: Record<string, SearchAttributeValue> | null;
  /**
   * The type of each attribute in `searchAttributes` when the record was built (the namespace's
   * catalog then), for indexes that lay values out by type (Elasticsearch). Not stored by SQL.
   */
  searchAttributeTypes?: Record<string, SearchAttributeType>;
  /** Monotonic per run: a store ignores a record whose version is not greater than the one it holds. */
  version: number;
}

/** A run's row is removed (retention, DeleteWorkflowExecution) unless the store holds a newer version. */
export interface VisibilityDeletion {
  namespaceId: string;
  workflowId: string;
  runId: string;
  version: number;
}

/** One message of the bus: a record to upsert or a run to delete, stamped with its commit time (for the lag measure). */
export type VisibilityChange =
  | { kind: 'upsert'; record: VisibilityRecord; committedAt: number }
  | { kind: 'delete'; deletion: VisibilityDeletion; committedAt: number };

/** Where records land: SQL (SQLite, MySQL) or Elasticsearch. Writes are versioned and idempotent. */
export interface VisibilityIndex {
  /** Writes each record unless the index holds its run at an equal or greater version. */
  upsert(records: readonly VisibilityRecord[]): Promise<void>;
  /** Removes each run unless the index holds it at a greater version. */
  delete(deletions: readonly VisibilityDeletion[]): Promise<void>;
}
