/**
 * Temporal Cloud's Cloud Ops API (`temporal.api.cloud.cloudservice.v1.CloudService`), so that
 * `@temporalio/cloud`'s CloudOperationsClient, `tcld` and Temporal's Terraform provider manage
 * Hourglass unmodified. Each handler maps the protos onto @hourglass/identity's IdentityService,
 * which holds every rule; the chain already authenticated the key and checked the method table's
 * permission. Methods not listed answer UNIMPLEMENTED with their name.
 *
 * Enums are written both ways Cloud clients read them: the enum and its deprecated string form
 * (older tcld and the Terraform provider read the strings).
 */
import { InvalidArgumentError, Long, NotFoundError, UnimplementedError, durationToMs, msToDuration, msToTimestamp, quote, temporal, timestampToMs, google } from '@hourglass/common';
import type {
  ActorContext,
  IdentityService,
  NamespaceAccessView,
  ServiceAccountSpec,
  ServiceAccountView,
  UserView,
} from '@hourglass/identity';
import { shortNameOf } from '@hourglass/identity';
import type { AccountRecord, AccountRole, ApiKeyRecord, AsyncOperationRecord, AuditRecord, NamespacePermission, NamespaceRecord } from '@hourglass/persistence';
import { getUsage, type Billing, type Granularity as BillingGranularity } from '@hourglass/usage';
import type { HandlerContext, UnaryHandler } from './interceptors';
import { INDEXED_VALUE_TYPE_NUMBERS, type SearchAttributeType } from '@hourglass/visibility';
import { addCustomSearchAttributes, customSearchAttributeTypes } from './operator-service';

const cloud = temporal.api.cloud;
const Role = cloud.identity.v1.AccountAccess.Role;
const Permission = cloud.identity.v1.NamespaceAccess.Permission;
const OwnerType = cloud.identity.v1.OwnerType;
const ResourceState = cloud.resource.v1.ResourceState;
const OperationState = cloud.operation.v1.AsyncOperation.State;

/** Where customers reach this deployment, for namespace endpoints. */
export interface CloudServiceOptions {
  identity: IdentityService;
  /** The gRPC address SDKs connect to (host:port). */
  grpcAddress: () => string;
  /** The portal, when there is one. */
  webAddress?: () => string;
  /** A namespace's actions-per-second limit, as its rate limiter applies it. */
  actionsPerSecondLimit: (ns: NamespaceRecord) => number;
  /** The region name namespaces report (Hourglass runs in one). */
  region?: string;
  /** Usage and billing (GetUsage, billing reports); absent: those methods answer UNIMPLEMENTED. */
  billing?: Billing;
}

const ROLE_TO_PROTO: Record<AccountRole, number> = {
  owner: Role.ROLE_OWNER,
  admin: Role.ROLE_ADMIN,
  developer: Role.ROLE_DEVELOPER,
  financeAdmin: Role.ROLE_FINANCE_ADMIN,
  read: Role.ROLE_READ,
  metricsRead: Role.ROLE_METRICS_READ,
};
const ROLE_STRING: Record<AccountRole, string> = { owner: 'owner', admin: 'admin', developer: 'developer', financeAdmin: 'financeadmin', read: 'read', metricsRead: 'metricsread' };
const PERMISSION_TO_PROTO: Record<NamespacePermission, number> = { admin: Permission.PERMISSION_ADMIN, write: Permission.PERMISSION_WRITE, read: Permission.PERMISSION_READ };

function roleFrom(access: temporal.api.cloud.identity.v1.IAccountAccess | null | undefined, what: string): AccountRole {
  const byEnum = Object.entries(ROLE_TO_PROTO).find(([, v]) => v === access?.role)?.[0] as AccountRole | undefined;
  if (byEnum) return byEnum;
  const text = (access?.roleDeprecated ?? '').toLowerCase();
  const byString = Object.entries(ROLE_STRING).find(([, v]) => v === text)?.[0] as AccountRole | undefined;
  if (byString) return byString;
  throw new InvalidArgumentError(`${what} needs an account role: one of ${Object.values(ROLE_STRING).join(', ')}${access?.role ? ` (got ${access.role})` : ''}`);
}

function permissionFrom(access: temporal.api.cloud.identity.v1.INamespaceAccess | null | undefined, what: string): NamespacePermission {
  const byEnum = Object.entries(PERMISSION_TO_PROTO).find(([, v]) => v === access?.permission)?.[0] as NamespacePermission | undefined;
  if (byEnum) return byEnum;
  const text = (access?.permissionDeprecated ?? '').toLowerCase();
  if (text === 'admin' || text === 'write' || text === 'read') return text;
  throw new InvalidArgumentError(`${what} needs a namespace permission: admin, write or read${access?.permission ? ` (got ${access.permission})` : ''}`);
}

/** A permission, or undefined to remove access (PERMISSION_UNSPECIFIED with no string). */
function optionalPermissionFrom(access: temporal.api.cloud.identity.v1.INamespaceAccess | null | undefined, what: string): NamespacePermission | undefined {
  if (!access || (!access.permission && !access.permissionDeprecated)) return undefined;
  return permissionFrom(access, what);
}

function namespaceAccessFrom(access: temporal.api.cloud.identity.v1.IAccess | null | undefined, what: string): Map<string, NamespacePermission> {
  const map = new Map<string, NamespacePermission>();
  for (const [namespace, entry] of Object.entries(access?.namespaceAccesses ?? {})) map.set(namespace, permissionFrom(entry, `${what}'s access to ${quote(namespace)}`));
  return map;
}

/**
 * A service account's spec: namespace-scoped (its one namespace and permission) or account-level
 * (a role and namespace access). An update that names neither keeps the account's access.
 */
function serviceAccountSpecFrom(spec: temporal.api.cloud.identity.v1.IServiceAccountSpec, use: 'create' | 'update'): ServiceAccountSpec {
  const base = { name: spec.name ?? '', description: spec.description ?? '' };
  const scoped = spec.namespaceScopedAccess;
  if (scoped?.namespace) return { ...base, scoped: { namespace: scoped.namespace, permission: permissionFrom(scoped.access, 'a namespace-scoped service account') } };
  if (use === 'update' && !spec.access?.accountAccess) return base;
  return { ...base, role: roleFrom(spec.access?.accountAccess, 'a service account'), namespaceAccess: namespaceAccessFrom(spec.access, 'the service account') };
}

function ownerTypeFrom(spec: temporal.api.cloud.identity.v1.IApiKeySpec): 'user' | 'serviceAccount' {
  if (spec.ownerType === OwnerType.OWNER_TYPE_USER || spec.ownerTypeDeprecated === 'user') return 'user';
  if (spec.ownerType === OwnerType.OWNER_TYPE_SERVICE_ACCOUNT || spec.ownerTypeDeprecated === 'service-account') return 'serviceAccount';
  throw new InvalidArgumentError('an API key spec needs an owner type: user or service account');
}

function time(ms: number | undefined): google.protobuf.ITimestamp | undefined {
  return ms === undefined ? undefined : msToTimestamp(ms);
}

function accessProto(role: AccountRole | undefined, grants: NamespaceAccessView[]): temporal.api.cloud.identity.v1.IAccess {
  return {
    ...(role ? { accountAccess: { role: ROLE_TO_PROTO[role], roleDeprecated: ROLE_STRING[role] } } : {}),
    namespaceAccesses: Object.fromEntries(grants.map((g) => [g.namespace.name, { permission: PERMISSION_TO_PROTO[g.permission], permissionDeprecated: g.permission }])),
  };
}

function userProto(view: UserView): temporal.api.cloud.identity.v1.IUser {
  const { user } = view;
  return {
    id: user.id,
    resourceVersion: String(user.resourceVersion),
    spec: { email: user.email, access: accessProto(user.role, view.access) },
    state: user.deleted ? ResourceState.RESOURCE_STATE_DELETED : ResourceState.RESOURCE_STATE_ACTIVE,
    stateDeprecated: user.deleted ? 'deleted' : 'active',
    createdTime: time(user.createdAt),
    lastModifiedTime: time(user.updatedAt),
  };
}

function serviceAccountProto(view: ServiceAccountView): temporal.api.cloud.identity.v1.IServiceAccount {
  const sa = view.serviceAccount;
  const scopedGrant = view.scopedNamespace ? view.access.find((a) => a.namespace.id === view.scopedNamespace?.id) : undefined;
  return {
    id: sa.id,
    resourceVersion: String(sa.resourceVersion),
    spec: {
      name: sa.name,
      description: sa.description,
      ...(view.scopedNamespace && scopedGrant
        ? { namespaceScopedAccess: { namespace: view.scopedNamespace.name, access: { permission: PERMISSION_TO_PROTO[scopedGrant.permission], permissionDeprecated: scopedGrant.permission } } }
        : { access: accessProto(sa.role, view.access) }),
    },
    state: sa.deleted ? ResourceState.RESOURCE_STATE_DELETED : ResourceState.RESOURCE_STATE_ACTIVE,
    stateDeprecated: sa.deleted ? 'deleted' : 'active',
    createdTime: time(sa.createdAt),
    lastModifiedTime: time(sa.updatedAt),
  };
}

function apiKeyProto(key: ApiKeyRecord, now: number): temporal.api.cloud.identity.v1.IApiKey {
  const expired = key.expiresAt !== undefined && now >= key.expiresAt;
  const state = key.deleted ? ResourceState.RESOURCE_STATE_DELETED : expired ? ResourceState.RESOURCE_STATE_EXPIRED : ResourceState.RESOURCE_STATE_ACTIVE;
  return {
    id: key.id,
    resourceVersion: String(key.resourceVersion),
    spec: {
      ownerId: key.ownerId,
      ownerType: key.ownerType === 'user' ? OwnerType.OWNER_TYPE_USER : OwnerType.OWNER_TYPE_SERVICE_ACCOUNT,
      ownerTypeDeprecated: key.ownerType === 'user' ? 'user' : 'service-account',
      displayName: key.displayName,
      description: key.description,
      expiryTime: time(key.expiresAt),
      disabled: key.disabled,
    },
    state,
    stateDeprecated: key.deleted ? 'deleted' : expired ? 'expired' : 'active',
    createdTime: time(key.createdAt),
    lastModifiedTime: time(key.updatedAt),
  };
}

function operationProto(op: AsyncOperationRecord): temporal.api.cloud.operation.v1.IAsyncOperation {
  const states: Record<AsyncOperationRecord['state'], number> = {
    pending: OperationState.STATE_PENDING,
    inProgress: OperationState.STATE_IN_PROGRESS,
    failed: OperationState.STATE_FAILED,
    cancelled: OperationState.STATE_CANCELLED,
    fulfilled: OperationState.STATE_FULFILLED,
    rejected: OperationState.STATE_REJECTED,
  };
  return {
    id: op.id,
    state: states[op.state],
    stateDeprecated: op.state === 'inProgress' ? 'in_progress' : op.state,
    operationType: op.operationType,
    failureReason: op.failureReason,
    startedTime: time(op.startedAt),
    finishedTime: time(op.finishedAt),
  };
}

function accountProto(account: AccountRecord): temporal.api.cloud.account.v1.IAccount {
  return {
    id: account.id,
    resourceVersion: String(account.resourceVersion),
    state: account.state === 'suspended' ? ResourceState.RESOURCE_STATE_SUSPENDED : account.state === 'deleted' ? ResourceState.RESOURCE_STATE_DELETED : ResourceState.RESOURCE_STATE_ACTIVE,
  };
}

/** JSON → google.protobuf.Struct (the audit record's raw details). */
function toStructValue(value: unknown): google.protobuf.IValue {
  if (value === null || value === undefined) return { nullValue: google.protobuf.NullValue.NULL_VALUE };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toStructValue) } };
  return { structValue: toStruct(value as Record<string, unknown>) };
}

function toStruct(object: Record<string, unknown>): google.protobuf.IStruct {
  return { fields: Object.fromEntries(Object.entries(object).map(([k, v]) => [k, toStructValue(v)])) };
}

function auditProto(record: AuditRecord): temporal.api.cloud.auditlog.v1.ILogRecord {
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(record.details) as Record<string, unknown>;
  } catch {
    details = { text: record.details };
  }
  return {
    emitTime: time(record.time),
    operation: record.operation,
    status: record.status,
    version: 1,
    logId: record.id,
    principal: { type: record.principal.type === 'serviceAccount' ? 'service-account' : record.principal.type, id: record.principal.id, name: record.principal.name, apiKeyId: record.principal.apiKeyId },
    rawDetails: toStruct(details),
    xForwardedFor: record.xForwardedFor,
    asyncOperationId: record.asyncOperationId,
  };
}

const PAGE_DEFAULT = 100;
const PAGE_MAX = 1000;

function page(request: { pageSize?: number | null; pageToken?: string | null }): { pageSize: number; nextPageToken?: string } {
  const size = request.pageSize && request.pageSize > 0 ? Math.min(request.pageSize, PAGE_MAX) : PAGE_DEFAULT;
  return request.pageToken ? { pageSize: size, nextPageToken: request.pageToken } : { pageSize: size };
}

const Granularity = cloud.billing.v1.BillingReportSpec.BillingReportGranularity;
const GRANULARITY_TO_PROTO: Record<BillingGranularity, number> = {
  hourly: Granularity.BILLING_REPORT_GRANULARITY_HOURLY,
  daily: Granularity.BILLING_REPORT_GRANULARITY_DAILY,
  monthly: Granularity.BILLING_REPORT_GRANULARITY_MONTHLY,
};

/** Unspecified: daily. */
function granularityFrom(value: number | null | undefined): BillingGranularity {
  if (!value) return 'daily';
  const found = (Object.entries(GRANULARITY_TO_PROTO) as [BillingGranularity, number][]).find(([, v]) => v === value)?.[0];
  if (!found) throw new InvalidArgumentError(`spec.granularity must be HOURLY, DAILY or MONTHLY, got ${value}`);
  return found;
}

function requiredText(value: string | null | undefined, field: string): string {
  if (!value) throw new InvalidArgumentError(`${field} is required`);
  return value;
}

export function cloudServiceHandlers(options: CloudServiceOptions): Record<string, UnaryHandler> {
  const { identity } = options;
  const region = options.region ?? 'hourglass';
  const now = (): number => Date.now();

  const actor = (ctx: HandlerContext, asyncOperationId?: string | null): ActorContext => {
    if (!ctx.principal) throw new InvalidArgumentError('the account API needs an API key');
    const forwarded = ctx.metadata.get('x-forwarded-for')[0];
    return {
      principal: ctx.principal,
      operation: ctx.method,
      ...(forwarded ? { xForwardedFor: String(forwarded).slice(0, 200) } : {}),
      ...(asyncOperationId ? { asyncOperationId } : {}),
    };
  };

  const namespaceProto = (ns: NamespaceRecord): temporal.api.cloud.namespace.v1.INamespace => ({
    namespace: ns.name,
    resourceVersion: String(ns.resourceVersion),
    spec: {
      name: shortNameOf(ns.name),
      regions: [region],
      retentionDays: Math.max(1, Math.round(ns.retentionMs / 86_400_000)),
      apiKeyAuth: { enabled: true },
      searchAttributes: customSearchAttributeTypes(ns.searchAttributes),
      // Older tcld and Terraform provider versions read the deprecated map of type names.
      customSearchAttributes: { ...(ns.searchAttributes ?? {}) },
    },
    state: ns.state === 'deleted' ? ResourceState.RESOURCE_STATE_DELETED : ResourceState.RESOURCE_STATE_ACTIVE,
    stateDeprecated: ns.state === 'deleted' ? 'deleted' : 'active',
    endpoints: { grpcAddress: options.grpcAddress(), ...(options.webAddress ? { webAddress: options.webAddress() } : {}) },
    activeRegion: region,
    limits: { actionsPerSecondLimit: options.actionsPerSecondLimit(ns) },
    createdTime: time(ns.createdAt),
    lastModifiedTime: time(ns.updatedAt),
  });

  const retentionDaysFrom = (spec: temporal.api.cloud.namespace.v1.INamespaceSpec | null | undefined): number | undefined => (spec?.retentionDays ? spec.retentionDays : undefined);

  /**
   * The custom search attributes a spec asks for (search_attributes, or the deprecated
   * custom_search_attributes with type names), added to what the namespace has: as in Temporal
   * Cloud, a spec cannot delete an attribute (one it leaves out stays).
   */
  const wantedSearchAttributes = (spec: temporal.api.cloud.namespace.v1.INamespaceSpec): [string, number][] | undefined => {
    const typed = Object.entries(spec.searchAttributes ?? {}).map(([name, type]): [string, number] => [name, Number(type)]);
    const named = Object.entries(spec.customSearchAttributes ?? {}).map(([name, type]): [string, number] => {
      const number = INDEXED_VALUE_TYPE_NUMBERS[type as SearchAttributeType];
      if (number === undefined) throw new InvalidArgumentError(`spec.custom_search_attributes: ${quote(type)} (of ${quote(name)}) is not a search attribute type (Keyword, Text, Int, Double, Bool, Datetime, KeywordList)`);
      return [name, number];
    });
    const all = [...typed, ...named];
    return all.length > 0 ? all : undefined;
  };

  const refuseUnsupportedSpec = (spec: temporal.api.cloud.namespace.v1.INamespaceSpec): void => {
    if (spec.mtlsAuth?.acceptedClientCa?.length || spec.mtlsAuth?.acceptedClientCaDeprecated) {
      throw new InvalidArgumentError('mTLS namespaces are not supported: namespaces authenticate with API keys');
    }
  };

  /** The caller's account, for the account-wide usage and billing methods (the chain checked the finance role). */
  const billingAccount = (ctx: HandlerContext): { billing: Billing; accountId: string } => {
    if (!options.billing) throw new UnimplementedError(`${ctx.method} is not served by this deployment (no usage store)`);
    return { billing: options.billing, accountId: actor(ctx).principal.accountId };
  };

  return {
    // Usage and billing
    GetUsage: async (r: temporal.api.cloud.cloudservice.v1.GetUsageRequest, ctx) => {
      const { billing, accountId } = billingAccount(ctx);
      return getUsage(billing.reader, accountId, r);
    },

    CreateBillingReport: async (r: temporal.api.cloud.cloudservice.v1.CreateBillingReportRequest, ctx) => {
      const { billing, accountId } = billingAccount(ctx);
      const spec = r.spec ?? {};
      const start = timestampToMs(spec.startTimeInclusive);
      const end = timestampToMs(spec.endTimeExclusive);
      if (start === undefined || end === undefined) throw new InvalidArgumentError('spec.start_time_inclusive and spec.end_time_exclusive are required');
      const ttl = spec.downloadUrlExpirationDuration ? durationToMs(spec.downloadUrlExpirationDuration) : undefined;
      const created = billing.createReport(accountId, {
        startMs: start,
        endMs: end,
        granularity: granularityFrom(spec.granularity),
        ...(ttl !== undefined ? { urlTtlMs: ttl } : {}),
        description: spec.description ?? '',
      });
      const at = time(created.spec.requestedMs);
      return {
        billingReportId: created.id,
        asyncOperation: { id: r.asyncOperationId || `billing-report-${created.spec.requestedMs}`, state: OperationState.STATE_FULFILLED, stateDeprecated: 'fulfilled', operationType: 'create-billing-report', startedTime: at, finishedTime: at },
      };
    },
    GetBillingReport: async (r: temporal.api.cloud.cloudservice.v1.GetBillingReportRequest, ctx) => {
      const { billing, accountId } = billingAccount(ctx);
      const report = await billing.getReport(accountId, requiredText(r.billingReportId, 'billing_report_id'));
      const base = billing.downloadBaseUrl;
      if (!base) throw new UnimplementedError('billing report downloads are not served by this deployment');
      const spec = report.spec;
      return {
        billingReport: {
          id: report.id,
          state: cloud.billing.v1.BillingReport.BillingReportState.BILLING_REPORT_STATE_GENERATED,
          spec: {
            startTimeInclusive: time(spec.startMs),
            endTimeExclusive: time(spec.endMs),
            downloadUrlExpirationDuration: msToDuration(spec.urlTtlMs),
            description: spec.description,
            granularity: GRANULARITY_TO_PROTO[spec.granularity],
          },
          downloadInfo: [
            {
              url: `${base}${report.downloadPath}`,
              urlExpirationTime: time(report.urlExpiresMs),
              fileFormat: cloud.billing.v1.BillingReport.Download.FileFormat.FILE_FORMAT_CSV,
              fileSizeBytes: Long.fromNumber(report.sizeBytes),
            },
          ],
          requestedTime: time(spec.requestedMs),
          generatedTime: time(report.generatedMs),
        },
      };
    },

    GetCurrentIdentity: async (_r, ctx) => {
      const me = await identity.currentIdentity(actor(ctx));
      return {
        ...(me.user ? { user: userProto(me.user) } : {}),
        ...(me.serviceAccount ? { serviceAccount: serviceAccountProto(me.serviceAccount) } : {}),
        ...(me.apiKey ? { principalApiKey: apiKeyProto(me.apiKey, now()) } : {}),
      };
    },
    GetAccount: async (_r, ctx) => ({ account: accountProto(await identity.getAccount(actor(ctx))) }),
    GetAsyncOperation: async (r: temporal.api.cloud.cloudservice.v1.GetAsyncOperationRequest, ctx) => ({
      asyncOperation: operationProto(await identity.getAsyncOperation(actor(ctx), requiredText(r.asyncOperationId, 'async_operation_id'))),
    }),
    GetRegions: async () => ({ regions: [{ id: region, cloudProvider: 0, cloudProviderRegion: region, location: 'self-hosted' }] }),
    GetRegion: async (r: temporal.api.cloud.cloudservice.v1.GetRegionRequest) => {
      if (r.region !== region) throw new NotFoundError(`region ${quote(r.region)} not found; this deployment runs in ${region}`);
      return { region: { id: region, cloudProvider: 0, cloudProviderRegion: region, location: 'self-hosted' } };
    },

    // Users
    GetUsers: async (r: temporal.api.cloud.cloudservice.v1.GetUsersRequest, ctx) => {
      const list = await identity.listUsers(actor(ctx), page(r), r.email ? { email: r.email } : {});
      const users = r.namespace ? list.items.filter((u) => u.access.some((a) => a.namespace.name === r.namespace)) : list.items;
      return { users: users.map(userProto), nextPageToken: list.nextPageToken ?? '' };
    },
    GetUser: async (r: temporal.api.cloud.cloudservice.v1.GetUserRequest, ctx) => ({ user: userProto(await identity.getUser(actor(ctx), requiredText(r.userId, 'user_id'))) }),
    CreateUser: async (r: temporal.api.cloud.cloudservice.v1.CreateUserRequest, ctx) => {
      const spec = r.spec;
      if (!spec) throw new InvalidArgumentError('spec is required');
      const created = await identity.createUser(actor(ctx, r.asyncOperationId), {
        email: requiredText(spec.email, 'spec.email'),
        role: roleFrom(spec.access?.accountAccess, 'a user'),
        namespaceAccess: namespaceAccessFrom(spec.access, 'the user'),
      });
      return { userId: created.result.user.id, asyncOperation: operationProto(created.operation) };
    },
    UpdateUser: async (r: temporal.api.cloud.cloudservice.v1.UpdateUserRequest, ctx) => {
      const spec = r.spec;
      if (!spec) throw new InvalidArgumentError('spec is required');
      const updated = await identity.updateUser(
        actor(ctx, r.asyncOperationId),
        requiredText(r.userId, 'user_id'),
        { email: requiredText(spec.email, 'spec.email'), role: roleFrom(spec.access?.accountAccess, 'a user'), namespaceAccess: namespaceAccessFrom(spec.access, 'the user') },
        r.resourceVersion ?? '',
      );
      return { asyncOperation: operationProto(updated.operation) };
    },
    DeleteUser: async (r: temporal.api.cloud.cloudservice.v1.DeleteUserRequest, ctx) => {
      const deleted = await identity.deleteUser(actor(ctx, r.asyncOperationId), requiredText(r.userId, 'user_id'), r.resourceVersion ?? '');
      return { asyncOperation: operationProto(deleted.operation) };
    },
    SetUserNamespaceAccess: async (r: temporal.api.cloud.cloudservice.v1.SetUserNamespaceAccessRequest, ctx) => {
      const changed = await identity.setUserNamespaceAccess(actor(ctx, r.asyncOperationId), ctx.namespaceName, requiredText(r.userId, 'user_id'), optionalPermissionFrom(r.access, 'access'), r.resourceVersion ?? '');
      return { asyncOperation: operationProto(changed.operation) };
    },

    // Service accounts
    GetServiceAccounts: async (r: temporal.api.cloud.cloudservice.v1.GetServiceAccountsRequest, ctx) => {
      const list = await identity.listServiceAccounts(actor(ctx), page(r));
      return { serviceAccount: list.items.map(serviceAccountProto), nextPageToken: list.nextPageToken ?? '' };
    },
    GetServiceAccount: async (r: temporal.api.cloud.cloudservice.v1.GetServiceAccountRequest, ctx) => ({
      serviceAccount: serviceAccountProto(await identity.getServiceAccount(actor(ctx), requiredText(r.serviceAccountId, 'service_account_id'))),
    }),
    CreateServiceAccount: async (r: temporal.api.cloud.cloudservice.v1.CreateServiceAccountRequest, ctx) => {
      if (!r.spec) throw new InvalidArgumentError('spec is required');
      const created = await identity.createServiceAccount(actor(ctx, r.asyncOperationId), serviceAccountSpecFrom(r.spec, 'create'));
      return { serviceAccountId: created.result.serviceAccount.id, asyncOperation: operationProto(created.operation) };
    },
    UpdateServiceAccount: async (r: temporal.api.cloud.cloudservice.v1.UpdateServiceAccountRequest, ctx) => {
      if (!r.spec) throw new InvalidArgumentError('spec is required');
      const updated = await identity.updateServiceAccount(
        actor(ctx, r.asyncOperationId),
        requiredText(r.serviceAccountId, 'service_account_id'),
        serviceAccountSpecFrom(r.spec, 'update'),
        r.resourceVersion ?? '',
      );
      return { asyncOperation: operationProto(updated.operation) };
    },
    DeleteServiceAccount: async (r: temporal.api.cloud.cloudservice.v1.DeleteServiceAccountRequest, ctx) => {
      const deleted = await identity.deleteServiceAccount(actor(ctx, r.asyncOperationId), requiredText(r.serviceAccountId, 'service_account_id'), r.resourceVersion ?? '');
      return { asyncOperation: operationProto(deleted.operation) };
    },
    SetServiceAccountNamespaceAccess: async (r: temporal.api.cloud.cloudservice.v1.SetServiceAccountNamespaceAccessRequest, ctx) => {
      const changed = await identity.setServiceAccountNamespaceAccess(
        actor(ctx, r.asyncOperationId),
        requiredText(r.serviceAccountId, 'service_account_id'),
        ctx.namespaceName,
        optionalPermissionFrom(r.access, 'access'),
        r.resourceVersion ?? '',
      );
      return { asyncOperation: operationProto(changed.operation) };
    },

    // API keys
    GetApiKeys: async (r: temporal.api.cloud.cloudservice.v1.GetApiKeysRequest, ctx) => {
      const list = await identity.listApiKeys(actor(ctx), page(r), r.ownerId ? { ownerId: r.ownerId } : {});
      const t = now();
      return { apiKeys: list.items.map((k) => apiKeyProto(k, t)), nextPageToken: list.nextPageToken ?? '' };
    },
    GetApiKey: async (r: temporal.api.cloud.cloudservice.v1.GetApiKeyRequest, ctx) => ({ apiKey: apiKeyProto(await identity.getApiKey(actor(ctx), requiredText(r.keyId, 'key_id')), now()) }),
    CreateApiKey: async (r: temporal.api.cloud.cloudservice.v1.CreateApiKeyRequest, ctx) => {
      const spec = r.spec;
      if (!spec) throw new InvalidArgumentError('spec is required');
      const created = await identity.createApiKey(actor(ctx, r.asyncOperationId), {
        ownerType: ownerTypeFrom(spec),
        ownerId: requiredText(spec.ownerId, 'spec.owner_id'),
        displayName: spec.displayName ?? '',
        description: spec.description ?? '',
        expiresAt: timestampToMs(spec.expiryTime),
        disabled: spec.disabled ?? false,
      });
      return { keyId: created.result.key.id, token: created.result.token, asyncOperation: operationProto(created.operation) };
    },
    UpdateApiKey: async (r: temporal.api.cloud.cloudservice.v1.UpdateApiKeyRequest, ctx) => {
      const spec = r.spec;
      if (!spec) throw new InvalidArgumentError('spec is required');
      const updated = await identity.updateApiKey(
        actor(ctx, r.asyncOperationId),
        requiredText(r.keyId, 'key_id'),
        { displayName: spec.displayName ?? '', description: spec.description ?? '', disabled: spec.disabled ?? false, expiresAt: timestampToMs(spec.expiryTime) },
        r.resourceVersion ?? '',
      );
      return { asyncOperation: operationProto(updated.operation) };
    },
    DeleteApiKey: async (r: temporal.api.cloud.cloudservice.v1.DeleteApiKeyRequest, ctx) => {
      const deleted = await identity.deleteApiKey(actor(ctx, r.asyncOperationId), requiredText(r.keyId, 'key_id'), r.resourceVersion ?? '');
      return { asyncOperation: operationProto(deleted.operation) };
    },

    // Namespaces
    GetNamespaces: async (r: temporal.api.cloud.cloudservice.v1.GetNamespacesRequest, ctx) => {
      const list = await identity.listNamespaces(actor(ctx), page(r));
      const items = r.name ? list.items.filter((ns) => ns.name === r.name || shortNameOf(ns.name) === r.name) : list.items;
      return { namespaces: items.map(namespaceProto), nextPageToken: list.nextPageToken ?? '' };
    },
    GetNamespace: async (_r, ctx) => ({ namespace: namespaceProto(await identity.getNamespace(actor(ctx), ctx.namespaceName)) }),
    CreateNamespace: async (r: temporal.api.cloud.cloudservice.v1.CreateNamespaceRequest, ctx) => {
      const spec = r.spec;
      if (!spec) throw new InvalidArgumentError('spec is required');
      refuseUnsupportedSpec(spec);
      const retentionDays = retentionDaysFrom(spec);
      const wanted = wantedSearchAttributes(spec);
      const searchAttributes = wanted ? addCustomSearchAttributes({}, wanted, spec.name ?? '') : undefined;
      const created = await identity.createNamespace(actor(ctx, r.asyncOperationId), {
        name: spec.name ?? '',
        ...(retentionDays === undefined ? {} : { retentionDays }),
        ...(searchAttributes ? { searchAttributes } : {}),
      });
      return { namespace: created.result.name, asyncOperation: operationProto(created.operation) };
    },
    UpdateNamespace: async (r: temporal.api.cloud.cloudservice.v1.UpdateNamespaceRequest, ctx) => {
      const spec = r.spec;
      if (!spec) throw new InvalidArgumentError('spec is required');
      refuseUnsupportedSpec(spec);
      if (spec.name && spec.name !== shortNameOf(ctx.namespaceName)) throw new InvalidArgumentError(`a namespace cannot be renamed (spec.name ${quote(spec.name)}, namespace ${ctx.namespaceName})`);
      const retentionDays = retentionDaysFrom(spec);
      const wanted = wantedSearchAttributes(spec);
      const updated = await identity.updateNamespace(
        actor(ctx, r.asyncOperationId),
        ctx.namespaceName,
        {
          ...(retentionDays === undefined ? {} : { retentionDays }),
          ...(wanted ? { searchAttributes: (current: Record<string, string>) => addCustomSearchAttributes(current, wanted, ctx.namespaceName) } : {}),
        },
        r.resourceVersion ?? '',
      );
      return { asyncOperation: operationProto(updated.operation) };
    },
    DeleteNamespace: async (r: temporal.api.cloud.cloudservice.v1.DeleteNamespaceRequest, ctx) => {
      const deleted = await identity.deleteNamespace(actor(ctx, r.asyncOperationId), ctx.namespaceName, r.resourceVersion ?? '');
      return { asyncOperation: operationProto(deleted.operation) };
    },
    GetNamespaceCapacityInfo: async (_r, ctx) => {
      const ns = await identity.getNamespace(actor(ctx), ctx.namespaceName);
      // On-demand capacity, as every Hourglass namespace has; observed APS statistics come with metering.
      return { capacityInfo: { namespace: ns.name, hasLegacyLimits: false, currentCapacity: { onDemand: {} }, modeOptions: { onDemand: {} } } };
    },

    // Audit log
    GetAuditLogs: async (r: temporal.api.cloud.cloudservice.v1.GetAuditLogsRequest, ctx) => {
      const to = timestampToMs(r.endTimeExclusive) ?? now();
      const from = timestampToMs(r.startTimeInclusive) ?? to - 30 * 86_400_000;
      const list = await identity.listAuditLogs(actor(ctx), { from, to }, page(r));
      return { logs: list.items.map(auditProto), nextPageToken: list.nextPageToken ?? '' };
    },
  };
}

