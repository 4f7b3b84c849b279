/**
 * Rules for names callers choose, shared by every place that accepts one (RegisterNamespace, the
 * server's `--namespace` flag and config file), so a name one accepts is never refused by another.
 */
import { InvalidArgumentError } from './errors';
import { quote } from './text';

/**
 * A namespace name: letters, digits, '.', '_' and '-', starting with a letter or digit, at most
 * 255 characters (Temporal's rule).
 *
 * ```ts
 * NAMESPACE_NAME.test('billing-prod'); // true
 * NAMESPACE_NAME.test('bad name!');    // false
 * ```
 */
export const NAMESPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** The rule in words, for error messages and docs. */
export const NAMESPACE_NAME_RULE = "letters, digits, '.', '_' or '-', starting with a letter or digit, at most 255 characters";

/** Why `name` is not a valid namespace name, or undefined when it is. */
export function namespaceNameProblem(name: string): string | undefined {
  if (NAMESPACE_NAME.test(name)) return undefined;
  return `namespace name ${quote(name)} is invalid: use ${NAMESPACE_NAME_RULE}`;
}

/** Returns `name` when it is a valid namespace name; throws an InvalidArgumentError saying why otherwise. */
export function validateNamespaceName(name: string): string {
  const problem = namespaceNameProblem(name);
  if (problem) throw new InvalidArgumentError(problem);
  return name;
}
