export { toEsQuery, toEsCount, type EsQueryOptions, type EsSearchBody, type EsCountBody } from './query';
