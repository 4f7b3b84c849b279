'use client';
import { useState, type ReactNode } from 'react';
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

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

export default function AuditPage(): ReactNode {
  const [range, setRange] = useState({ from: day(-6), to: day(0) });
  const { data, error, loading } = useQuery<{ auditLog: Entry[] }>('query A($from: DateTime!, $to: DateTime!) { auditLog(from: $from, to: $to, limit: 1000) { id time operation principal apiKeyId status details } }', {
    from: `${range.from}T00:00:00.000Z`,
    to: new Date(Date.parse(`${range.to}T00:00:00.000Z`) + 86_400_000).toISOString(),
  });
  const entries = [...(data?.auditLog ?? [])].reverse();
  return (
    <>
      <h1>Audit log</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          setRange({ from: String(f.get('from')), to: String(f.get('to')) });
        }}
      >
        <div className="row">
          <div>
            <label htmlFor="audit-from">From (UTC day)</label>
            <input id="audit-from" name="from" type="date" defaultValue={range.from} required />
          </div>
          <div>
            <label htmlFor="audit-to">To (UTC day, included)</label>
            <input id="audit-to" name="to" type="date" defaultValue={range.to} required />
          </div>
          <button type="submit">Show</button>
        </div>
      </form>
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
