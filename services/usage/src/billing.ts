/**
 * The usage and billing service as the APIs see it: usage reads (GetUsage, `hourglass admin
 * usage`), invoices and billing reports, over the durable hourly counters.
 */
import { InvalidArgumentError, NotFoundError, quote, type Clock } from '@hourglass/common';
import type { Persistence } from '@hourglass/persistence';
import { buildInvoice, type Invoice } from './invoice';
import { pricesFor, type BillingConfig, type PriceTable } from './prices';
import { UsageReader } from './usage-reader';

export interface BillingDeps {
  persistence: Persistence;
  clock: Clock;
  /** The config file's `billing:` section (prices, per-account overrides). */
  config?: BillingConfig;
}

export class Billing {
  readonly reader: UsageReader;

  constructor(private readonly deps: BillingDeps) {
    this.reader = new UsageReader(deps.persistence, deps.clock);
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
