/** At most this many characters of a caller's value go into an error message. */
const QUOTE_LIMIT = 100;

/**
 * A caller's value for an error message: JSON-quoted; past 100 characters cut (by code point, so
 * never inside a surrogate pair) with the full length appended. The SDK's own small version of
 * the server's rule, since it depends on no server package.
 *
 * ```ts
 * quote('orders'); // '"orders"'
 * quote('x'.repeat(500)); // '"xxx…x…" (500 characters)'
 * ```
 */
export function quote(value: string): string {
  const chars = Array.from(value);
  if (chars.length <= QUOTE_LIMIT) return JSON.stringify(value);
  return `${JSON.stringify(`${chars.slice(0, QUOTE_LIMIT).join('')}…`)} (${chars.length} characters)`;
}
