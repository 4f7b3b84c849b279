/**
 * The one rule for namespace names, shared by RegisterNamespace and `hourglass start-dev -n`: a
 * letter or digit, then letters, digits, '.', '_' or '-', at most 255 characters (names appear in
 * URLs, metrics and log lines, so they stay plain).
 */
import { InvalidArgumentError, quote } from '@hourglass/common';

const NAMESPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

export const NAMESPACE_NAME_RULE = "start with a letter or digit, then use letters, digits, '.', '_' or '-' (at most 255 characters)";

/** True when `name` may name a new namespace. */
export function isValidNamespaceName(name: string): boolean {
  return NAMESPACE_NAME.test(name);
}

/** Throws InvalidArgumentError naming the bad name (quoted, at most ~100 characters of it). */
export function validateNamespaceName(name: string, field = 'namespace'): string {
  if (!name) throw new InvalidArgumentError(`${field} is not set`);
  if (!isValidNamespaceName(name)) throw new InvalidArgumentError(`${field} name ${quote(name)} is invalid: ${NAMESPACE_NAME_RULE}`);
  return name;
}
