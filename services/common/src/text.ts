/**
 * Caller values inside error messages stay small: an error quotes at most a short prefix of what
 * the caller sent and says how long it was, so a 20 MB id never comes back whole.
 */
import { distance } from 'fastest-levenshtein';

/** Characters of a caller's value an error message may quote. */
export const QUOTE_LIMIT = 100;

/**
 * `"value"` (JSON-quoted) when short; otherwise the first QUOTE_LIMIT characters and its length:
 * `"aaaa…" (10000 characters)`. Never splits a surrogate pair.
 */
export function quote(value: string, limit = QUOTE_LIMIT): string {
  if (value.length <= limit) return JSON.stringify(value);
  let end = limit;
  const code = value.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${JSON.stringify(value.slice(0, end)).slice(0, -1)}…" (${value.length} characters)`;
}

/** Length in UTF-8 bytes (what Temporal's id limits count). */
export function utf8Length(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** 3.1 MB, 512 KB, 100 bytes. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KB`;
  return `${bytes} bytes`;
}

/**
 * ` (did you mean X?)` when one of `candidates` is close to `word` (case aside, a few letters
 * changed), else ''. For errors that refuse an unknown key or name.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Beyond a third of the word changed, a "suggestion" is a guess that misleads more than it helps.
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean ${best}?)` : '';
}
