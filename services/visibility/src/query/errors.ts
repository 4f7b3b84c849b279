import { InvalidArgumentError, quote } from '@hourglass/common';

/** Characters of a caller's token an error message quotes. */
export const TOKEN_QUOTE_LIMIT = 40;

/** `"short"` or `"a prefix…" (N characters)`. */
export function quoteToken(value: string): string {
  return quote(value, TOKEN_QUOTE_LIMIT);
}

/**
 * A list filter that does not parse or does not check. `position` is the 0-based character
 * offset in the query where the problem is; `reason` says what is wrong. The message reads
 * "invalid query: <reason> at position <position>" (INVALID_ARGUMENT at the frontend).
 */
export class VisibilityQueryError extends InvalidArgumentError {
  constructor(
    readonly position: number,
    readonly reason: string,
    /** A suggestion ("did you mean CustomerId?"), appended after the position. */
    readonly hint?: string,
  ) {
    super(`invalid query: ${reason} at position ${position}${hint ? `; ${hint}` : ''}`);
  }
}
