/**
 * The visibility table (one row per run) for SQLite and MySQL/MariaDB. Migrations run these
 * statements verbatim, in order; each is idempotent (IF NOT EXISTS).
 *
 * Times are epoch milliseconds, ExecutionDuration nanoseconds, status the
 * temporal.api.enums.v1.WorkflowExecutionStatus number. search_attributes is a JSON object of the
 * predefined and custom attributes (name → value: Keyword/Text a string, Int/Double a number, Bool
 * true/false, Datetime epoch ms, KeywordList an array of strings). MySQL strings compare byte-wise
 * (utf8mb4_bin), as SQLite's and Elasticsearch's do, so a query orders and matches the same on each.
 */

export const VISIBILITY_TABLE = 'visibility_executions';

export const VISIBILITY_SQLITE_DDL: string[] = [
  `CREATE TABLE IF NOT EXISTS visibility_executions (
  namespace_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  workflow_type TEXT NOT NULL,
  status INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  execution_time INTEGER NOT NULL,
  close_time INTEGER NULL,
  execution_duration INTEGER NULL,
  task_queue TEXT NOT NULL,
  history_length INTEGER NOT NULL,
  history_size_bytes INTEGER NOT NULL,
  state_transition_count INTEGER NOT NULL,
  parent_workflow_id TEXT NULL,
  parent_run_id TEXT NULL,
  root_workflow_id TEXT NULL,
  root_run_id TEXT NULL,
  memo BLOB NULL,
  search_attributes TEXT NULL CHECK (search_attributes IS NULL OR json_valid(search_attributes)),
  record_version INTEGER NOT NULL,
  PRIMARY KEY (namespace_id, run_id)
)`,
  'CREATE INDEX IF NOT EXISTS visibility_executions_start ON visibility_executions (namespace_id, start_time, run_id)',
  'CREATE INDEX IF NOT EXISTS visibility_executions_close ON visibility_executions (namespace_id, close_time, start_time, run_id)',
  'CREATE INDEX IF NOT EXISTS visibility_executions_status ON visibility_executions (namespace_id, status, start_time)',
  'CREATE INDEX IF NOT EXISTS visibility_executions_type ON visibility_executions (namespace_id, workflow_type, start_time)',
  'CREATE INDEX IF NOT EXISTS visibility_executions_workflow_id ON visibility_executions (namespace_id, workflow_id)',
];

export const VISIBILITY_MYSQL_DDL: string[] = [
  `CREATE TABLE IF NOT EXISTS visibility_executions (
  namespace_id VARCHAR(64) NOT NULL,
  run_id VARCHAR(64) NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  workflow_type VARCHAR(255) NOT NULL,
  status INT NOT NULL,
  start_time BIGINT NOT NULL,
  execution_time BIGINT NOT NULL,
  close_time BIGINT NULL,
  execution_duration BIGINT NULL,
  task_queue VARCHAR(255) NOT NULL,
  history_length BIGINT NOT NULL,
  history_size_bytes BIGINT NOT NULL,
  state_transition_count BIGINT NOT NULL,
  parent_workflow_id VARCHAR(255) NULL,
  parent_run_id VARCHAR(255) NULL,
  root_workflow_id VARCHAR(255) NULL,
  root_run_id VARCHAR(255) NULL,
  memo MEDIUMBLOB NULL,
  search_attributes JSON NULL,
  record_version BIGINT NOT NULL,
  PRIMARY KEY (namespace_id, run_id),
  KEY visibility_executions_start (namespace_id, start_time, run_id),
  KEY visibility_executions_close (namespace_id, close_time, start_time, run_id),
  KEY visibility_executions_status (namespace_id, status, start_time),
  KEY visibility_executions_type (namespace_id, workflow_type, start_time),
  KEY visibility_executions_workflow_id (namespace_id, workflow_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
];

/** The columns of visibility_executions, in DDL order (what the list query selects). */
export const VISIBILITY_COLUMNS: readonly string[] = [
  'namespace_id',
  'run_id',
  'workflow_id',
  'workflow_type',
  'status',
  'start_time',
  'execution_time',
  'close_time',
  'execution_duration',
  'task_queue',
  'history_length',
  'history_size_bytes',
  'state_transition_count',
  'parent_workflow_id',
  'parent_run_id',
  'root_workflow_id',
  'root_run_id',
  'memo',
  'search_attributes',
  'record_version',
];

/** The column of each system search attribute. */
export const SYSTEM_ATTRIBUTE_COLUMNS: ReadonlyMap<string, string> = new Map([
  ['WorkflowId', 'workflow_id'],
  ['RunId', 'run_id'],
  ['WorkflowType', 'workflow_type'],
  ['StartTime', 'start_time'],
  ['ExecutionTime', 'execution_time'],
  ['CloseTime', 'close_time'],
  ['ExecutionStatus', 'status'],
  ['TaskQueue', 'task_queue'],
  ['HistoryLength', 'history_length'],
  ['ExecutionDuration', 'execution_duration'],
  ['StateTransitionCount', 'state_transition_count'],
  ['HistorySizeBytes', 'history_size_bytes'],
  ['ParentWorkflowId', 'parent_workflow_id'],
  ['ParentRunId', 'parent_run_id'],
  ['RootWorkflowId', 'root_workflow_id'],
  ['RootRunId', 'root_run_id'],
]);

/** System columns that may be NULL (a closed-only time, a parent only for children). */
export const NULLABLE_SYSTEM_COLUMNS: ReadonlySet<string> = new Set([
  'close_time',
  'execution_duration',
  'parent_workflow_id',
  'parent_run_id',
  'root_workflow_id',
  'root_run_id',
]);
