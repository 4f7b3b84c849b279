/**
 * @hourglass/visibility: the search side of executions.
 * Query language (owned with the query helper): attributes, query/, sql/, elasticsearch/query*, payloads.
 */
export * from './attributes';
export * from './query';
export * from './sql';
export * from './elasticsearch/query-index';
export * from './payloads';
// Pipeline: records, the bus, the indexer.
export * from './record';
export * from './bus';
export * from './indexer';
