/**
 * Namespace names as RegisterNamespace and `hourglass start-dev -n` accept them: the one rule in
 * @hourglass/common (NAMESPACE_NAME), with the field named in the error.
 */
import { InvalidArgumentError, NAMESPACE_NAME, NAMESPACE_NAME_RULE, namespaceNameProblem } from '@hourglass/common';

export { NAMESPACE_NAME_RULE };

/** True when `name` may name a new namespace. */
export function isValidNamespaceName(name: string): boolean {
  return NAMESPACE_NAME.test(name);
}

/** Throws InvalidArgumentError naming the bad name (quoted, at most ~100 characters of it). */
export function validateNamespaceName(name: string, field = 'namespace'): string {
  if (!name) throw new InvalidArgumentError(`${field} is not set`);
  if (!isValidNamespaceName(name)) throw new InvalidArgumentError(field === 'namespace' ? (namespaceNameProblem(name) as string) : `${field}: ${namespaceNameProblem(name)}`);
  return name;
}
