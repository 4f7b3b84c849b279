export * from './ast';
export { VisibilityQueryError } from './errors';
export { parseQuery, MAX_QUERY_LENGTH, MAX_QUERY_DEPTH } from './parser';
export { typeCheck, compileQuery } from './checker';
