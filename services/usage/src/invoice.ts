/**
 * The monthly invoice of an account: one line per namespace and usage type (actions priced
 * through the volume tiers, per namespace; active and retained storage per GB-hour), each rounded
 * half up to whole cents once; the subtotal is the sum of the lines; when it is below the plan
 * minimum an adjustment brings the total up to it. Integer cents throughout.
 */
import { monthRange, priceActions, priceStorage, usdToCents, type PriceTable, type TierSlice } from './prices';
import type { UsageReader } from './usage-reader';

export type InvoiceLineType = 'actions' | 'active_storage' | 'retained_storage';

export interface InvoiceLine {
  namespaceId: string;
  namespace: string;
  type: InvoiceLineType;
  /** Actions, or byte-seconds. */
  quantity: number;
  unit: 'actions' | 'byte_seconds';
  tiers: TierSlice[];
  amountCents: number;
}

export interface Invoice {
  accountId: string;
  month: string;
  currency: 'USD';
  periodStartMs: number;
  periodEndMs: number;
  lines: InvoiceLine[];
  subtotalCents: number;
  planMinimumCents: number;
  minimumAdjustmentCents: number;
  totalCents: number;
  incomplete: boolean;
}

export async function buildInvoice(reader: UsageReader, prices: PriceTable, accountId: string, month: string): Promise<Invoice> {
  const { start, end } = monthRange(month);
  const [period] = await reader.periods(accountId, start, end, 'monthly');
  const lines: InvoiceLine[] = [];
  for (const ns of period?.namespaces ?? []) {
    const base = { namespaceId: ns.namespaceId, namespace: ns.namespace };
    if (ns.actionsTotal > 0) {
      const { slices, cents } = priceActions(ns.actionsTotal, prices.actionTiers);
      lines.push({ ...base, type: 'actions', quantity: ns.actionsTotal, unit: 'actions', tiers: slices, amountCents: cents });
    }
    if (ns.activeStorageByteSeconds > 0) {
      const cents = priceStorage(ns.activeStorageByteSeconds, prices.activeStorageUsdPerGbHour);
      lines.push({ ...base, type: 'active_storage', quantity: ns.activeStorageByteSeconds, unit: 'byte_seconds', tiers: [{ from: 0, to: null, quantity: ns.activeStorageByteSeconds, unitPriceUsd: prices.activeStorageUsdPerGbHour }], amountCents: cents });
    }
    if (ns.retainedStorageByteSeconds > 0) {
      const cents = priceStorage(ns.retainedStorageByteSeconds, prices.retainedStorageUsdPerGbHour);
      lines.push({ ...base, type: 'retained_storage', quantity: ns.retainedStorageByteSeconds, unit: 'byte_seconds', tiers: [{ from: 0, to: null, quantity: ns.retainedStorageByteSeconds, unitPriceUsd: prices.retainedStorageUsdPerGbHour }], amountCents: cents });
    }
  }
  const subtotalCents = lines.reduce((sum, l) => sum + l.amountCents, 0);
  const planMinimumCents = usdToCents(prices.planMinimumUsd);
  const minimumAdjustmentCents = Math.max(0, planMinimumCents - subtotalCents);
  return {
    accountId,
    month,
    currency: 'USD',
    periodStartMs: start,
    periodEndMs: end,
    lines,
    subtotalCents,
    planMinimumCents,
    minimumAdjustmentCents,
    totalCents: subtotalCents + minimumAdjustmentCents,
    incomplete: end > reader.clock.now(),
  };
}
