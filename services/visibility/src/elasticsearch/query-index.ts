export { toEsQuery, toEsCount, ES_GROUP_BY_AGGREGATION, type EsQueryOptions, type EsSearchBody, type EsCountBody } from './query';
export { esIndexTemplate, esFieldOf, toEsDocument, ES_TEXT_ANALYZER, type AttributeTypeOf } from './query-mapping';
