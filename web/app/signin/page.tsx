import type { ReactNode } from 'react';
import { oidcEnabled } from '../../lib/auth';
import SignInForm from './signin-form';

export const dynamic = 'force-dynamic';

export default function SignInPage(): ReactNode {
  return (
    <main className="signin">
      <h1>Sign in to Hourglass</h1>
      <SignInForm oidc={oidcEnabled() ? process.env.HOURGLASS_OIDC_NAME || 'Single sign-on' : undefined} />
    </main>
  );
}
