'use client';
import { useState, type ReactNode } from 'react';
import { ErrorText, Loading } from '../../../components/ui';
import { useQuery } from '../../../lib/client';
import { INVOICE_QUERY, type Invoice } from '../../../lib/invoice';

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;

export default function InvoicesPage(): ReactNode {
  const [month, setMonth] = useState(new Date().toISOString().slice(0, 7));
  const { data, error, loading } = useQuery<{ invoice: Invoice }>(INVOICE_QUERY, { month });
  const inv = data?.invoice;
  return (
    <>
      <h1>Invoices</h1>
      <div className="row">
        <div>
          <label htmlFor="invoice-month">Month</label>
          <input id="invoice-month" type="month" value={month} onChange={(e) => e.target.value && setMonth(e.target.value)} />
        </div>
      </div>
      <Loading loading={loading} />
      <ErrorText error={error} />
      {inv ? (
        <>
          <h2>
            Invoice {inv.month} {inv.incomplete ? <span className="muted">(month not over)</span> : null}
          </h2>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Namespace</th>
                  <th scope="col">Type</th>
                  <th scope="col" className="num">Quantity</th>
                  <th scope="col">Unit</th>
                  <th scope="col" className="num">Amount</th>
                </tr>
              </thead>
              <tbody>
                {inv.lines.map((l) => (
                  <tr key={`${l.namespace}/${l.type}`}>
                    <td>{l.namespace}</td>
                    <td>{l.type}</td>
                    <td className="num">{l.quantity}</td>
                    <td>{l.unit}</td>
                    <td className="num">{money(l.amountCents, inv.currency)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row" colSpan={4}>Subtotal</th>
                  <td className="num">{money(inv.subtotalCents, inv.currency)}</td>
                </tr>
                <tr>
                  <th scope="row" colSpan={4}>Minimum adjustment (plan minimum {money(inv.planMinimumCents, inv.currency)})</th>
                  <td className="num">{money(inv.minimumAdjustmentCents, inv.currency)}</td>
                </tr>
                <tr>
                  <th scope="row" colSpan={4}>Total</th>
                  <td className="num" data-testid="invoice-total">
                    {money(inv.totalCents, inv.currency)}
                  </td>
                </tr>
              </tfoot>
            </table>
          </div>
          <p>
            <a href={`/api/invoice/${encodeURIComponent(inv.month)}`} download>
              Download invoice {inv.month} (CSV)
            </a>
          </p>
        </>
      ) : null}
    </>
  );
}
