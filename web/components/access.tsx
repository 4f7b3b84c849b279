'use client';
import type { ReactNode } from 'react';

export const ROLES = ['owner', 'admin', 'developer', 'financeAdmin', 'read', 'metricsRead'] as const;
export const PERMISSIONS = ['admin', 'write', 'read'] as const;

export function AccessList({ access }: { access: { namespace: string; permission: string }[] }): ReactNode {
  if (access.length === 0) return <span className="muted">—</span>;
  return (
    <ul>
      {access.map((a) => (
        <li key={a.namespace}>
          {a.namespace}: {a.permission}
        </li>
      ))}
    </ul>
  );
}
