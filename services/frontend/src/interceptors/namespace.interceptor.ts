/**
 * Namespace resolution, driven by the method's row: cluster-scoped and account-API methods pass
 * through; others must name a namespace (present, at most limit.maxIDLength UTF-8 bytes) and,
 * unless the row only names one (RegisterNamespace), it must exist, before any later step or the
 * handler runs.
 *
 * It runs after authentication, because what a missing or foreign namespace is answered depends on
 * who asks (`NamespacePolicy`): with identity, another account's namespace is PERMISSION_DENIED
 * whether it exists or not, and only a name in the caller's own account is NOT_FOUND (with
 * NamespaceNotFoundFailure), so no caller learns another tenant's names.
 */
import { HourglassError, Limits, NamespaceNotFoundError, quote, type Settings } from '@hourglass/common';
import { namespaceDenied, namespaceLookupOutcome, type Principal } from '@hourglass/identity';
import type { NamespaceRecord } from '@hourglass/persistence';
import { checkId } from '../validation/request-shape';
import { required } from '../validation/request-validator';
import type { Interceptor } from './chain';

/** What the chain needs of the namespace registry. */
export interface NamespaceLookup {
  getByName(name: string): Promise<NamespaceRecord>;
  getById(id: string): Promise<NamespaceRecord>;
}

/** How a caller who named a namespace is answered. */
export interface NamespacePolicy {
  outcome(principal: Principal | undefined, named: string, found: NamespaceRecord | undefined): 'visible' | 'notFound' | 'denied';
}

/** No identity: a namespace is there or not. */
export const OPEN_NAMESPACE_POLICY: NamespacePolicy = {
  outcome: (_principal, _named, found) => (found && found.state !== 'deleted' ? 'visible' : 'notFound'),
};

/** Identity: `devAccountId` owns the unsuffixed names (start-dev's `default` and `-n` namespaces). */
export function identityNamespacePolicy(devAccountId: () => string | undefined): NamespacePolicy {
  return {
    outcome(principal, named, found) {
      if (!principal) return OPEN_NAMESPACE_POLICY.outcome(principal, named, found);
      return namespaceLookupOutcome(principal, named, found, devAccountId());
    },
  };
}

/** NamespaceNotFoundError with the name quoted: a long name is not echoed whole. */
class QuotedNamespaceNotFoundError extends HourglassError {
  readonly code = 'NOT_FOUND';
  readonly kind = 'user';
  constructor(namespace: string) {
    super(`Namespace ${quote(namespace)} is not found.`, { type: 'NamespaceNotFoundFailure', namespace });
  }
}

async function find(resolve: () => Promise<NamespaceRecord>): Promise<NamespaceRecord | undefined> {
  try {
    return await resolve();
  } catch (err) {
    if (err instanceof NamespaceNotFoundError) return undefined;
    throw err;
  }
}

function stringField(request: unknown, field: string): string {
  const value = (request as Record<string, unknown> | null)?.[field];
  return typeof value === 'string' ? value : '';
}

export function namespaceInterceptor(namespaces: NamespaceLookup, settings: Settings, policy: NamespacePolicy = OPEN_NAMESPACE_POLICY): Interceptor {
  /** The record the caller may see, or the refusal its policy says. */
  const resolve = async (principal: Principal | undefined, method: string, named: string, lookup: () => Promise<NamespaceRecord>): Promise<NamespaceRecord> => {
    const found = await find(lookup);
    switch (policy.outcome(principal, named, found)) {
      case 'visible':
        return found as NamespaceRecord;
      case 'notFound':
        throw new QuotedNamespaceNotFoundError(named);
      case 'denied':
        throw namespaceDenied(method, principal as Principal, quote(named));
    }
  };
  return {
    name: 'namespace',
    async intercept(call, next) {
      const rule = call.spec.namespace;
      if (rule.kind === 'none' || rule.kind === 'account') return next();
      const name = stringField(call.request, rule.field);
      if (rule.kind === 'resolveByNameOrId' && !name) {
        const id = stringField(call.request, rule.idField);
        if (id) {
          checkId(id, rule.idField, settings.get(Limits.maxIdLength));
          call.namespace = await resolve(call.principal, call.method, id, () => namespaces.getById(id));
          call.namespaceName = call.namespace.name;
          return next();
        }
      }
      required(name, rule.field);
      checkId(name, rule.field, settings.get(Limits.maxIdLength, { namespace: name }));
      call.namespaceName = name;
      if (rule.kind !== 'name') call.namespace = await resolve(call.principal, call.method, name, () => namespaces.getByName(name));
      return next();
    },
  };
}
