'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { signOut } from 'next-auth/react';
import type { ReactNode } from 'react';
import { gql } from '../../lib/client';

const LINKS = [
  ['/namespaces', 'Namespaces'],
  ['/workflows', 'Workflows'],
  ['/api-keys', 'API keys'],
  ['/service-accounts', 'Service accounts'],
  ['/users', 'Users'],
  ['/usage', 'Usage'],
  ['/invoices', 'Invoices'],
  ['/audit', 'Audit log'],
] as const;

export default function Nav({ email, role, account }: { email: string; role: string; account: string }): ReactNode {
  const path = usePathname();
  return (
    <header className="top">
      <Link className="brand" href="/namespaces">
        Hourglass
      </Link>
      <nav aria-label="Console">
        <ul>
          {LINKS.map(([href, label]) => (
            <li key={href}>
              <Link href={href} aria-current={path === href || path.startsWith(`${href}/`) ? 'page' : undefined}>
                {label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="who">
        <span>
          {email} ({role}) · {account}
        </span>
        <button
          type="button"
          onClick={() => {
            gql('mutation { signOut }')
              .catch(() => undefined)
              .finally(() => void signOut({ callbackUrl: '/signin' }));
          }}
        >
          Sign out
        </button>
      </div>
    </header>
  );
}
