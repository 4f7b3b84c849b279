'use client';
/** A range of whole UTC days chosen in a form (the usage and audit pages), and its GraphQL variables. */
import { useState, type ReactNode } from 'react';

export interface DayRange {
  /** YYYY-MM-DD, first day included. */
  from: string;
  /** YYYY-MM-DD, last day included. */
  to: string;
}

/** The UTC day `offset` days from today, as YYYY-MM-DD. */
export const utcDay = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

/** The last `days` UTC days up to today, changeable through DayRangeForm; `variables` is [from, to) as DateTimes. */
export function useDayRange(days: number): { range: DayRange; setRange: (range: DayRange) => void; variables: { from: string; to: string } } {
  const [range, setRange] = useState<DayRange>({ from: utcDay(1 - days), to: utcDay(0) });
  const variables = { from: `${range.from}T00:00:00.000Z`, to: new Date(Date.parse(`${range.to}T00:00:00.000Z`) + 86_400_000).toISOString() };
  return { range, setRange, variables };
}

export function DayRangeForm({ idPrefix, range, onChange }: { idPrefix: string; range: DayRange; onChange: (range: DayRange) => void }): ReactNode {
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        onChange({ from: String(f.get('from')), to: String(f.get('to')) });
      }}
    >
      <div className="row">
        <div>
          <label htmlFor={`${idPrefix}-from`}>From (UTC day)</label>
          <input id={`${idPrefix}-from`} name="from" type="date" defaultValue={range.from} required />
        </div>
        <div>
          <label htmlFor={`${idPrefix}-to`}>To (UTC day, included)</label>
          <input id={`${idPrefix}-to`} name="to" type="date" defaultValue={range.to} required />
        </div>
        <button type="submit">Show</button>
      </div>
    </form>
  );
}
