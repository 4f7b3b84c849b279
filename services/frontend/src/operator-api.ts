/**
 * The operator API (`hourglass.operator.v1.OperatorApi`, proto/hourglass/operator/v1): the
 * platform's staff create, suspend, resume and delete accounts and set namespace limits, with an
 * operator key. The rules are the identity service's; this maps the protos.
 */
import { InvalidArgumentError, Long, UnimplementedError } from '@hourglass/common';
import type { Billing, Granularity, Invoice, NamespaceUsage } from '@hourglass/usage';
import type { ActorContext, IdentityService } from '@hourglass/identity';
import type { AccountRecord, AccountState, NamespaceLimits, NamespaceRecord } from '@hourglass/persistence';
import type { HandlerContext, UnaryHandler } from './interceptors';

export interface OperatorApiOptions {
  identity: IdentityService;
  /** Usage and invoices; absent: those methods answer UNIMPLEMENTED. */
  billing?: Billing;
  /** A namespace's limits with the deployment's defaults filled in. */
  effectiveLimits: (ns: NamespaceRecord) => Required<NamespaceLimits>;
}

interface AccountMessage {
  id: string;
  name: string;
  state: string;
  stateReason: string;
  createdTimeMs: Long;
}

interface LimitsMessage {
  rps?: number;
  aps?: number;
  maxConcurrentPolls?: number;
}

const STATES: readonly AccountState[] = ['active', 'suspended', 'deleted'];

function accountMessage(account: AccountRecord): AccountMessage {
  return { id: account.id, name: account.name, state: account.state, stateReason: account.stateReason, createdTimeMs: Long.fromNumber(account.createdAt) };
}

function actor(ctx: HandlerContext): ActorContext {
  if (!ctx.principal) throw new InvalidArgumentError('the operator API needs an operator key');
  return { principal: ctx.principal, operation: ctx.method };
}

/** Zero (proto3's unset) means "the default": the field is dropped. */
function limitsFrom(message: LimitsMessage | null | undefined): NamespaceLimits {
  const limits: NamespaceLimits = {};
  if (message?.rps) limits.rps = message.rps;
  if (message?.aps) limits.aps = message.aps;
  if (message?.maxConcurrentPolls) limits.maxConcurrentPolls = message.maxConcurrentPolls;
  return limits;
}

const GRANULARITIES: readonly Granularity[] = ['hourly', 'daily', 'monthly'];

function usageMessage(ns: NamespaceUsage) {
  return {
    namespaceId: ns.namespaceId,
    namespace: ns.namespace,
    actions: Object.fromEntries(Object.entries(ns.actions).map(([k, v]) => [k, Long.fromNumber(v)])),
    actionsTotal: Long.fromNumber(ns.actionsTotal),
    activeStorageByteSeconds: Long.fromNumber(ns.activeStorageByteSeconds),
    retainedStorageByteSeconds: Long.fromNumber(ns.retainedStorageByteSeconds),
  };
}

function invoiceMessage(invoice: Invoice) {
  const n = (v: number): Long => Long.fromNumber(v);
  return {
    ...invoice,
    periodStartMs: n(invoice.periodStartMs),
    periodEndMs: n(invoice.periodEndMs),
    subtotalCents: n(invoice.subtotalCents),
    planMinimumCents: n(invoice.planMinimumCents),
    minimumAdjustmentCents: n(invoice.minimumAdjustmentCents),
    totalCents: n(invoice.totalCents),
    lines: invoice.lines.map((l) => ({
      ...l,
      quantity: n(l.quantity),
      amountCents: n(l.amountCents),
      tiers: l.tiers.map((t) => ({ fromQuantity: n(t.from), toQuantity: n(t.to ?? 0), quantity: n(t.quantity), unitPriceUsd: t.unitPriceUsd })),
    })),
  };
}

export function operatorApiHandlers(options: OperatorApiOptions): Record<string, UnaryHandler> {
  const { identity } = options;
  const billing = (ctx: HandlerContext): Billing => {
    actor(ctx);
    if (!options.billing) throw new UnimplementedError(`${ctx.method} is not served by this deployment (no usage store)`);
    return options.billing;
  };
  return {
    GetAccountUsage: async (r: { accountId?: string; fromTimeMs?: Long | number; toTimeMs?: Long | number; granularity?: string }, ctx) => {
      const b = billing(ctx);
      const granularity = GRANULARITIES.find((g) => g === (r.granularity || 'daily'));
      if (!granularity) throw new InvalidArgumentError(`granularity must be one of ${GRANULARITIES.join(', ')}`);
      const accountId = r.accountId ?? '';
      await b.requireAccount(accountId);
      const periods = await b.reader.periods(accountId, Number(r.fromTimeMs ?? 0), Number(r.toTimeMs ?? 0), granularity);
      return {
        accountId,
        periods: periods.map((p) => ({ startTimeMs: Long.fromNumber(p.start), endTimeMs: Long.fromNumber(p.end), namespaces: p.namespaces.map(usageMessage) })),
      };
    },
    GetInvoice: async (r: { accountId?: string; month?: string }, ctx) => {
      const b = billing(ctx);
      await b.requireAccount(r.accountId ?? '');
      return { invoice: invoiceMessage(await b.invoice(r.accountId ?? '', r.month ?? '')) };
    },
    CreateAccount: async (r: { name?: string; ownerEmail?: string }, ctx) => {
      const created = await identity.createAccount(actor(ctx), { name: r.name ?? '', ownerEmail: r.ownerEmail ?? '' });
      const { account, owner, ownerKey } = created.result;
      return { account: accountMessage(account), ownerUserId: owner.id, ownerApiKeyId: ownerKey.key.id, ownerApiKey: ownerKey.token };
    },
    SetAccountState: async (r: { accountId?: string; state?: string; reason?: string }, ctx) => {
      const state = STATES.find((s) => s === r.state);
      if (!state) throw new InvalidArgumentError(`state must be one of ${STATES.join(', ')}`);
      const changed = await identity.setAccountState(actor(ctx), r.accountId ?? '', state, r.reason ?? '');
      return { account: accountMessage(changed.result) };
    },
    ListAccounts: async (r: { pageSize?: number; nextPageToken?: string }, ctx) => {
      const pageSize = r.pageSize && r.pageSize > 0 ? Math.min(r.pageSize, 1000) : 100;
      const page = await identity.listAccounts(actor(ctx), r.nextPageToken ? { pageSize, nextPageToken: r.nextPageToken } : { pageSize });
      return { accounts: page.items.map(accountMessage), nextPageToken: page.nextPageToken ?? '' };
    },
    SetNamespaceLimits: async (r: { targetNamespace?: string; limits?: LimitsMessage }, ctx) => {
      if (!r.targetNamespace) throw new InvalidArgumentError('target_namespace is required');
      const changed = await identity.setNamespaceLimits(actor(ctx), r.targetNamespace, limitsFrom(r.limits));
      return { limits: options.effectiveLimits(changed.result) };
    },
  };
}
