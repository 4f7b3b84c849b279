/**
 * Temporal Cloud's naming: an account id is a short code of lowercase letters and digits; a
 * namespace is `<name>.<account id>`, its name 2–39 characters of lowercase letters, digits and
 * hyphens, starting with a letter and ending with a letter or digit. Names without an account
 * suffix belong to the development account of `hourglass start-dev` (`default` and `-n` names).
 */
import { randomInt } from 'node:crypto';
import { InvalidArgumentError, quote } from '@hourglass/common';

const ACCOUNT_ID_LENGTH = 5;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const ALPHANUMERIC = `${LETTERS}0123456789`;
export const ACCOUNT_ID_PATTERN = /^[a-z][a-z0-9]{4}$/;
const NAMESPACE_SHORT_NAME = /^[a-z][a-z0-9-]{0,37}[a-z0-9]$/;
const CLOUD_NAMESPACE = /^([a-z][a-z0-9-]{0,37}[a-z0-9])\.([a-z][a-z0-9]{4})$/;

/** A new account id: a letter then four letters or digits (60 million of them; the store refuses a repeat). */
export function newAccountId(): string {
  let id = LETTERS[randomInt(LETTERS.length)] as string;
  while (id.length < ACCOUNT_ID_LENGTH) id += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return id;
}

/** The problem with a namespace's short name (what CreateNamespace takes), or undefined. */
export function namespaceShortNameProblem(name: string): string | undefined {
  if (name.length < 2 || name.length > 39) return `namespace name ${quote(name)} must be 2 to 39 characters long`;
  if (!NAMESPACE_SHORT_NAME.test(name)) {
    return `namespace name ${quote(name)} may hold only lowercase letters, digits and hyphens, and must start with a letter and end with a letter or digit`;
  }
  return undefined;
}

export function checkNamespaceShortName(name: string): void {
  const problem = namespaceShortNameProblem(name);
  if (problem) throw new InvalidArgumentError(problem);
}

/** `orders` in account `ab12c` → `orders.ab12c`. */
export function cloudNamespaceName(shortName: string, accountId: string): string {
  return `${shortName}.${accountId}`;
}

/** The account a namespace name says it belongs to; undefined for an unsuffixed (development) name. */
export function accountIdOfNamespaceName(name: string): string | undefined {
  return CLOUD_NAMESPACE.exec(name)?.[2];
}

/** The short name of `orders.ab12c` (the name itself when it has no account suffix). */
export function shortNameOf(name: string): string {
  return CLOUD_NAMESPACE.exec(name)?.[1] ?? name;
}

/** Emails: one `@`, something on each side, no spaces; compared lower-cased. */
export function emailProblem(email: string): string | undefined {
  if (email.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return `${quote(email)} is not an email address`;
  return undefined;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
