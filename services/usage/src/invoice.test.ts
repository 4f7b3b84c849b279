/**
 * Invoices against figures computed by hand: volume tiers, storage per GB-hour, rounding half up
 * once per line, the plan minimum, per-account prices.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Persistence } from '@hourglass/persistence';
import { InvalidArgumentError } from '@hourglass/common';
import { Billing } from './billing';
import { priceActions, priceStorage, roundHalfUp, billingConfigSchema, DEFAULT_PRICES } from './prices';
import { addNamespace, addUsage, usageStore } from './testing';

const H = 3_600_000;
const NOV = Date.UTC(2026, 10, 1);
const DEC = Date.UTC(2026, 11, 1);

let store: Persistence | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('prices', () => {
  it('rounds half up, once', () => {
    assert.equal(roundHalfUp(105n, 10n), 11n);
    assert.equal(roundHalfUp(104n, 10n), 10n);
    assert.equal(roundHalfUp(0n, 10n), 0n);
  });

  it('prices actions through the tiers: 6M actions = 5M at $50/M + 1M at $45/M', () => {
    const { slices, cents } = priceActions(6_000_000, DEFAULT_PRICES.actionTiers);
    assert.equal(cents, 29_500);
    assert.deepEqual(slices.map((s) => [s.from, s.to, s.quantity, s.unitPriceUsd]), [
      [0, 5_000_000, 5_000_000, 50],
      [5_000_000, 10_000_000, 1_000_000, 45],
    ]);
    // 250M actions: 5M×50 + 5M×45 + 10M×40 + 30M×35 + 50M×30 + 100M×25 + 50M×25 = $7,175.00
    assert.equal(priceActions(250_000_000, DEFAULT_PRICES.actionTiers).cents, 717_500);
  });

  it('prices storage per GB-hour (10^9 bytes for an hour)', () => {
    assert.equal(priceStorage(2e9 * 36_000, 0.042), 84); // 20 GB-hours × $0.042 = $0.84
    assert.equal(priceStorage(1e9 * 3600 * 100, 0.00105), 11); // 100 GB-hours × $0.00105 = $0.105 → 11 ¢
  });

  it('refuses a price table whose tiers do not end unbounded or have more than 6 decimals', () => {
    assert.equal(billingConfigSchema.safeParse({ prices: { actionTiers: [{ upTo: 10, usdPerMillion: 1 }] } }).success, false);
    assert.equal(billingConfigSchema.safeParse({ prices: { planMinimumUsd: 0.0000001 } }).success, false);
    assert.equal(billingConfigSchema.safeParse({ prices: { actionTiers: [{ upTo: 10, usdPerMillion: 1 }, { upTo: null, usdPerMillion: 0.5 }] } }).success, true);
  });
});

describe('monthly invoices', () => {
  it('matches a hand-computed invoice to the cent: tiers, storage, rounding, usage outside the month left out', async () => {
    const { persistence, clock } = await usageStore(DEC + 5 * 86_400_000);
    store = persistence;
    const a = await addNamespace(persistence, 'acct1', 'orders');
    const b = await addNamespace(persistence, 'acct1', 'billing');
    await addNamespace(persistence, 'acct2', 'elsewhere');
    await addUsage(persistence, [
      { namespaceId: a.id, hourStart: NOV + 5 * H, recordType: 'workflow_started', amount: 2_000_000 },
      { namespaceId: a.id, hourStart: NOV + 300 * H, recordType: 'signal', amount: 4_000_000 },
      { namespaceId: a.id, hourStart: NOV + 7 * H, recordType: 'active_storage_byte_seconds', amount: 2e9 * 36_000 },
      { namespaceId: a.id, hourStart: NOV + 8 * H, recordType: 'retained_storage_byte_seconds', amount: 1e9 * 3600 * 100 },
      { namespaceId: b.id, hourStart: NOV, recordType: 'activity_started', amount: 1234 },
      // Outside November: the last hour of October, the first of December.
      { namespaceId: a.id, hourStart: NOV - H, recordType: 'signal', amount: 999 },
      { namespaceId: b.id, hourStart: DEC, recordType: 'signal', amount: 999 },
      // Another account's namespace.
      { namespaceId: 'id-elsewhere', hourStart: NOV, recordType: 'signal', amount: 5 },
    ]);
    const billing = new Billing({ persistence, clock });
    const invoice = await billing.invoice('acct1', '2026-11');
    // By hand: orders 6M actions = $250 + $45 = 29,500 ¢; 20 GB-h active = 84 ¢; 100 GB-h retained = 10.5 → 11 ¢;
    // billing 1,234 actions × $50/M = 6.17 → 6 ¢. Subtotal 29,601 ¢, above the $100 minimum.
    assert.deepEqual(invoice.lines.map((l) => [l.namespace, l.type, l.quantity, l.amountCents]), [
      ['billing', 'actions', 1234, 6],
      ['orders', 'actions', 6_000_000, 29_500],
      ['orders', 'active_storage', 72_000_000_000_000, 84],
      ['orders', 'retained_storage', 360_000_000_000_000, 11],
    ]);
    assert.equal(invoice.subtotalCents, 29_601);
    assert.equal(invoice.planMinimumCents, 10_000);
    assert.equal(invoice.minimumAdjustmentCents, 0);
    assert.equal(invoice.totalCents, 29_601);
    assert.equal(invoice.incomplete, false);
    assert.equal(invoice.periodStartMs, NOV);
    assert.equal(invoice.periodEndMs, DEC);
  });

  it('brings a small month up to the plan minimum; an account may have its own prices', async () => {
    const { persistence, clock } = await usageStore(NOV + 86_400_000);
    store = persistence;
    const ns = await addNamespace(persistence, 'acct1', 'small');
    await addNamespace(persistence, 'vip', 'vip-ns');
    await addUsage(persistence, [
      { namespaceId: ns.id, hourStart: NOV, recordType: 'signal', amount: 1234 },
      { namespaceId: 'id-vip-ns', hourStart: NOV, recordType: 'signal', amount: 3_000_000 },
    ]);
    const config = billingConfigSchema.parse({ accounts: { vip: { planMinimumUsd: 0, actionTiers: [{ upTo: 1_000_000, usdPerMillion: 10 }, { upTo: null, usdPerMillion: 1.5 }] } } });
    const billing = new Billing({ persistence, clock, config });
    const small = await billing.invoice('acct1', '2026-11');
    assert.equal(small.subtotalCents, 6);
    assert.equal(small.minimumAdjustmentCents, 9_994);
    assert.equal(small.totalCents, 10_000);
    assert.equal(small.incomplete, true, 'November is still running');
    // vip: 1M × $10/M + 2M × $1.50/M = $13.00, no minimum.
    const vip = await billing.invoice('vip', '2026-11');
    assert.equal(vip.totalCents, 1_300);
    assert.equal(vip.minimumAdjustmentCents, 0);
    // No usage at all: the minimum alone.
    assert.equal((await billing.invoice('acct1', '2026-10')).totalCents, 10_000);
  });

  it('refuses a malformed month', async () => {
    const { persistence, clock } = await usageStore(NOV);
    store = persistence;
    const billing = new Billing({ persistence, clock });
    for (const month of ['2026-13', '2026-1', 'november', '']) await assert.rejects(billing.invoice('acct1', month), InvalidArgumentError);
  });
});
