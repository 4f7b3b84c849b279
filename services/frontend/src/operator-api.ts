/**
 * The operator API (`hourglass.operator.v1.OperatorApi`, proto/hourglass/operator/v1): the
 * platform's staff create, suspend, resume and delete accounts and set namespace limits, with an
 * operator key. The rules are the identity service's; this maps the protos.
 */
import { InvalidArgumentError, Long } from '@hourglass/common';
import type { ActorContext, IdentityService } from '@hourglass/identity';
import type { AccountRecord, AccountState, NamespaceLimits, NamespaceRecord } from '@hourglass/persistence';
import type { HandlerContext, UnaryHandler } from './interceptors';

export interface OperatorApiOptions {
  identity: IdentityService;
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

export function operatorApiHandlers(options: OperatorApiOptions): Record<string, UnaryHandler> {
  const { identity } = options;
  return {
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
