/**
 * The usage and billing service as the APIs see it: usage reads (GetUsage, `hourglass admin
 * usage`), invoices and billing reports, over the durable hourly counters.
 */
import { InvalidArgumentError, NotFoundError, PermissionDeniedError, quote, type Clock } from '@hourglass/common';
import type { Persistence } from '@hourglass/persistence';
import { randomBytes } from 'node:crypto';
import { buildInvoice, type Invoice } from './invoice';
import { DEFAULT_URL_TTL_MS, ReportSigner, checkReportSpec, monthsOf, reportCsv, type BillingReportSpec } from './billing-report';
import { periodEnd, periodStart, type Granularity } from './usage-reader';
import { pricesFor, type BillingConfig, type PriceTable } from './prices';
import { UsageReader } from './usage-reader';

export interface BillingDeps {
  persistence: Persistence;
  clock: Clock;
  /** The config file's `billing:` section (prices, per-account overrides). */
  config?: BillingConfig;
}

/** A billing report as GetBillingReport describes it. */
export interface BillingReportView {
  id: string;
  spec: BillingReportSpec;
  /** The download path and query (`/billing-reports/<id>?expires=..&sig=..`), to put after the base URL. */
  downloadPath: string;
  urlExpiresMs: number;
  sizeBytes: number;
  generatedMs: number;
}

export class Billing {
  readonly reader: UsageReader;
  private readonly signer: ReportSigner;

  constructor(private readonly deps: BillingDeps) {
    this.reader = new UsageReader(deps.persistence, deps.clock);
    // Without a configured key, report ids and URLs are valid for the life of this process.
    this.signer = new ReportSigner(deps.config?.reportSigningKey ?? randomBytes(32).toString('base64'));
  }

  /** Where downloads are served (set once the report listener runs). */
  downloadBaseUrl: string | undefined;

  get config(): BillingConfig | undefined {
    return this.deps.config;
  }

  /** CreateBillingReport: checks the spec and returns the report's id (the signed spec). */
  createReport(accountId: string, request: { startMs: number; endMs: number; granularity: Granularity; urlTtlMs?: number; description?: string }): { id: string; spec: BillingReportSpec } {
    const spec = checkReportSpec({
      accountId,
      startMs: request.startMs,
      endMs: request.endMs,
      granularity: request.granularity,
      urlTtlMs: request.urlTtlMs ?? DEFAULT_URL_TTL_MS,
      description: request.description ?? '',
      requestedMs: this.deps.clock.now(),
    });
    return { id: this.signer.id(spec), spec };
  }

  /** GetBillingReport: the report of this account (PERMISSION_DENIED for another account's), with a fresh download URL. */
  async getReport(accountId: string, id: string): Promise<BillingReportView> {
    const spec = this.signer.spec(id);
    if (spec.accountId !== accountId) throw new PermissionDeniedError('this billing report belongs to another account');
    const csv = await this.reportCsv(spec);
    const now = this.deps.clock.now();
    const urlExpiresMs = now + spec.urlTtlMs;
    return { id, spec, downloadPath: `/billing-reports/${id}?${this.signer.urlQuery(id, urlExpiresMs)}`, urlExpiresMs, sizeBytes: Buffer.byteLength(csv), generatedMs: now };
  }

  /** A download: the CSV, when the URL's signature holds and it has not expired (PERMISSION_DENIED otherwise). */
  async download(id: string, expires: string | null, sig: string | null): Promise<string> {
    return this.reportCsv(this.signer.checkDownload(id, expires, sig, this.deps.clock.now()));
  }

  async reportCsv(spec: BillingReportSpec): Promise<string> {
    const months = await Promise.all(monthsOf(spec.startMs, spec.endMs).map((m) => this.invoice(spec.accountId, m)));
    const first = periodStart(spec.startMs, 'monthly');
    const last = periodEnd(periodStart(spec.endMs - 1, 'monthly'), 'monthly');
    const periods = await this.reader.periods(spec.accountId, first, last, spec.granularity);
    const rows = periods.flatMap((p) => p.namespaces.map((usage) => ({ start: p.start, end: p.end, usage })));
    return reportCsv(spec, months, rows);
  }

  /** NOT_FOUND unless the account exists (the operator names accounts by id). */
  async requireAccount(accountId: string): Promise<void> {
    if (!accountId) throw new InvalidArgumentError('account_id is required');
    if (!(await this.deps.persistence.identity.getAccount(accountId))) throw new NotFoundError(`account ${quote(accountId)} not found`);
  }

  prices(accountId: string): PriceTable {
    return pricesFor(this.deps.config, accountId);
  }

  invoice(accountId: string, month: string): Promise<Invoice> {
    return buildInvoice(this.reader, this.prices(accountId), accountId, month);
  }
}
