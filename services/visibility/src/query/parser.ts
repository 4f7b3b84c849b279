/**
 * Recursive descent parser of Temporal's list filter:
 *
 *   query     := [expr] [GROUP BY name {, name}] [ORDER BY name [ASC|DESC] {, name [ASC|DESC]}]
 *   expr      := and {OR and}
 *   and       := unary {AND unary}
 *   unary     := NOT unary | '(' expr ')' | predicate
 *   predicate := name op literal | name [NOT] IN '(' literal {, literal} ')'
 *              | name [NOT] BETWEEN literal AND literal | name [NOT] STARTS_WITH literal
 *              | name IS [NOT] NULL
 *   literal   := 'string' | "string" | [-|+] number | TRUE | FALSE | RFC 3339 datetime
 *
 * The text is capped (MAX_QUERY_LENGTH) and so is the nesting of parentheses and NOTs
 * (MAX_QUERY_DEPTH), so a hostile query costs at most linear work and bounded stack.
 */
import type { AttributeName, CompareOp, Expr, Literal, OrderKey, QueryAst } from './ast';
import { VisibilityQueryError, quoteToken } from './errors';
import { tokenize, type Token } from './lexer';

/** Longest query text accepted, in characters. */
export const MAX_QUERY_LENGTH = 16 * 1024;
/** Deepest nesting of parentheses and NOTs accepted. */
export const MAX_QUERY_DEPTH = 64;
/** Most values in one IN list. */
export const MAX_IN_VALUES = 1000;

/** Parses a list filter into its AST; throws VisibilityQueryError with the position of the problem. */
export function parseQuery(text: string): QueryAst {
  if (text.length > MAX_QUERY_LENGTH) {
    throw new VisibilityQueryError(MAX_QUERY_LENGTH, `the query is ${text.length} characters long, more than the ${MAX_QUERY_LENGTH} allowed`);
  }
  return new Parser(tokenize(text)).parse();
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'the end of the query';
    case 'string':
      return `string ${quoteToken(token.text)}`;
    case 'keyword':
      return token.text;
    case 'name':
    case 'quotedName':
      return `name ${quoteToken(token.text)}`;
    case 'number':
      return `number ${token.text.length > 40 ? quoteToken(token.text) : token.text}`;
    case 'datetime':
      return `datetime ${token.text}`;
    default:
      return `'${token.text}'`;
  }
}

const COMPARE_OPS: ReadonlySet<string> = new Set(['=', '!=', '<', '<=', '>', '>=']);

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): QueryAst {
    const ast: QueryAst = { orderBy: [], groupBy: [] };
    if (!this.atKeyword('ORDER') && !this.atKeyword('GROUP') && this.peek().kind !== 'eof') ast.where = this.expr();
    if (this.atKeyword('GROUP')) {
      this.next();
      this.expectKeyword('BY', 'GROUP');
      ast.groupBy.push(this.name('GROUP BY'));
      while (this.peek().kind === ',') {
        this.next();
        ast.groupBy.push(this.name('GROUP BY'));
      }
    }
    if (this.atKeyword('ORDER')) {
      this.next();
      this.expectKeyword('BY', 'ORDER');
      ast.orderBy.push(this.orderKey());
      while (this.peek().kind === ',') {
        this.next();
        ast.orderBy.push(this.orderKey());
      }
    }
    const token = this.peek();
    if (token.kind !== 'eof') {
      if (token.kind === ')') throw this.error(token, "unbalanced ')': no '(' to close");
      if (token.kind === 'keyword' && (token.text === 'GROUP' || token.text === 'ORDER')) throw this.error(token, `${token.text} BY must come ${token.text === 'GROUP' ? 'before ORDER BY' : 'last'}`);
      if (token.kind === 'keyword') this.refuseSqlKeyword(token);
      throw this.error(token, `unexpected ${describe(token)}; expected AND, OR, GROUP BY, ORDER BY or the end of the query`);
    }
    return ast;
  }

  private orderKey(): OrderKey {
    const attribute = this.name('ORDER BY');
    let direction: OrderKey['direction'] = 'ASC';
    if (this.atKeyword('ASC') || this.atKeyword('DESC')) direction = this.next().text as OrderKey['direction'];
    return { attribute, direction };
  }

  private expr(): Expr {
    const first = this.and();
    if (!this.atKeyword('OR')) return first;
    const operands = flattenInto('or', [], first);
    while (this.atKeyword('OR')) {
      this.next();
      flattenInto('or', operands, this.and());
    }
    return { kind: 'or', operands, position: first.position };
  }

  private and(): Expr {
    const first = this.unary();
    if (!this.atKeyword('AND')) return first;
    const operands = flattenInto('and', [], first);
    while (this.atKeyword('AND')) {
      this.next();
      flattenInto('and', operands, this.unary());
    }
    return { kind: 'and', operands, position: first.position };
  }

  private unary(): Expr {
    const token = this.peek();
    if (token.kind === 'keyword' && token.text === 'NOT') {
      this.next();
      this.enter(token);
      const operand = this.unary();
      this.depth--;
      return { kind: 'not', operand, position: token.position };
    }
    if (token.kind === '(') {
      this.next();
      this.enter(token);
      if (this.peek().kind === ')') throw this.error(this.peek(), "empty parentheses '()'");
      const inner = this.expr();
      const close = this.peek();
      if (close.kind !== ')') throw this.error(close, `expected ')' to close the '(' at position ${token.position}, found ${describe(close)}`);
      this.next();
      this.depth--;
      return inner;
    }
    return this.predicate();
  }

  private predicate(): Expr {
    const attribute = this.name('a condition');
    const position = attribute.position;
    const token = this.peek();
    if (token.kind === 'op') {
      this.next();
      if (!COMPARE_OPS.has(token.text)) throw this.error(token, `operator ${token.text} is not supported`);
      const value = this.literal(attribute, token.text);
      return { kind: 'compare', op: token.text as CompareOp, attribute, value, position };
    }
    if (token.kind === 'keyword') {
      let negated = false;
      let op = this.next();
      if (op.text === 'NOT') {
        negated = true;
        op = this.next();
        if (op.kind !== 'keyword' || !['IN', 'BETWEEN', 'STARTS_WITH', 'LIKE'].includes(op.text)) {
          throw this.error(op, `expected IN, BETWEEN or STARTS_WITH after ${attribute.name} NOT, found ${describe(op)}`);
        }
      }
      switch (op.text) {
        case 'IN':
          return this.inList(attribute, negated, position);
        case 'BETWEEN': {
          const low = this.literal(attribute, 'BETWEEN');
          this.expectKeyword('AND', 'BETWEEN ... (BETWEEN low AND high)');
          const high = this.literal(attribute, 'BETWEEN');
          return { kind: 'between', negated, attribute, low, high, position };
        }
        case 'STARTS_WITH':
          return { kind: 'startsWith', negated, attribute, value: this.literal(attribute, 'STARTS_WITH'), position };
        case 'IS': {
          let isNot = false;
          if (this.atKeyword('NOT')) {
            this.next();
            isNot = true;
          }
          const nullToken = this.next();
          if (nullToken.kind !== 'keyword' || nullToken.text !== 'NULL') {
            throw this.error(nullToken, `expected NULL after ${attribute.name} IS${isNot ? ' NOT' : ''}, found ${describe(nullToken)} ('IS' is only used as IS NULL or IS NOT NULL)`);
          }
          return { kind: 'isNull', negated: isNot, attribute, position };
        }
        case 'LIKE':
          throw this.error(op, 'operator LIKE is not supported (use STARTS_WITH for a prefix, or = on a Text attribute for words)');
        default:
          break;
      }
      throw this.error(op, `expected an operator after ${attribute.name}, found ${describe(op)}`);
    }
    if (token.kind === '(') throw this.error(token, `functions are not supported (${quoteToken(attribute.name)}(...))`);
    throw this.error(token, `expected an operator (=, !=, >, >=, <, <=, IN, BETWEEN, STARTS_WITH, IS) after ${attribute.name}, found ${describe(token)}`);
  }

  private inList(attribute: AttributeName, negated: boolean, position: number): Expr {
    const open = this.next();
    if (open.kind !== '(') throw this.error(open, `expected '(' after ${negated ? 'NOT IN' : 'IN'}, found ${describe(open)}`);
    if (this.peek().kind === ')') throw this.error(this.peek(), `empty ${negated ? 'NOT IN' : 'IN'} list`);
    const values: Literal[] = [this.literal(attribute, 'IN')];
    while (this.peek().kind === ',') {
      this.next();
      if (values.length >= MAX_IN_VALUES) throw this.error(this.peek(), `more than ${MAX_IN_VALUES} values in one IN list`);
      values.push(this.literal(attribute, 'IN'));
    }
    const close = this.next();
    if (close.kind !== ')') throw this.error(close, `expected ',' or ')' in the IN list, found ${describe(close)}`);
    return { kind: 'in', negated, attribute, values, position };
  }

  private literal(attribute: AttributeName, after: string): Literal {
    const token = this.next();
    switch (token.kind) {
      case 'string':
        return { kind: 'string', value: token.text, position: token.position };
      case 'datetime':
        return { kind: 'datetime', value: token.text, position: token.position };
      case 'number':
        return numberLiteral(token.text, false, token.position);
      case '-':
      case '+': {
        const number = this.next();
        if (number.kind !== 'number') throw this.error(number, `expected a number after '${token.text}', found ${describe(number)}`);
        return numberLiteral(number.text, token.kind === '-', token.position);
      }
      case 'keyword':
        if (token.text === 'TRUE' || token.text === 'FALSE') return { kind: 'bool', value: token.text === 'TRUE', position: token.position };
        if (token.text === 'NULL') throw this.error(token, `comparison with NULL is always unknown (use ${attribute.name} IS NULL or IS NOT NULL)`);
        throw this.error(token, `expected a value after ${after}, found ${describe(token)}`);
      case 'name':
      case 'quotedName':
        if (this.peek().kind === '(') throw this.error(token, `functions are not supported (${quoteToken(token.text)}(...))`);
        throw this.error(token, `expected a value after ${after}, found the name ${quoteToken(token.text)} (did you forget to quote it as a string?)`);
      default:
        throw this.error(token, `expected a value after ${after}, found ${describe(token)}`);
    }
  }

  private name(context: string): AttributeName {
    const token = this.next();
    if (token.kind === 'name' || token.kind === 'quotedName') return { name: token.text, position: token.position };
    if (token.kind === 'keyword') this.refuseSqlKeyword(token);
    if (token.kind === 'string' || token.kind === 'number' || token.kind === 'datetime' || (token.kind === 'keyword' && (token.text === 'TRUE' || token.text === 'FALSE' || token.text === 'NULL'))) {
      throw this.error(token, `expected a search attribute name in ${context}, found ${describe(token)} (the attribute goes on the left: Name = value)`);
    }
    if (token.kind === 'keyword') throw this.error(token, `expected a search attribute name in ${context}, found the keyword ${token.text} (backquote a name that is a keyword: \`${token.text}\`)`);
    throw this.error(token, `expected a search attribute name in ${context}, found ${describe(token)}`);
  }

  private refuseSqlKeyword(token: Token): void {
    switch (token.text) {
      case 'LIMIT':
      case 'OFFSET':
        throw this.error(token, `${token.text} is not supported (the page size is a field of the request)`);
      case 'SELECT':
      case 'FROM':
      case 'WHERE':
      case 'HAVING':
      case 'UNION':
        throw this.error(token, `${token.text} is not supported: a query is only a filter, e.g. WorkflowType = 'x' ORDER BY StartTime DESC`);
      default:
        break;
    }
  }

  private enter(token: Token): void {
    this.depth++;
    if (this.depth > MAX_QUERY_DEPTH) throw this.error(token, `nesting deeper than ${MAX_QUERY_DEPTH} levels of parentheses and NOT`);
  }

  private atKeyword(word: string): boolean {
    const token = this.peek();
    return token.kind === 'keyword' && token.text === word;
  }

  private expectKeyword(word: string, after: string): void {
    const token = this.next();
    if (token.kind !== 'keyword' || token.text !== word) throw this.error(token, `expected ${word} after ${after}, found ${describe(token)}`);
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'eof') this.index++;
    return token;
  }

  private error(token: Token, reason: string): VisibilityQueryError {
    return new VisibilityQueryError(token.position, reason);
  }
}

function flattenInto(kind: 'and' | 'or', operands: Expr[], expr: Expr): Expr[] {
  if (expr.kind === kind) operands.push(...expr.operands);
  else operands.push(expr);
  return operands;
}

function numberLiteral(text: string, negative: boolean, position: number): Literal {
  if (/^\d+$/.test(text)) {
    const big = BigInt(text) * (negative ? -1n : 1n);
    if (big > 9223372036854775807n || big < -9223372036854775808n) throw new VisibilityQueryError(position, `integer ${quoteToken(text)} is out of the 64-bit range`);
    const value = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    return { kind: 'int', value, position };
  }
  const value = Number(text) * (negative ? -1 : 1);
  if (!Number.isFinite(value)) throw new VisibilityQueryError(position, `number ${quoteToken(text)} is out of range`);
  return { kind: 'float', value, position };
}
