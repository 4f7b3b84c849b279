/**
 * Namespaces: list, create, change, delete through the IdentityService (its rights, its audit log);
 * search attributes through OperatorService in process (the method table's rights); limits as
 * rate limiting applies them.
 */
import { namespacePermission } from '@hourglass/identity';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { ApiContext, ObjectView, ResolverMap } from '../context';
import { indexedValueTypeName, indexedValueTypeOf, iso } from '../values';

type Args = Record<string, any>;
const DAY_MS = 86_400_000;

function searchAttributes(response: { customAttributes?: Record<string, number> | null; systemAttributes?: Record<string, number> | null }) {
  const list = (map: Record<string, number> | null | undefined, custom: boolean) => Object.entries(map ?? {}).map(([name, type]) => ({ name, type: indexedValueTypeName(Number(type)), custom }));
  return [...list(response.customAttributes, true), ...list(response.systemAttributes, false)].sort((a, b) => a.name.localeCompare(b.name));
}

/** The Namespace type of a record. */
export function namespaceView(ns: NamespaceRecord, ctx: ApiContext): ObjectView {
  return {
    id: ns.id,
    name: ns.name,
    description: ns.description,
    state: ns.state,
    retentionDays: ns.retentionMs / DAY_MS,
    createdAt: iso(ns.createdAt),
    limits: () => ctx.deps.limitsOf(ns),
    myPermission: () => namespacePermission(ctx.principal(), ns) ?? null,
    searchAttributes: async () => searchAttributes(await ctx.searchAttributesOf.load(ns.name)),
  };
}

export const namespaceResolvers: ResolverMap = {
  Query: {
    namespaces: async (_: unknown, _args: Args, ctx: ApiContext) => {
      const items: NamespaceRecord[] = [];
      for (let token: string | undefined, first = true; first || token; first = false) {
        const page = await ctx.identity.listNamespaces(ctx.actor('GetNamespaces'), token ? { pageSize: 1000, nextPageToken: token } : { pageSize: 1000 });
        items.push(...page.items);
        token = page.nextPageToken;
      }
      return items.map((ns) => namespaceView(ns, ctx));
    },
    namespace: async (_: unknown, args: Args, ctx: ApiContext) => namespaceView(await ctx.namespaceByName.load(String(args.name)), ctx),
  },
  Mutation: {
    createNamespace: async (_: unknown, args: Args, ctx: ApiContext) => {
      const created = await ctx.identity.createNamespace(ctx.actor('CreateNamespace'), {
        name: String(args.name),
        retentionDays: Number(args.retentionDays ?? 30),
        description: String(args.description ?? ''),
      });
      return namespaceView(created.result, ctx);
    },
    updateNamespace: async (_: unknown, args: Args, ctx: ApiContext) => {
      const changed = await ctx.identity.updateNamespace(
        ctx.actor('UpdateNamespace'),
        String(args.name),
        { ...(args.retentionDays === null || args.retentionDays === undefined ? {} : { retentionDays: Number(args.retentionDays) }), ...(args.description === null || args.description === undefined ? {} : { description: String(args.description) }) },
        '',
      );
      return namespaceView(changed.result, ctx);
    },
    deleteNamespace: async (_: unknown, args: Args, ctx: ApiContext) => {
      await ctx.identity.deleteNamespace(ctx.actor('DeleteNamespace'), String(args.name), '');
      return true;
    },
    addSearchAttributes: async (_: unknown, args: Args, ctx: ApiContext) => {
      const wanted = (args.attributes as { name: string; type: string }[]).map((a) => [a.name, indexedValueTypeOf(a.type)] as const);
      await ctx.call('OperatorService', 'AddSearchAttributes', { namespace: String(args.namespace), searchAttributes: Object.fromEntries(wanted) });
      ctx.searchAttributesOf.clear(String(args.namespace));
      return searchAttributes(await ctx.searchAttributesOf.load(String(args.namespace)));
    },
  },
};
