'use client';
import type { ReactNode } from 'react';
import { DayRangeForm, useDayRange } from '../../../components/day-range';
import { ErrorText, Loading } from '../../../components/ui';
import { useQuery } from '../../../lib/client';

interface UsageDay {
  day: string;
  namespace: string;
  actions: number;
  actionsByType: { action: string; count: number }[];
  activeStorageByteSeconds: number;
  retainedStorageByteSeconds: number;
}

export default function UsagePage(): ReactNode {
  const { range, setRange, variables } = useDayRange(14);
  const { data, error, loading } = useQuery<{ usage: UsageDay[] }>(
    'query U($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to) { day namespace actions actionsByType { action count } activeStorageByteSeconds retainedStorageByteSeconds } }',
    variables,
  );
  const rows = data?.usage ?? [];
  const byDay = new Map<string, number>();
  for (const r of rows) byDay.set(r.day, (byDay.get(r.day) ?? 0) + r.actions);
  const days = [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b));
  const max = Math.max(1, ...days.map(([, n]) => n));
  const total = rows.reduce((n, r) => n + r.actions, 0);
  return (
    <>
      <h1>Usage</h1>
      <DayRangeForm idPrefix="usage" range={range} onChange={setRange} />
      <Loading loading={loading} />
      <ErrorText error={error} />
      {data ? (
        <>
          <p>
            Billable actions in the range: <strong data-testid="usage-total">{total}</strong>
          </p>
          <h2 id="chart-title">Actions per day</h2>
          <div className="bars" role="img" aria-labelledby="chart-title" aria-describedby="usage-table">
            {days.map(([d, n]) => (
              <div className="bar" key={d}>
                <span>{d}</span>
                <div className="fill" style={{ width: `${(n / max) * 100}%` }} />
                <span className="num">{n}</span>
              </div>
            ))}
            {days.length === 0 ? <p className="muted">No usage in this range.</p> : null}
          </div>
          <h2>By day and namespace</h2>
          <div className="table-wrap">
            <table id="usage-table">
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Namespace</th>
                  <th scope="col" className="num">Actions</th>
                  <th scope="col">By type</th>
                  <th scope="col" className="num">Active storage (GB·h)</th>
                  <th scope="col" className="num">Retained storage (GB·h)</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={`${r.day}/${r.namespace}`}>
                    <td>{r.day}</td>
                    <td>{r.namespace}</td>
                    <td className="num" data-testid={`usage-${r.day}-${r.namespace}`}>
                      {r.actions}
                    </td>
                    <td>{r.actionsByType.map((a) => `${a.action} ${a.count}`).join(', ')}</td>
                    <td className="num">{(r.activeStorageByteSeconds / 3.6e12).toFixed(6)}</td>
                    <td className="num">{(r.retainedStorageByteSeconds / 3.6e12).toFixed(6)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </>
  );
}
