/** A month's invoice as the API prices it: one query and one type for the invoices page and the CSV download. */
export interface Invoice {
  month: string;
  currency: string;
  lines: { namespace: string; type: string; quantity: number; unit: string; amountCents: number }[];
  subtotalCents: number;
  planMinimumCents: number;
  minimumAdjustmentCents: number;
  totalCents: number;
  incomplete: boolean;
}

export const INVOICE_QUERY =
  'query Invoice($month: String!) { invoice(month: $month) { month currency lines { namespace type quantity unit amountCents } subtotalCents planMinimumCents minimumAdjustmentCents totalCents incomplete } }';
