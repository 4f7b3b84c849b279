'use client';
import { signIn } from 'next-auth/react';
import { useSearchParams } from 'next/navigation';
import { Suspense, useState, type ReactNode } from 'react';
import { ErrorText } from '../../components/ui';

function Form({ oidc }: { oidc: string | undefined }): ReactNode {
  const params = useSearchParams();
  const callbackUrl = params.get('callbackUrl')?.startsWith('/') ? (params.get('callbackUrl') as string) : '/namespaces';
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return (
    <>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          setBusy(true);
          setError(undefined);
          signIn('credentials', { email: String(form.get('email')), password: String(form.get('password')), redirect: false }).then(
            (res) => {
              setBusy(false);
              if (res?.ok) window.location.href = callbackUrl;
              else setError(res?.error === 'CredentialsSignin' ? 'Wrong email or password.' : (res?.error ?? 'Sign-in failed.'));
            },
            (err: unknown) => {
              setBusy(false);
              setError((err as Error).message);
            },
          );
        }}
      >
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="username" required autoFocus />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        <ErrorText error={error} />
        <p>
          <button type="submit" className="primary" disabled={busy}>
            Sign in
          </button>
        </p>
      </form>
      {oidc ? (
        <p>
          <button type="button" onClick={() => void signIn('oidc', { callbackUrl })}>
            Sign in with {oidc}
          </button>
        </p>
      ) : null}
    </>
  );
}

export default function SignInForm({ oidc }: { oidc: string | undefined }): ReactNode {
  return (
    <Suspense>
      <Form oidc={oidc} />
    </Suspense>
  );
}
