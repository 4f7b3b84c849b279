/**
 * Search attribute names and types: the system attributes every execution has (stored as columns),
 * the predefined ones Temporal's SDKs and server set (stored with the custom ones), the per-type
 * caps on a namespace's custom attributes, and the catalog a query is checked against.
 */

/** Temporal's IndexedValueType, by its short name. */
export type SearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export const SEARCH_ATTRIBUTE_TYPES: readonly SearchAttributeType[] = ['Keyword', 'Text', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList'];

/**
 * temporal.api.enums.v1.IndexedValueType numbers (persisted by Temporal's protos: never renumber).
 * INDEXED_VALUE_TYPE_UNSPECIFIED is 0.
 */
export const INDEXED_VALUE_TYPE_NUMBERS: Readonly<Record<SearchAttributeType, number>> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

/** The SearchAttributeType of an IndexedValueType number, or undefined (0 = unspecified, unknown numbers). */
export function searchAttributeTypeOfNumber(value: number): SearchAttributeType | undefined {
  for (const type of SEARCH_ATTRIBUTE_TYPES) if (INDEXED_VALUE_TYPE_NUMBERS[type] === value) return type;
  return undefined;
}

/**
 * Attributes of every execution, kept as columns of the visibility table (fields of the ES
 * document). ExecutionStatus is a Keyword to Temporal (values are status names such as
 * 'Running'); ExecutionDuration is an Int of nanoseconds.
 */
export const SYSTEM_SEARCH_ATTRIBUTES: ReadonlyMap<string, SearchAttributeType> = new Map<string, SearchAttributeType>([
  ['WorkflowId', 'Keyword'],
  ['RunId', 'Keyword'],
  ['WorkflowType', 'Keyword'],
  ['StartTime', 'Datetime'],
  ['ExecutionTime', 'Datetime'],
  ['CloseTime', 'Datetime'],
  ['ExecutionStatus', 'Keyword'],
  ['TaskQueue', 'Keyword'],
  ['HistoryLength', 'Int'],
  ['ExecutionDuration', 'Int'],
  ['StateTransitionCount', 'Int'],
  ['HistorySizeBytes', 'Int'],
  ['ParentWorkflowId', 'Keyword'],
  ['ParentRunId', 'Keyword'],
  ['RootWorkflowId', 'Keyword'],
  ['RootRunId', 'Keyword'],
]);

/**
 * Attributes Temporal's server and SDKs set (version markers, schedules, batch jobs, worker
 * versioning). They are stored with the custom attributes (the search_attributes JSON column),
 * are queryable in every namespace, and cannot be registered as custom attributes.
 */
export const PREDEFINED_SEARCH_ATTRIBUTES: ReadonlyMap<string, SearchAttributeType> = new Map<string, SearchAttributeType>([
  ['TemporalChangeVersion', 'KeywordList'],
  ['BinaryChecksums', 'KeywordList'],
  ['BuildIds', 'KeywordList'],
  ['BatcherNamespace', 'Keyword'],
  ['BatcherUser', 'Keyword'],
  ['TemporalScheduledStartTime', 'Datetime'],
  ['TemporalScheduledById', 'Keyword'],
  ['TemporalSchedulePaused', 'Bool'],
  ['TemporalNamespaceDivision', 'Keyword'],
  ['TemporalPauseInfo', 'KeywordList'],
  ['TemporalReportedProblems', 'KeywordList'],
  ['TemporalWorkerDeploymentVersion', 'Keyword'],
  ['TemporalWorkflowVersioningBehavior', 'Keyword'],
  ['TemporalWorkerDeployment', 'Keyword'],
  ['TemporalUsedWorkerDeploymentVersions', 'KeywordList'],
]);

/** Field names that are neither system nor custom attributes and may never be registered. */
export const RESERVED_SEARCH_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(['NamespaceId', 'Memo', 'MemoEncoding', 'VisibilityTaskKey']);

/** Custom attributes a namespace may register, per type (Temporal Cloud's limits). */
export const CUSTOM_ATTRIBUTE_CAPS: Readonly<Record<SearchAttributeType, number>> = {
  Bool: 20,
  Datetime: 20,
  Double: 20,
  Int: 20,
  Keyword: 40,
  KeywordList: 5,
  Text: 5,
};

/** Where an attribute's value lives: a column of its own, or the search_attributes JSON. */
export type AttributeKind = 'system' | 'predefined' | 'custom';

/** What a query checks names against: system + predefined + the namespace's custom attributes. */
export interface AttributeCatalog {
  lookup(name: string): SearchAttributeType | undefined;
  names(): string[];
}

/** The kind of a name the catalog knows (system and predefined names win over custom ones). */
export function attributeKind(name: string): AttributeKind {
  if (SYSTEM_SEARCH_ATTRIBUTES.has(name)) return 'system';
  if (PREDEFINED_SEARCH_ATTRIBUTES.has(name)) return 'predefined';
  return 'custom';
}

/**
 * A catalog of the system and predefined attributes plus `custom` (a namespace's registered
 * attributes: name → type). A custom entry never shadows a system or predefined name.
 */
export function attributeCatalog(custom: ReadonlyMap<string, SearchAttributeType> | Readonly<Record<string, SearchAttributeType>> = new Map()): AttributeCatalog {
  const entries = custom instanceof Map ? [...(custom as ReadonlyMap<string, SearchAttributeType>).entries()] : Object.entries(custom);
  const all = new Map<string, SearchAttributeType>();
  for (const [name, type] of entries) all.set(name, type);
  for (const [name, type] of PREDEFINED_SEARCH_ATTRIBUTES) all.set(name, type);
  for (const [name, type] of SYSTEM_SEARCH_ATTRIBUTES) all.set(name, type);
  return {
    lookup: (name) => all.get(name),
    names: () => [...all.keys()],
  };
}

/**
 * temporal.api.enums.v1.WorkflowExecutionStatus by name (persisted by Temporal's protos: never
 * renumber). The visibility table stores the number; queries and ES documents use the name.
 */
export const EXECUTION_STATUS_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['Running', 1],
  ['Completed', 2],
  ['Failed', 3],
  ['Canceled', 4],
  ['Terminated', 5],
  ['ContinuedAsNew', 6],
  ['TimedOut', 7],
]);

/** 'Running' for 1, ..., undefined for a number that is not a status. */
export function executionStatusName(value: number): string | undefined {
  for (const [name, number] of EXECUTION_STATUS_NUMBERS) if (number === value) return name;
  return undefined;
}
