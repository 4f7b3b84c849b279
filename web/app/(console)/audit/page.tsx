'use client';
import type { ReactNode } from 'react';
import { DayRangeForm, useDayRange } from '../../../components/day-range';
import { ErrorText, Json, Loading, time } from '../../../components/ui';
import { useQuery } from '../../../lib/client';

interface Entry {
  id: string;
  time: string;
  operation: string;
  principal: string;
  apiKeyId: string | null;
  status: string;
  details: unknown;
}

export default function AuditPage(): ReactNode {
  const { range, setRange, variables } = useDayRange(7);
  const { data, error, loading } = useQuery<{ auditLog: Entry[] }>('query A($from: DateTime!, $to: DateTime!) { auditLog(from: $from, to: $to, limit: 1000) { id time operation principal apiKeyId status details } }', variables);
  const entries = [...(data?.auditLog ?? [])].reverse();
  return (
    <>
      <h1>Audit log</h1>
      <DayRangeForm idPrefix="audit" range={range} onChange={setRange} />
      <Loading loading={loading} />
      <ErrorText error={error} />
      {data ? (
        <div className="table-wrap">
          <table aria-label="Audit log, newest first">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Operation</th>
                <th scope="col">Who</th>
                <th scope="col">Status</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td>{time(e.time)}</td>
                  <td>{e.operation}</td>
                  <td>
                    {e.principal}
                    {e.apiKeyId ? <div className="muted">key {e.apiKeyId}</div> : null}
                  </td>
                  <td>{e.status}</td>
                  <td>
                    <Json value={e.details} />
                  </td>
                </tr>
              ))}
              {entries.length === 0 ? (
                <tr>
                  <td colSpan={5}>Nothing recorded in this range.</td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
