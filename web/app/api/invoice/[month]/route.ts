/** An invoice as a CSV download, priced by the API (`invoice(month)`). */
import { NextResponse, type NextRequest } from 'next/server';
import { serverGraphql } from '../../../../lib/graphql-server';
import { INVOICE_QUERY, type Invoice } from '../../../../lib/invoice';
import { hourglassToken } from '../../../../lib/session-token';

export const dynamic = 'force-dynamic';

const cents = (c: number) => (c / 100).toFixed(2);
const cell = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

export async function GET(req: NextRequest, ctx: { params: Promise<{ month: string }> }): Promise<Response> {
  const { month } = await ctx.params;
  const token = await hourglassToken(req);
  if (!token) return NextResponse.json({ error: 'not signed in' }, { status: 401 });
  const answer = await serverGraphql<{ invoice: Invoice }>(INVOICE_QUERY, { month }, token);
  const invoice = answer.data?.invoice;
  if (!invoice) return NextResponse.json({ error: answer.errors?.[0]?.message ?? 'no invoice' }, { status: 400 });
  const rows = [
    ['namespace', 'type', 'quantity', 'unit', `amount_${invoice.currency.toLowerCase()}`],
    ...invoice.lines.map((l) => [l.namespace, l.type, l.quantity, l.unit, cents(l.amountCents)]),
    ['', 'subtotal', '', '', cents(invoice.subtotalCents)],
    ['', 'minimum_adjustment', '', '', cents(invoice.minimumAdjustmentCents)],
    ['', 'total', '', '', cents(invoice.totalCents)],
  ];
  const csv = `# Hourglass invoice ${invoice.month}${invoice.incomplete ? ' (month not over: incomplete)' : ''}\n${rows.map((r) => r.map(cell).join(',')).join('\n')}\n`;
  return new Response(csv, { headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="hourglass-invoice-${invoice.month}.csv"` } });
}
