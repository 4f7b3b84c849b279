/**
 * Billing reports (CloudService CreateBillingReport / GetBillingReport): a CSV of an account's
 * charges over a range, hourly, daily or monthly, with FOCUS-style columns (FinOps Open Cost and
 * Usage Specification: BillingAccountId, ChargePeriodStart, ConsumedQuantity, BilledCost, ...),
 * downloaded from an expiring signed URL that Hourglass serves.
 *
 * Reports are stateless: the report id is the signed spec, and the CSV is produced from the hourly
 * counters when downloaded. Costs come from the invoices of the months the range touches: each
 * invoice line (namespace × type) is spread over its rows in proportion to quantity, in whole
 * cents by largest remainder, so the rows of a month sum exactly to its line items, and a report
 * over whole months sums to those months' invoice totals (the plan-minimum adjustment is a row of
 * its own, ChargeCategory "Adjustment").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@hourglass/common';
import { stringify } from 'csv-stringify/sync';
import type { Invoice } from './invoice';
import { checkRange, periodEnd, periodStart, type Granularity, type NamespaceUsage } from './usage-reader';

export interface BillingReportSpec {
  accountId: string;
  startMs: number;
  endMs: number;
  granularity: Granularity;
  /** How long a download URL stays valid once issued. */
  urlTtlMs: number;
  description: string;
  requestedMs: number;
}

export const MAX_REPORT_DESCRIPTION = 200;
export const DEFAULT_URL_TTL_MS = 3_600_000;
export const MAX_URL_TTL_MS = 7 * 86_400_000;
export const MAX_REPORT_RANGE_MS = 366 * 86_400_000;
/** Hourly reports are bounded tighter: a year of hours per namespace would make a file too big to build in one request. */
export const MAX_HOURLY_REPORT_RANGE_MS = 31 * 86_400_000;

export const FOCUS_COLUMNS = [
  'BillingAccountId',
  'BillingPeriodStart',
  'BillingPeriodEnd',
  'ChargePeriodStart',
  'ChargePeriodEnd',
  'ChargeCategory',
  'ChargeDescription',
  'ServiceName',
  'SubAccountId',
  'SubAccountName',
  'SkuId',
  'ConsumedQuantity',
  'ConsumedUnit',
  'PricingUnit',
  'ListUnitPrice',
  'BilledCost',
  'EffectiveCost',
  'BillingCurrency',
] as const;

/** Signs and checks report ids and download URLs with one secret. */
export class ReportSigner {
  constructor(private readonly key: string) {}

  id(spec: BillingReportSpec): string {
    const body = Buffer.from(JSON.stringify(spec)).toString('base64url');
    return `${body}.${this.mac(`id:${body}`)}`;
  }

  /** The spec a report id carries; NOT_FOUND for an id this deployment did not issue. */
  spec(id: string): BillingReportSpec {
    const [body, mac, extra] = id.split('.');
    if (!body || !mac || extra !== undefined || !this.same(mac, this.mac(`id:${body}`))) throw new NotFoundError('billing report not found');
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as BillingReportSpec;
  }

  /** The query string of a download URL valid until `expiresMs`. */
  urlQuery(id: string, expiresMs: number): string {
    return `expires=${expiresMs}&sig=${this.mac(`url:${id}:${expiresMs}`)}`;
  }

  /** Checks a download: PERMISSION_DENIED for a bad signature, an expired URL or an unknown id. */
  checkDownload(id: string, expires: string | null, sig: string | null, now: number): BillingReportSpec {
    const expiresMs = Number(expires);
    if (!expires || !sig || !Number.isSafeInteger(expiresMs) || !this.same(sig, this.mac(`url:${id}:${expiresMs}`))) throw new PermissionDeniedError('the download URL is not valid');
    if (expiresMs <= now) throw new PermissionDeniedError('the download URL has expired: ask GetBillingReport for a new one');
    return this.spec(id);
  }

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }

  private same(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  }
}

/** The spec of a CreateBillingReport request, checked. */
export function checkReportSpec(spec: BillingReportSpec): BillingReportSpec {
  checkRange(spec.startMs, spec.endMs);
  if (spec.endMs - spec.startMs > MAX_REPORT_RANGE_MS) throw new InvalidArgumentError('a billing report covers at most 366 days');
  if (spec.granularity === 'hourly' && spec.endMs - spec.startMs > MAX_HOURLY_REPORT_RANGE_MS) {
    throw new InvalidArgumentError('an hourly billing report covers at most 31 days; use daily or monthly granularity for longer ranges');
  }
  for (const [name, ms] of [['start_time_inclusive', spec.startMs], ['end_time_exclusive', spec.endMs]] as const) {
    if (ms % 3_600_000 !== 0) throw new InvalidArgumentError(`${name} must be on a whole UTC hour, got ${new Date(ms).toISOString()}`);
  }
  if (spec.urlTtlMs <= 0 || spec.urlTtlMs > MAX_URL_TTL_MS) throw new InvalidArgumentError(`download_url_expiration_duration must be more than 0 and at most 7 days`);
  if (spec.description.length > MAX_REPORT_DESCRIPTION) throw new InvalidArgumentError(`description is at most ${MAX_REPORT_DESCRIPTION} characters, got ${spec.description.length}`);
  return spec;
}

interface Row {
  start: number;
  end: number;
  usage: NamespaceUsage;
}

/** One report row before costs: a namespace's quantity of one type in one charge period. */
interface Charge {
  monthStart: number;
  start: number;
  end: number;
  namespaceId: string;
  namespace: string;
  type: 'actions' | 'active_storage' | 'retained_storage';
  quantity: number;
  cents: number;
}

/**
 * The CSV of a report: `months` are the invoices of every month the range touches, `rows` the
 * usage periods of the whole of those months at the report's granularity.
 */
export function reportCsv(spec: BillingReportSpec, months: readonly Invoice[], rows: readonly Row[]): string {
  const charges: Charge[] = [];
  const byNamespace = new Map<string, Row[]>();
  for (const row of rows) {
    const list = byNamespace.get(row.usage.namespaceId);
    if (list) list.push(row);
    else byNamespace.set(row.usage.namespaceId, [row]);
  }
  for (const invoice of months) {
    for (const line of invoice.lines) {
      const mine = (byNamespace.get(line.namespaceId) ?? [])
        .filter((r) => r.start >= invoice.periodStartMs && r.start < invoice.periodEndMs)
        .map((r) => ({
          monthStart: invoice.periodStartMs,
          start: r.start,
          end: r.end,
          namespaceId: line.namespaceId,
          namespace: line.namespace,
          type: line.type,
          quantity: line.type === 'actions' ? r.usage.actionsTotal : line.type === 'active_storage' ? r.usage.activeStorageByteSeconds : r.usage.retainedStorageByteSeconds,
          cents: 0,
        }))
        .filter((c) => c.quantity > 0);
      spread(line.amountCents, mine);
      charges.push(...mine);
    }
  }
  const byMonth = new Map(months.map((m) => [m.periodStartMs, m]));
  const records: string[][] = [];
  const isoOf = (ms: number): string => new Date(ms).toISOString();
  for (const c of charges) {
    if (c.start < spec.startMs || c.start >= spec.endMs) continue;
    const invoice = byMonth.get(c.monthStart) as Invoice;
    const unit = c.type === 'actions' ? 'Actions' : 'Byte-Seconds';
    records.push([
      spec.accountId,
      isoOf(invoice.periodStartMs),
      isoOf(invoice.periodEndMs),
      isoOf(c.start),
      isoOf(c.end),
      'Usage',
      c.type === 'actions' ? 'Billable actions' : c.type === 'active_storage' ? 'Active storage' : 'Retained storage',
      'Hourglass',
      c.namespaceId,
      c.namespace,
      c.type,
      String(c.quantity),
      unit,
      c.type === 'actions' ? '1M Actions' : 'GB-Hours',
      '',
      dollars(c.cents),
      dollars(c.cents),
      'USD',
    ]);
  }
  for (const invoice of months) {
    if (invoice.minimumAdjustmentCents === 0 || invoice.periodStartMs < spec.startMs || invoice.periodStartMs >= spec.endMs) continue;
    const start = isoOf(invoice.periodStartMs);
    const end = isoOf(invoice.periodEndMs);
    const cost = dollars(invoice.minimumAdjustmentCents);
    records.push([spec.accountId, start, end, start, end, 'Adjustment', 'Plan minimum', 'Hourglass', '', '', 'plan_minimum', '1', 'Month', 'Month', dollars(invoice.planMinimumCents), cost, cost, 'USD']);
  }
  return stringify(records, { header: true, columns: [...FOCUS_COLUMNS] });
}

/** Whole cents of `total` spread over the charges in proportion to quantity (largest remainder; ties to the earlier row). */
function spread(total: number, charges: Charge[]): void {
  const quantity = charges.reduce((s, c) => s + BigInt(c.quantity), 0n);
  if (quantity === 0n) return;
  let given = 0;
  const remainders = charges.map((c, i) => {
    const exact = BigInt(total) * BigInt(c.quantity);
    c.cents = Number(exact / quantity);
    given += c.cents;
    return { i, rest: exact % quantity };
  });
  remainders.sort((a, b) => (a.rest === b.rest ? a.i - b.i : a.rest > b.rest ? -1 : 1));
  for (let k = 0; k < total - given; k++) (charges[(remainders[k] as { i: number }).i] as Charge).cents += 1;
}

function dollars(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** The months [start, end) touches, as YYYY-MM. */
export function monthsOf(startMs: number, endMs: number): string[] {
  const out: string[] = [];
  for (let m = periodStart(startMs, 'monthly'); m < endMs; m = periodEnd(m, 'monthly')) out.push(new Date(m).toISOString().slice(0, 7));
  return out;
}
