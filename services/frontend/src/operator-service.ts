/**
 * temporal.api.operatorservice.v1.OperatorService: served so the CLI and UI get a precise answer.
 * DeleteNamespace marks the namespace deleted (it stops being served at once) and history deletes
 * its executions in the background, in batches, as a durable job; ListNexusEndpoints is empty
 * (Hourglass has no Nexus). Every other method answers UNIMPLEMENTED with its name.
 */
import type { HistoryService } from '@hourglass/contracts';
import type { NamespaceRegistry } from '@hourglass/history';
import type { IdentityService } from '@hourglass/identity';
import type { HandlerContext, UnaryHandler } from './interceptors';

export interface OperatorServiceDeps {
  history: HistoryService;
  namespaces: NamespaceRegistry;
  identity?: IdentityService;
}

export function operatorServiceHandlers(deps?: OperatorServiceDeps): Record<string, UnaryHandler> {
  const handlers: Record<string, UnaryHandler> = {
    ListNexusEndpoints: async () => ({ endpoints: [] }),
  };
  if (deps) {
    handlers.DeleteNamespace = async (_r: unknown, ctx: HandlerContext) => {
      const name = ctx.namespace.name;
      if (deps.identity && ctx.principal) {
        // The identity service's rules and audit log, as CloudService's DeleteNamespace.
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
  return handlers;
}
