/**
 * OperatorService DeleteNamespace: the namespace is marked deleted (it stops being served at once;
 * through the identity service's rules and audit log when there are accounts) and history deletes
 * its executions in the background, in batches, as a durable job (history's namespace-deletion.ts).
 */
import type { HistoryService } from '@hourglass/contracts';
import type { NamespaceRegistry } from '@hourglass/history';
import type { IdentityService } from '@hourglass/identity';
import type { HandlerContext, UnaryHandler } from './interceptors';
import { operatorServiceHandlers } from './operator-service';

export interface DeleteNamespaceDeps {
  history: HistoryService;
  namespaces: NamespaceRegistry;
  identity?: IdentityService;
}

export function deleteNamespaceHandler(deps: DeleteNamespaceDeps): UnaryHandler {
  return async (_r: unknown, ctx: HandlerContext) => {
    const name = ctx.namespace.name;
    if (deps.identity && ctx.principal) {
      const deleted = await deps.identity.deleteNamespace({ principal: ctx.principal, operation: ctx.method }, name, '');
      deps.namespaces.remember(deleted.result);
    } else {
      await deps.namespaces.update(name, () => ({ state: 'deleted' }));
    }
    // Not awaited: the executions go in the background; the namespace is already gone for callers.
    void deps.history.onNamespaceDeleted();
    return { deletedNamespace: name };
  };
}

/** Every OperatorService handler the frontend serves: operator-service.ts's and DeleteNamespace. */
export function operatorHandlers(deps: DeleteNamespaceDeps): Record<string, UnaryHandler> {
  return { ...operatorServiceHandlers({ namespaces: deps.namespaces }), DeleteNamespace: deleteNamespaceHandler(deps) };
}
