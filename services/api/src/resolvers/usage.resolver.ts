/**
 * Usage, invoices and billing reports from the usage service (its reader, prices and invoices),
 * for the roles the gRPC tier lets read billing (authorizeCall's `finance`: finance admin, admin,
 * owner), always of the caller's own account.
 */
import { InvalidArgumentError, UnimplementedError } from '@hourglass/common';
import { authorizeCall } from '@hourglass/identity';
import type { Billing, Granularity } from '@hourglass/usage';
import type { ApiContext, ResolverMap } from '../context';
import { iso, parseDateTime } from '../values';

type Args = Record<string, any>;
const DAY_MS = 86_400_000;

function billingOf(ctx: ApiContext, operation: string): { billing: Billing; accountId: string } {
  const principal = ctx.principal();
  authorizeCall(principal, operation, 'finance', undefined);
  const { billing } = ctx.deps;
  if (!billing) throw new UnimplementedError(`${operation} is not served by this deployment (no usage store)`);
  ctx.stats.serviceCalls += 1;
  return { billing, accountId: principal.accountId };
}

const GRANULARITY: Record<string, Granularity> = { HOURLY: 'hourly', DAILY: 'daily', MONTHLY: 'monthly' };

function reportView(ctx: ApiContext, view: { id: string; spec: { startMs: number; endMs: number; granularity: Granularity }; downloadPath?: string; urlExpiresMs?: number }) {
  const base = ctx.deps.downloadBaseUrl();
  return {
    id: view.id,
    from: iso(view.spec.startMs),
    to: iso(view.spec.endMs),
    granularity: view.spec.granularity.toUpperCase(),
    downloadUrl: base && view.downloadPath ? `${base}${view.downloadPath}` : null,
    downloadUrlExpiresAt: iso(view.urlExpiresMs),
  };
}

export const usageResolvers: ResolverMap = {
  Query: {
    usage: async (_: unknown, args: Args, ctx: ApiContext) => {
      const from = parseDateTime(args.from, 'from');
      const to = parseDateTime(args.to, 'to');
      if (from % DAY_MS !== 0 || to % DAY_MS !== 0) throw new InvalidArgumentError('from and to must be UTC midnights (usage is reported per UTC day)');
      const { billing, accountId } = billingOf(ctx, 'GetUsage');
      const periods = await billing.reader.periods(accountId, from, to, 'daily');
      const only = args.namespace ? String(args.namespace) : undefined;
      return periods.flatMap((p) =>
        p.namespaces
          .filter((u) => !only || u.namespace === only)
          .map((u) => ({
            day: new Date(p.start).toISOString().slice(0, 10),
            namespace: u.namespace,
            actions: u.actionsTotal,
            actionsByType: Object.entries(u.actions)
              .filter(([, count]) => count > 0)
              .map(([action, count]) => ({ action, count })),
            activeStorageByteSeconds: u.activeStorageByteSeconds,
            retainedStorageByteSeconds: u.retainedStorageByteSeconds,
          })),
      );
    },
    invoice: async (_: unknown, args: Args, ctx: ApiContext) => {
      const { billing, accountId } = billingOf(ctx, 'GetInvoice');
      const invoice = await billing.invoice(accountId, String(args.month));
      return {
        ...invoice,
        lines: invoice.lines.map((l) => ({ namespace: l.namespace, type: l.type, quantity: l.quantity, unit: l.unit, amountCents: l.amountCents })),
      };
    },
    billingReport: async (_: unknown, args: Args, ctx: ApiContext) => {
      const { billing, accountId } = billingOf(ctx, 'GetBillingReport');
      return reportView(ctx, await billing.getReport(accountId, String(args.id)));
    },
  },
  Mutation: {
    createBillingReport: async (_: unknown, args: Args, ctx: ApiContext) => {
      const { billing, accountId } = billingOf(ctx, 'CreateBillingReport');
      const created = billing.createReport(accountId, {
        startMs: parseDateTime(args.from, 'from'),
        endMs: parseDateTime(args.to, 'to'),
        granularity: GRANULARITY[String(args.granularity ?? 'DAILY')] ?? 'daily',
        description: String(args.description ?? ''),
      });
      return reportView(ctx, await billing.getReport(accountId, created.id));
    },
  },
};
