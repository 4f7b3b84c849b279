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
export * from './search';
export * from './kafka/message';
export * from './kafka/kafka-bus';
export * from './elasticsearch/es-store';
