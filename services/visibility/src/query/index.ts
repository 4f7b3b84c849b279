export * from './ast';
export { VisibilityQueryError } from './errors';
export { parseQuery, MAX_QUERY_LENGTH, MAX_QUERY_DEPTH, MAX_IN_VALUES } from './parser';
export { typeCheck, compileQuery, MAX_ORDER_BY_KEYS, NAMESPACE_DIVISION } from './checker';
