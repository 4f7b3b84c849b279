/** An invoice as a CSV download, priced by the API (`invoice(month)`). */
import { NextResponse, type NextRequest } from 'next/server';
import { serverGraphql } from '../../../../lib/graphql-server';
import { hourglassToken } from '../../../../lib/session-token';

export const dynamic = 'force-dynamic';

interface InvoiceAnswer {
  invoice: {
    month: string;
    currency: string;
    lines: { namespace: string; type: string; quantity: number; unit: string; amountCents: number }[];
    subtotalCents: number;
    planMinimumCents: number;
    minimumAdjustmentCents: number;
    totalCents: number;
    incomplete: boolean;
  };
}

const cents = (c: number) => (c / 100).toFixed(2);
const cell = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

export async function GET(req: NextRequest, ctx: { params: Promise<{ month: string }> }): Promise<Response> {
  const { month } = await ctx.params;
  const token = await hourglassToken(req);
  if (!token) return NextResponse.json({ error: 'not signed in' }, { status: 401 });
  const answer = await serverGraphql<InvoiceAnswer>(
    'query Invoice($month: String!) { invoice(month: $month) { month currency lines { namespace type quantity unit amountCents } subtotalCents planMinimumCents minimumAdjustmentCents totalCents incomplete } }',
    { month },
    token,
  );
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
