import type { QueryAst } from './ast';

/** Longest query text accepted, in characters. */
export const MAX_QUERY_LENGTH = 16 * 1024;
/** Deepest nesting of parentheses and NOTs accepted. */
export const MAX_QUERY_DEPTH = 64;

/** Parses a list filter into its AST; throws VisibilityQueryError with the position of the problem. */
export function parseQuery(text: string): QueryAst {
  void text;
  throw new Error('not yet');
}
