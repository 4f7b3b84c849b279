/**
 * The Elasticsearch side of visibility: the index template (one index for every namespace), the
 * field of each search attribute, and the document of a visibility row.
 *
 * Layout: system attributes are top-level fields under their Temporal names (WorkflowId,
 * ExecutionStatus as its name 'Running', StartTime as a date, ...), next to NamespaceId. Predefined
 * and custom attributes live under `SearchAttributes.<Type>.<Name>` (SearchAttributes.Keyword.
 * CustomerId, SearchAttributes.Int.Attempts): namespaces share the index, and two namespaces may
 * give one name different types, so the type is part of the path and no mapping ever conflicts.
 * Dynamic templates map each type's subtree on first use.
 */
import { PREDEFINED_SEARCH_ATTRIBUTES, SYSTEM_SEARCH_ATTRIBUTES, executionStatusName, type SearchAttributeType } from '../attributes';
import type { ResolvedAttribute } from '../query/ast';

/** The analyzer of Text attributes: words are runs of characters other than ASCII punctuation, spaces and controls; lower-cased. */
export const ES_TEXT_ANALYZER = 'hourglass_words';

/** The ES field of an attribute. */
export function esFieldOf(attribute: Pick<ResolvedAttribute, 'name' | 'type' | 'kind'>): string {
  if (attribute.kind === 'system') return attribute.name;
  return `SearchAttributes.${attribute.type}.${attribute.name}`;
}

const SYSTEM_FIELD_TYPES: Readonly<Record<SearchAttributeType, Record<string, unknown>>> = {
  Keyword: { type: 'keyword' },
  KeywordList: { type: 'keyword' },
  Text: { type: 'text', analyzer: ES_TEXT_ANALYZER },
  Int: { type: 'long' },
  Double: { type: 'double' },
  Bool: { type: 'boolean' },
  Datetime: { type: 'date', format: 'epoch_millis||strict_date_optional_time' },
};

/**
 * The index template body (PUT _index_template/<name> with index_patterns added by the caller, or
 * the body of PUT <index>): settings with the Text analyzer, mappings of the system fields and the
 * dynamic templates of the search attributes.
 */
export function esIndexTemplate(): { settings: Record<string, unknown>; mappings: Record<string, unknown> } {
  const properties: Record<string, unknown> = { NamespaceId: { type: 'keyword' }, Memo: { type: 'binary' }, RecordVersion: { type: 'long' } };
  for (const [name, type] of SYSTEM_SEARCH_ATTRIBUTES) properties[name] = SYSTEM_FIELD_TYPES[type];
  const saTypes: Record<string, unknown> = {};
  for (const type of Object.keys(SYSTEM_FIELD_TYPES)) saTypes[type] = { type: 'object', dynamic: true, properties: {} as Record<string, unknown> };
  for (const [name, type] of PREDEFINED_SEARCH_ATTRIBUTES) (saTypes[type] as { properties: Record<string, unknown> }).properties[name] = SYSTEM_FIELD_TYPES[type];
  properties.SearchAttributes = { type: 'object', dynamic: true, properties: saTypes };
  return {
    settings: {
      'index.mapping.total_fields.limit': 5000,
      analysis: {
        tokenizer: { [ES_TEXT_ANALYZER]: { type: 'pattern', pattern: '[\\x00-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]+' } },
        analyzer: { [ES_TEXT_ANALYZER]: { type: 'custom', tokenizer: ES_TEXT_ANALYZER, filter: ['lowercase'] } },
      },
    },
    mappings: {
      dynamic: 'strict',
      dynamic_templates: Object.entries(SYSTEM_FIELD_TYPES).map(([type, mapping]) => ({
        [`search_attributes_${type.toLowerCase()}`]: { path_match: `SearchAttributes.${type}.*`, mapping },
      })),
      properties,
    },
  };
}

/** Resolves a predefined or custom attribute's type when building a document (the namespace's catalog). */
export type AttributeTypeOf = (name: string) => SearchAttributeType | undefined;

/**
 * The ES document of a visibility row (the columns of visibility_executions; search_attributes as
 * JSON text or parsed). Attributes the catalog does not type are left out (an attribute removed
 * from the namespace). The document id should be the run id; the namespace is a field.
 */
export function toEsDocument(row: Record<string, unknown>, typeOf: AttributeTypeOf): Record<string, unknown> {
  const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
  const doc: Record<string, unknown> = {
    NamespaceId: row.namespace_id,
    RunId: row.run_id,
    WorkflowId: row.workflow_id,
    WorkflowType: row.workflow_type,
    ExecutionStatus: executionStatusName(Number(row.status)) ?? 'Unspecified',
    StartTime: num(row.start_time),
    ExecutionTime: num(row.execution_time),
    CloseTime: num(row.close_time),
    ExecutionDuration: num(row.execution_duration),
    TaskQueue: row.task_queue,
    HistoryLength: num(row.history_length),
    HistorySizeBytes: num(row.history_size_bytes),
    StateTransitionCount: num(row.state_transition_count),
    ParentWorkflowId: row.parent_workflow_id ?? null,
    ParentRunId: row.parent_run_id ?? null,
    RootWorkflowId: row.root_workflow_id ?? null,
    RootRunId: row.root_run_id ?? null,
    RecordVersion: num(row.record_version),
  };
  if (row.memo !== null && row.memo !== undefined) doc.Memo = Buffer.from(row.memo as Uint8Array).toString('base64');
  for (const key of Object.keys(doc)) if (doc[key] === null) delete doc[key];
  const raw = row.search_attributes;
  const attributes: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
  if (attributes !== null && typeof attributes === 'object') {
    const grouped: Record<string, Record<string, unknown>> = {};
    for (const [name, value] of Object.entries(attributes as Record<string, unknown>)) {
      const type = typeOf(name);
      if (type === undefined || value === null || value === undefined) continue;
      (grouped[type] ??= {})[name] = value;
    }
    if (Object.keys(grouped).length > 0) doc.SearchAttributes = grouped;
  }
  return doc;
}
