/**
 * Sign-in, the viewer, users, service accounts, API keys and the audit log: each one call to the
 * IdentityService, which holds every rule (who may, what is valid) and writes the audit log.
 */
import { InvalidArgumentError, UnauthenticatedError } from '@hourglass/common';
import { isAccountAdmin, type NamespaceAccessView, type Principal, type ServiceAccountView, type UserView } from '@hourglass/identity';
import type { AccountRole, ApiKeyRecord, AuditRecord, NamespacePermission } from '@hourglass/persistence';
import type { ApiContext, ObjectView, ResolverMap } from '../context';
import { checkNewPassword, newPassword } from '../portal-auth';
import { iso, parseDateTime } from '../values';

type Args = Record<string, any>;

const access = (views: NamespaceAccessView[]) => views.map((a) => ({ namespace: a.namespace.name, permission: a.permission }));

function accessMap(list: { namespace: string; permission: NamespacePermission }[] | null | undefined): Map<string, NamespacePermission> {
  return new Map((list ?? []).map((a) => [a.namespace, a.permission]));
}

export function userView(view: UserView, ctx: ApiContext): ObjectView {
  const { user } = view;
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    namespaceAccess: access(view.access),
    createdAt: iso(user.createdAt),
    hasPassword: () => ctx.deps.auth.hasPassword(user.accountId, user.id),
  };
}

function serviceAccountView(view: ServiceAccountView) {
  const sa = view.serviceAccount;
  return { id: sa.id, name: sa.name, description: sa.description, role: sa.role ?? null, scopedNamespace: view.scopedNamespace?.name ?? null, namespaceAccess: access(view.access) };
}

function apiKeyView(key: ApiKeyRecord) {
  return {
    id: key.id,
    ownerType: key.ownerType,
    ownerId: key.ownerId,
    displayName: key.displayName,
    description: key.description,
    expiresAt: iso(key.expiresAt),
    disabled: key.disabled,
    lastUsedAt: iso(key.lastUsedAt),
    createdAt: iso(key.createdAt),
  };
}

function auditView(record: AuditRecord) {
  let details: unknown = record.details;
  try {
    details = JSON.parse(record.details) as unknown;
  } catch {
    // Kept as text.
  }
  return {
    id: record.id,
    time: iso(record.time),
    operation: record.operation,
    principal: `${record.principal.type} ${record.principal.name}`,
    apiKeyId: record.principal.apiKeyId || null,
    status: record.status,
    details,
  };
}

/** The caller as the Viewer type. */
export async function viewer(ctx: ApiContext): Promise<ObjectView> {
  const caller = ctx.caller();
  const { principal } = caller;
  const current = await ctx.identity.currentIdentity(ctx.actor('GetCurrentIdentity'));
  const namespaceAccess = async () => {
    if (!isAccountAdmin(principal)) return access(current.user?.access ?? current.serviceAccount?.access ?? []);
    const all = await ctx.identity.listNamespaces(ctx.actor('GetNamespaces'), { pageSize: 1000 });
    return all.items.map((ns) => ({ namespace: ns.name, permission: 'admin' }));
  };
  const account = principal.account;
  return {
    type: principal.type,
    id: principal.id,
    name: principal.name,
    role: principal.role ?? null,
    account: { id: account?.id ?? '', name: account?.name ?? '', state: account?.state ?? 'active' },
    authenticatedWith: caller.via,
    namespaceAccess,
  };
}

async function allPages<T>(load: (page: { pageSize: number; nextPageToken?: string }) => Promise<{ items: T[]; nextPageToken?: string }>, max = 10_000): Promise<T[]> {
  const items: T[] = [];
  for (let token: string | undefined, first = true; first || token; first = false) {
    const page = await load(token ? { pageSize: 1000, nextPageToken: token } : { pageSize: 1000 });
    items.push(...page.items);
    token = page.nextPageToken;
    if (items.length >= max) break;
  }
  return items;
}

export const identityResolvers: ResolverMap = {
  Query: {
    viewer: (_: unknown, _args: Args, ctx: ApiContext) => viewer(ctx),
    users: async (_: unknown, _args: Args, ctx: ApiContext) => (await allPages((p) => ctx.identity.listUsers(ctx.actor('GetUsers'), p))).map((u) => userView(u, ctx)),
    serviceAccounts: async (_: unknown, _args: Args, ctx: ApiContext) => (await allPages((p) => ctx.identity.listServiceAccounts(ctx.actor('GetServiceAccounts'), p))).map(serviceAccountView),
    apiKeys: async (_: unknown, _args: Args, ctx: ApiContext) => (await allPages((p) => ctx.identity.listApiKeys(ctx.actor('GetApiKeys'), p))).map(apiKeyView),
    auditLog: async (_: unknown, args: Args, ctx: ApiContext) => {
      const limit = Number(args.limit ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidArgumentError(`limit must be 1 to 1,000, got ${limit}`);
      const page = await ctx.identity.listAuditLogs(ctx.actor('GetAuditLogs'), { from: parseDateTime(args.from, 'from'), to: parseDateTime(args.to, 'to') }, { pageSize: limit });
      return page.items.map(auditView);
    },
  },
  Mutation: {
    signIn: async (_: unknown, args: Args, ctx: ApiContext) => {
      const session = await ctx.deps.auth.signIn(String(args.email), String(args.password), args.accountId ?? undefined);
      return sessionAnswer(ctx, session, 'password');
    },
    signInWithOidc: async (_: unknown, args: Args, ctx: ApiContext) => {
      const session = await ctx.deps.auth.signInWithOidc(String(args.idToken), args.accountId ?? undefined);
      return sessionAnswer(ctx, session, 'oidc');
    },
    signOut: async (_: unknown, _args: Args, ctx: ApiContext) => {
      const caller = ctx.caller();
      if (!caller.sessionId) throw new InvalidArgumentError('signOut ends a portal session; this request was made with an API key (delete or disable the key instead)');
      await ctx.deps.auth.signOut(caller.sessionId);
      await ctx.identity.recordActivity(ctx.actor('PortalSignOut'), { email: caller.principal.name });
      return true;
    },
    changePassword: async (_: unknown, args: Args, ctx: ApiContext) => {
      const { principal } = ctx.caller();
      if (principal.type !== 'user') throw new InvalidArgumentError('only users have portal passwords');
      checkNewPassword(String(args.newPassword));
      if (!(await ctx.deps.auth.checkPassword(principal.accountId, principal.id, String(args.currentPassword)))) throw new UnauthenticatedError('the current password is wrong');
      await ctx.deps.auth.setPassword(principal.accountId, principal.id, principal.name, String(args.newPassword));
      await ctx.identity.recordActivity(ctx.actor('ChangePortalPassword'), { email: principal.name });
      return true;
    },
    inviteUser: async (_: unknown, args: Args, ctx: ApiContext) => {
      const created = await ctx.identity.createUser(ctx.actor('CreateUser'), { email: String(args.email), role: args.role as AccountRole, namespaceAccess: accessMap(args.namespaceAccess) });
      const initialPassword = newPassword();
      await ctx.deps.auth.setPassword(created.result.user.accountId, created.result.user.id, created.result.user.email, initialPassword);
      return { user: userView(created.result, ctx), initialPassword };
    },
    setUserRole: async (_: unknown, args: Args, ctx: ApiContext) => {
      const current = await ctx.identity.getUser(ctx.actor('GetUser'), String(args.userId));
      const spec = { email: current.user.email, role: args.role as AccountRole, namespaceAccess: new Map(current.access.map((a) => [a.namespace.name, a.permission])) };
      const changed = await ctx.identity.updateUser(ctx.actor('UpdateUser'), current.user.id, spec, String(current.user.resourceVersion));
      return userView(changed.result, ctx);
    },
    setUserNamespaceAccess: async (_: unknown, args: Args, ctx: ApiContext) => {
      const changed = await ctx.identity.setUserNamespaceAccess(ctx.actor('SetUserNamespaceAccess'), String(args.namespace), String(args.userId), (args.permission ?? undefined) as NamespacePermission | undefined, '');
      return userView(changed.result, ctx);
    },
    removeUser: async (_: unknown, args: Args, ctx: ApiContext) => {
      const deleted = await ctx.identity.deleteUser(ctx.actor('DeleteUser'), String(args.userId), '');
      await ctx.deps.auth.forgetUser(deleted.result.accountId, deleted.result.id);
      return true;
    },
    createServiceAccount: async (_: unknown, args: Args, ctx: ApiContext) => {
      const scoped = args.scopedNamespace as { namespace: string; permission: NamespacePermission } | null | undefined;
      const created = await ctx.identity.createServiceAccount(ctx.actor('CreateServiceAccount'), {
        name: String(args.name),
        description: String(args.description ?? ''),
        ...(args.role ? { role: args.role as AccountRole } : {}),
        ...(scoped ? { scoped: { namespace: scoped.namespace, permission: scoped.permission } } : {}),
      });
      return serviceAccountView(created.result);
    },
    deleteServiceAccount: async (_: unknown, args: Args, ctx: ApiContext) => {
      await ctx.identity.deleteServiceAccount(ctx.actor('DeleteServiceAccount'), String(args.id), '');
      return true;
    },
    createApiKey: async (_: unknown, args: Args, ctx: ApiContext) => {
      const principal = ctx.principal();
      const owner = args.serviceAccountId
        ? { ownerType: 'serviceAccount' as const, ownerId: String(args.serviceAccountId) }
        : { ownerType: principal.type === 'serviceAccount' ? ('serviceAccount' as const) : ('user' as const), ownerId: principal.id };
      const created = await ctx.identity.createApiKey(ctx.actor('CreateApiKey'), {
        ...owner,
        displayName: String(args.displayName),
        description: String(args.description ?? ''),
        expiresAt: parseDateTime(args.expiresAt, 'expiresAt'),
        disabled: false,
      });
      return { key: apiKeyView(created.result.key), token: created.result.token };
    },
    setApiKeyDisabled: async (_: unknown, args: Args, ctx: ApiContext) => {
      const key = await ctx.identity.getApiKey(ctx.actor('GetApiKey'), String(args.id));
      const changed = await ctx.identity.updateApiKey(
        ctx.actor('UpdateApiKey'),
        key.id,
        { displayName: key.displayName, description: key.description, disabled: Boolean(args.disabled), expiresAt: key.expiresAt },
        String(key.resourceVersion),
      );
      return apiKeyView(changed.result);
    },
    deleteApiKey: async (_: unknown, args: Args, ctx: ApiContext) => {
      await ctx.identity.deleteApiKey(ctx.actor('DeleteApiKey'), String(args.id), '');
      return true;
    },
  },
};

/** A new session's answer; the rest of the request acts as the user who signed in (the answer's viewer). The sign-in is audited. */
async function sessionAnswer(ctx: ApiContext, session: { token: string; expiresAt: number; principal: Principal }, method: 'password' | 'oidc') {
  const signedIn = { ...ctx, caller: () => ({ principal: session.principal, via: 'session' as const }), principal: () => session.principal };
  signedIn.actor = (operation: string) => ({ principal: session.principal, operation, ...(ctx.xForwardedFor ? { xForwardedFor: ctx.xForwardedFor } : {}) });
  await ctx.identity.recordActivity(signedIn.actor('PortalSignIn'), { email: session.principal.name, expiresAt: iso(session.expiresAt), method });
  return { token: session.token, expiresAt: iso(session.expiresAt), viewer: () => viewer(signedIn) };
}
