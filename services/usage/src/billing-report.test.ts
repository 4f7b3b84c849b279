/**
 * Billing reports: the CSV parses, has the FOCUS-style columns, and its BilledCost sums to the
 * invoice to the cent at every granularity; report ids and download URLs are signed, expire and
 * belong to one account.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NotFoundError, PermissionDeniedError, InvalidArgumentError, type ManualClock } from '@hourglass/common';
import type { Persistence } from '@hourglass/persistence';
import { parse } from 'csv-parse/sync';
import { Billing } from './billing';
import { FOCUS_COLUMNS } from './billing-report';
import { addNamespace, addUsage, usageStore } from './testing';

const H = 3_600_000;
const NOV = Date.UTC(2026, 10, 1);
const DEC = Date.UTC(2026, 11, 1);

let store: Persistence | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function november(): Promise<{ billing: Billing; clock: ManualClock }> {
  const { persistence, clock } = await usageStore(DEC + 86_400_000);
  store = persistence;
  const a = await addNamespace(persistence, 'acct1', 'orders');
  const b = await addNamespace(persistence, 'acct1', 'billing');
  await addUsage(persistence, [
    { namespaceId: a.id, hourStart: NOV + 5 * H, recordType: 'workflow_started', amount: 2_000_000 },
    { namespaceId: a.id, hourStart: NOV + 300 * H, recordType: 'signal', amount: 3_999_999 },
    { namespaceId: a.id, hourStart: NOV + 301 * H, recordType: 'timer_started', amount: 1 },
    { namespaceId: a.id, hourStart: NOV + 7 * H, recordType: 'active_storage_byte_seconds', amount: 2e9 * 36_000 },
    { namespaceId: a.id, hourStart: NOV + 8 * H, recordType: 'retained_storage_byte_seconds', amount: 1e9 * 3600 * 60 },
    { namespaceId: a.id, hourStart: NOV + 500 * H, recordType: 'retained_storage_byte_seconds', amount: 1e9 * 3600 * 40 },
    { namespaceId: b.id, hourStart: NOV, recordType: 'activity_started', amount: 617 },
    { namespaceId: b.id, hourStart: NOV + 24 * H, recordType: 'activity_started', amount: 617 },
    { namespaceId: b.id, hourStart: DEC, recordType: 'signal', amount: 5 },
  ]);
  return { billing: new Billing({ persistence, clock, config: { reportSigningKey: 'a-test-signing-key-of-enough-length' } }), clock };
}

type Row = Record<(typeof FOCUS_COLUMNS)[number], string>;

function cents(rows: Row[]): number {
  return rows.reduce((sum, r) => sum + Math.round(Number(r.BilledCost) * 100), 0);
}

async function download(billing: Billing, id: string): Promise<Row[]> {
  const report = await billing.getReport('acct1', id);
  const url = new URL(report.downloadPath, 'http://x');
  const csv = await billing.download(url.pathname.split('/').pop() as string, url.searchParams.get('expires'), url.searchParams.get('sig'));
  assert.equal(Buffer.byteLength(csv), report.sizeBytes);
  return parse(csv, { columns: true }) as Row[];
}

describe('billing reports', () => {
  for (const granularity of ['hourly', 'daily', 'monthly'] as const) {
    it(`a ${granularity} CSV of a month sums to its invoice to the cent`, async () => {
      const { billing } = await november();
      const invoice = await billing.invoice('acct1', '2026-11');
      assert.equal(invoice.totalCents, 29_601, 'the invoice of invoice.test.ts: 29,500 + 84 + 11 + 6');
      const { id } = billing.createReport('acct1', { startMs: NOV, endMs: DEC, granularity });
      const rows = await download(billing, id);
      assert.deepEqual(Object.keys(rows[0] ?? {}), [...FOCUS_COLUMNS]);
      assert.equal(cents(rows), invoice.totalCents);
      // Per namespace and type, the rows sum to the line item.
      for (const line of invoice.lines) {
        const mine = rows.filter((r) => r.SubAccountId === line.namespaceId && r.SkuId === line.type);
        assert.equal(cents(mine), line.amountCents, `${line.namespace} ${line.type}`);
        assert.equal(mine.reduce((s, r) => s + Number(r.ConsumedQuantity), 0), line.quantity);
      }
      assert.ok(rows.every((r) => r.BillingAccountId === 'acct1' && r.BillingCurrency === 'USD' && r.ChargeCategory === 'Usage'));
      assert.ok(rows.every((r) => Date.parse(r.ChargePeriodStart) >= NOV && Date.parse(r.ChargePeriodEnd) <= DEC), 'nothing of December');
      if (granularity === 'monthly') assert.equal(rows.length, invoice.lines.length);
    });
  }

  it('the plan minimum is an Adjustment row, so a small month still sums to its invoice', async () => {
    const { persistence, clock } = await usageStore(DEC);
    store = persistence;
    const ns = await addNamespace(persistence, 'acct1', 'small');
    await addUsage(persistence, [{ namespaceId: ns.id, hourStart: NOV + 3 * H, recordType: 'signal', amount: 1234 }]);
    const billing = new Billing({ persistence, clock });
    const rows = await download(billing, billing.createReport('acct1', { startMs: NOV, endMs: DEC, granularity: 'daily' }).id);
    assert.deepEqual(rows.map((r) => [r.ChargeCategory, r.BilledCost]), [['Usage', '0.06'], ['Adjustment', '99.94']]);
    assert.equal(cents(rows), (await billing.invoice('acct1', '2026-11')).totalCents);
  });

  it("another account's report is PERMISSION_DENIED; a forged id is NOT_FOUND; a tampered or expired URL is PERMISSION_DENIED", async () => {
    const { billing, clock } = await november();
    const { id } = billing.createReport('acct1', { startMs: NOV, endMs: DEC, granularity: 'daily', urlTtlMs: 60_000 });
    await assert.rejects(billing.getReport('acct2', id), PermissionDeniedError);
    const [body, mac] = id.split('.') as [string, string];
    const forged = Buffer.from(Buffer.from(body, 'base64url').toString().replace('acct1', 'acct2')).toString('base64url');
    await assert.rejects(billing.getReport('acct2', `${forged}.${mac}`), NotFoundError);
    const report = await billing.getReport('acct1', id);
    const url = new URL(report.downloadPath, 'http://x');
    await assert.rejects(billing.download(id, url.searchParams.get('expires'), 'AAAA'), PermissionDeniedError);
    await assert.rejects(billing.download(id, String(Number(url.searchParams.get('expires')) + 1), url.searchParams.get('sig')), PermissionDeniedError);
    clock.advance(60_000);
    await assert.rejects(billing.download(id, url.searchParams.get('expires'), url.searchParams.get('sig')), /expired/);
  });

  it('refuses a bad spec: a range not on whole hours, reversed, over a year (hourly: a month); a URL lifetime over 7 days', async () => {
    const { billing } = await november();
    const bad = [
      { startMs: NOV + 1, endMs: DEC },
      { startMs: DEC, endMs: NOV },
      { startMs: NOV, endMs: NOV + 400 * 86_400_000 },
      { startMs: NOV, endMs: DEC, urlTtlMs: 8 * 86_400_000 },
    ];
    for (const spec of bad) assert.throws(() => billing.createReport('acct1', { granularity: 'daily', ...spec }), InvalidArgumentError);
    assert.throws(() => billing.createReport('acct1', { granularity: 'hourly', startMs: NOV, endMs: NOV + 32 * 86_400_000 }), /at most 31 days/);
  });
});
