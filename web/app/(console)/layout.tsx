import { getServerSession } from 'next-auth';
import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { authOptions } from '../../lib/auth';
import Nav from './nav';

export const dynamic = 'force-dynamic';

export default async function ConsoleLayout({ children }: { children: ReactNode }): Promise<ReactNode> {
  const session = (await getServerSession(authOptions())) as { user?: { email?: string | null }; role?: string; account?: string } | null;
  if (!session?.user) redirect('/signin');
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Nav email={session.user.email ?? ''} role={session.role ?? ''} account={session.account ?? ''} />
      <main id="main">{children}</main>
    </>
  );
}
