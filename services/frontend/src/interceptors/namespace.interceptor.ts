/**
 * Namespace resolution, driven by the method's row: cluster-scoped methods pass through; others
 * must name a namespace (present, at most limit.maxIDLength UTF-8 bytes) and, unless the row only
 * names one (RegisterNamespace), it must exist: NOT_FOUND with NamespaceNotFoundFailure otherwise,
 * before any later step or the handler runs.
 */
import { HourglassError, Limits, NamespaceNotFoundError, QUOTE_LIMIT, quote, type Settings } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import { checkId } from '../validation/request-shape';
import { required } from '../validation/request-validator';
import type { Interceptor } from './chain';

/** What the chain needs of the namespace registry. */
export interface NamespaceLookup {
  getByName(name: string): Promise<NamespaceRecord>;
  getById(id: string): Promise<NamespaceRecord>;
}

/** NamespaceNotFoundError with the name quoted: a long name is not echoed whole. */
class QuotedNamespaceNotFoundError extends HourglassError {
  readonly code = 'NOT_FOUND';
  readonly kind = 'user';
  constructor(namespace: string) {
    super(`Namespace ${quote(namespace)} is not found.`, { type: 'NamespaceNotFoundFailure', namespace });
  }
}

async function lookup(resolve: () => Promise<NamespaceRecord>, named: string): Promise<NamespaceRecord> {
  try {
    return await resolve();
  } catch (err) {
    if (err instanceof NamespaceNotFoundError && named.length > QUOTE_LIMIT) throw new QuotedNamespaceNotFoundError(named);
    throw err;
  }
}

function stringField(request: unknown, field: string): string {
  const value = (request as Record<string, unknown> | null)?.[field];
  return typeof value === 'string' ? value : '';
}

export function namespaceInterceptor(namespaces: NamespaceLookup, settings: Settings): Interceptor {
  return {
    name: 'namespace',
    async intercept(call, next) {
      const rule = call.spec.namespace;
      if (rule.kind === 'none') return next();
      const name = stringField(call.request, rule.field);
      if (rule.kind === 'resolveByNameOrId' && !name) {
        const id = stringField(call.request, rule.idField);
        if (id) {
          checkId(id, rule.idField, settings.get(Limits.maxIdLength));
          call.namespace = await lookup(() => namespaces.getById(id), id);
          call.namespaceName = call.namespace.name;
          return next();
        }
      }
      required(name, rule.field);
      checkId(name, rule.field, settings.get(Limits.maxIdLength, { namespace: name }));
      call.namespaceName = name;
      if (rule.kind !== 'name') call.namespace = await lookup(() => namespaces.getByName(name), name);
      return next();
    },
  };
}
