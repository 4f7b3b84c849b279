import type { AttributeCatalog } from '../attributes';
import type { CheckedQuery, QueryAst } from './ast';
import { parseQuery } from './parser';

/** Resolves names and converts values against `catalog`; throws VisibilityQueryError. */
export function typeCheck(ast: QueryAst, catalog: AttributeCatalog, text = ''): CheckedQuery {
  void ast;
  void catalog;
  void text;
  throw new Error('not yet');
}

/** parseQuery + typeCheck. */
export function compileQuery(text: string, catalog: AttributeCatalog): CheckedQuery {
  return typeCheck(parseQuery(text), catalog, text);
}
