/**
 * Price tables and the invoice arithmetic. Defaults are Temporal Cloud's published pay-as-you-go
 * list prices (https://temporal.io/pricing, docs.temporal.io/cloud/pricing): actions in volume
 * tiers per namespace and month, active and retained storage per GB-hour, and the Essentials plan
 * minimum. A deployment overrides them in its config file (`billing.prices`), and per account
 * (`billing.accounts.<account id>`); see docs/metering.md.
 *
 * Money is integer arithmetic: rates are held in micro-USD (at most 6 decimals), each line item's
 * exact amount is a fraction computed with BigInt and rounded half up to whole cents ONCE.
 */
import { InvalidArgumentError } from '@hourglass/common';
import { z } from 'zod';

export interface ActionTier {
  /** Upper bound of the tier (cumulative actions in the month, per namespace); null: no bound. */
  upTo: number | null;
  usdPerMillion: number;
}

export interface PriceTable {
  currency: 'USD';
  actionTiers: ActionTier[];
  activeStorageUsdPerGbHour: number;
  retainedStorageUsdPerGbHour: number;
  /** The plan's monthly minimum: an invoice is never below it. */
  planMinimumUsd: number;
}

/** Temporal Cloud's published list prices (pay as you go, Essentials plan), as this build ships them. */
export const DEFAULT_PRICES: PriceTable = {
  currency: 'USD',
  actionTiers: [
    { upTo: 5_000_000, usdPerMillion: 50 },
    { upTo: 10_000_000, usdPerMillion: 45 },
    { upTo: 20_000_000, usdPerMillion: 40 },
    { upTo: 50_000_000, usdPerMillion: 35 },
    { upTo: 100_000_000, usdPerMillion: 30 },
    { upTo: 200_000_000, usdPerMillion: 25 },
    { upTo: null, usdPerMillion: 25 },
  ],
  activeStorageUsdPerGbHour: 0.042,
  retainedStorageUsdPerGbHour: 0.00105,
  planMinimumUsd: 100,
};

const usd = z.number().nonnegative().finite().refine((v) => Math.abs(v * 1e6 - Math.round(v * 1e6)) < 1e-6, { error: 'prices have at most 6 decimals (micro-USD)' });
const tiersSchema = z
  .array(z.strictObject({ upTo: z.number().int().positive().nullable(), usdPerMillion: usd }))
  .min(1)
  .refine((tiers) => tiers.every((t, i) => (i === tiers.length - 1 ? t.upTo === null : t.upTo !== null && (i === 0 || t.upTo > (tiers[i - 1]?.upTo ?? 0)))), {
    error: 'action tiers must have increasing upTo bounds and end with one whose upTo is null',
  });

/** A partial price table (config file `billing.prices` or one account's override). */
export const priceOverrideSchema = z.strictObject({
  actionTiers: tiersSchema.optional(),
  activeStorageUsdPerGbHour: usd.optional(),
  retainedStorageUsdPerGbHour: usd.optional(),
  planMinimumUsd: usd.optional(),
});
export type PriceOverride = z.infer<typeof priceOverrideSchema>;

/** The config file's `billing:` section. */
export const billingConfigSchema = z.strictObject({
  prices: priceOverrideSchema.optional(),
  /** Account id → its own prices (over the deployment's). */
  accounts: z.record(z.string(), priceOverrideSchema).optional(),
  /** Secret that signs billing report download URLs; default: a random one per process (URLs die with it). */
  reportSigningKey: z.string().min(16).optional(),
  /** Port of the HTTP listener serving billing report downloads (default 0: a free port), on the server's --ip. */
  reportPort: z.number().int().min(0).max(65535).optional(),
  /** Public base URL of those downloads when a proxy or ingress fronts the listener (e.g. https://billing.example.com). */
  reportBaseUrl: z.url().optional(),
});
export type BillingConfig = z.infer<typeof billingConfigSchema>;

/** The prices of an account: defaults, then the deployment's overrides, then the account's. */
export function pricesFor(config: BillingConfig | undefined, accountId: string): PriceTable {
  return { ...DEFAULT_PRICES, ...stripUndefined(config?.prices), ...stripUndefined(config?.accounts?.[accountId]) };
}

function stripUndefined(o: PriceOverride | undefined): Partial<PriceTable> {
  const out: Partial<PriceTable> = {};
  if (!o) return out;
  if (o.actionTiers) out.actionTiers = o.actionTiers;
  if (o.activeStorageUsdPerGbHour !== undefined) out.activeStorageUsdPerGbHour = o.activeStorageUsdPerGbHour;
  if (o.retainedStorageUsdPerGbHour !== undefined) out.retainedStorageUsdPerGbHour = o.retainedStorageUsdPerGbHour;
  if (o.planMinimumUsd !== undefined) out.planMinimumUsd = o.planMinimumUsd;
  return out;
}

/** 1 GB = 10^9 bytes; a GB-hour is 3.6 × 10^12 byte-seconds. */
export const GB_HOUR_BYTE_SECONDS = 3_600_000_000_000n;
const MICRO_PER_CENT = 10_000n;
const MILLION = 1_000_000n;

export function micro(usdAmount: number): bigint {
  return BigInt(Math.round(usdAmount * 1e6));
}

export function usdToCents(usdAmount: number): number {
  return Number(roundHalfUp(micro(usdAmount), MICRO_PER_CENT));
}

/** n / d rounded half up (n, d >= 0). */
export function roundHalfUp(n: bigint, d: bigint): bigint {
  return (2n * n + d) / (2n * d);
}

export interface TierSlice {
  from: number;
  to: number | null;
  quantity: number;
  unitPriceUsd: number;
}

/** Actions priced through the tiers: the slices used and the amount in cents (rounded once). */
export function priceActions(quantity: number, tiers: readonly ActionTier[]): { slices: TierSlice[]; cents: number } {
  let numerator = 0n;
  const slices: TierSlice[] = [];
  let from = 0;
  for (const tier of tiers) {
    if (quantity <= from) break;
    const to = tier.upTo;
    const inTier = (to === null ? quantity : Math.min(quantity, to)) - from;
    if (inTier > 0) {
      slices.push({ from, to, quantity: inTier, unitPriceUsd: tier.usdPerMillion });
      numerator += BigInt(inTier) * micro(tier.usdPerMillion);
    }
    if (to === null) break;
    from = to;
  }
  return { slices, cents: Number(roundHalfUp(numerator, MILLION * MICRO_PER_CENT)) };
}

/** Storage byte-seconds at a GB-hour rate, in cents (rounded once). */
export function priceStorage(byteSeconds: number, usdPerGbHour: number): number {
  return Number(roundHalfUp(BigInt(byteSeconds) * micro(usdPerGbHour), GB_HOUR_BYTE_SECONDS * MICRO_PER_CENT));
}

/** "YYYY-MM" → [start, end) of that UTC month. */
export function monthRange(month: string): { start: number; end: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  const year = Number(m?.[1]);
  const index = Number(m?.[2]) - 1;
  if (!m || index < 0 || index > 11 || year < 1970) throw new InvalidArgumentError(`month must be YYYY-MM (e.g. 2026-11), got ${JSON.stringify(month.slice(0, 20))}`);
  return { start: Date.UTC(year, index, 1), end: Date.UTC(year, index + 1, 1) };
}
