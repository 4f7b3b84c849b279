/**
 * Tokens of a list filter. Keywords are case-insensitive; a name is a bare identifier or
 * `backquoted`; a string is '...' or "..." (a doubled quote or a backslash escapes).
 */
import { VisibilityQueryError, quoteToken } from './errors';

export type TokenKind =
  | 'name' // bare identifier (not a keyword)
  | 'quotedName' // `...`
  | 'keyword'
  | 'string'
  | 'number'
  | 'datetime' // unquoted RFC 3339
  | 'op' // = != <> < <= > >=
  | '(' | ')' | ',' | '-' | '+'
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** Keyword: upper case; op: the operator (<> as !=); string/name: the unescaped text; number: as written. */
  text: string;
  position: number;
  /** Length in the query text. */
  length: number;
}

export const KEYWORDS: ReadonlySet<string> = new Set([
  'AND', 'OR', 'NOT', 'IN', 'BETWEEN', 'IS', 'NULL', 'STARTS_WITH', 'ORDER', 'GROUP', 'BY', 'ASC', 'DESC', 'TRUE', 'FALSE',
  // Words of SQL refused with a reason of their own (see the parser).
  'LIKE', 'LIMIT', 'SELECT', 'FROM', 'WHERE', 'HAVING', 'UNION', 'OFFSET',
]);

const DATETIME = /\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})/y;
const DATE_PREFIX = /\d{4}-\d{2}-\d{2}/y;
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

function isIdentStart(c: string): boolean {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c === '_';
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', Z: '\x1a' };

/** All tokens of `text`, ending with one 'eof' token. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new VisibilityQueryError(start, `unterminated string starting ${quoteToken(text.slice(start, start + 20))}`);
        const d = text[i]!;
        if (d === '\\') {
          if (i + 1 >= n) throw new VisibilityQueryError(start, `unterminated string starting ${quoteToken(text.slice(start, start + 20))}`);
          const e = text[i + 1]!;
          value += ESCAPES[e] ?? e;
          i += 2;
        } else if (d === c) {
          if (text[i + 1] === c) {
            value += c;
            i += 2;
          } else {
            i++;
            break;
          }
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ kind: 'string', text: value, position: start, length: i - start });
      continue;
    }
    if (c === '`') {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new VisibilityQueryError(start, 'unterminated backquoted name');
        const d = text[i]!;
        if (d === '`') {
          if (text[i + 1] === '`') {
            value += '`';
            i += 2;
          } else {
            i++;
            break;
          }
        } else {
          value += d;
          i++;
        }
      }
      if (value === '') throw new VisibilityQueryError(start, 'empty backquoted name');
      tokens.push({ kind: 'quotedName', text: value, position: start, length: i - start });
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      DATETIME.lastIndex = i;
      const dt = DATETIME.exec(text);
      DATE_PREFIX.lastIndex = i;
      if (dt) {
        i += dt[0].length;
        tokens.push({ kind: 'datetime', text: dt[0], position: start, length: dt[0].length });
      } else if (DATE_PREFIX.test(text)) {
        let end = i;
        while (end < n && /[A-Za-z0-9_.:+-]/.test(text[end]!)) end++;
        throw new VisibilityQueryError(start, `malformed datetime ${quoteToken(text.slice(start, end))} (RFC 3339, e.g. 2024-01-31T15:04:05Z)`);
      } else {
        NUMBER.lastIndex = i;
        const m = NUMBER.exec(text)!;
        i += m[0].length;
        tokens.push({ kind: 'number', text: m[0], position: start, length: m[0].length });
      }
      if (i < n && (isIdentStart(text[i]!) || isDigit(text[i]!))) {
        let end = i;
        while (end < n && /[A-Za-z0-9_.:-]/.test(text[end]!)) end++;
        throw new VisibilityQueryError(start, `malformed number ${quoteToken(text.slice(start, end))} (quote a string, e.g. '1h' for a duration)`);
      }
      continue;
    }
    if (isIdentStart(c)) {
      IDENT.lastIndex = i;
      const word = IDENT.exec(text)![0];
      i += word.length;
      const upper = word.toUpperCase();
      if (KEYWORDS.has(upper)) tokens.push({ kind: 'keyword', text: upper, position: start, length: word.length });
      else tokens.push({ kind: 'name', text: word, position: start, length: word.length });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '!=' || two === '<>' || two === '<=' || two === '>=') {
      tokens.push({ kind: 'op', text: two === '<>' ? '!=' : two, position: start, length: 2 });
      i += 2;
      continue;
    }
    if (two === '==') throw new VisibilityQueryError(start, "operator '==' is not supported (use '=')");
    if (c === '=' || c === '<' || c === '>') {
      tokens.push({ kind: 'op', text: c, position: start, length: 1 });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === '-' || c === '+') {
      tokens.push({ kind: c, text: c, position: start, length: 1 });
      i++;
      continue;
    }
    if (two === '&&' || two === '||') throw new VisibilityQueryError(start, `operator '${two}' is not supported (use ${two === '&&' ? 'AND' : 'OR'})`);
    const codePoint = String.fromCodePoint(text.codePointAt(i)!);
    throw new VisibilityQueryError(start, `unexpected character ${quoteToken(codePoint)}`);
  }
  tokens.push({ kind: 'eof', text: '', position: n, length: 0 });
  return tokens;
}
