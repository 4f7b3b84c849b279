/**
 * next-auth: email and password against the Hourglass GraphQL `signIn` mutation, and an OIDC
 * provider when HOURGLASS_OIDC_ISSUER, HOURGLASS_OIDC_CLIENT_ID and HOURGLASS_OIDC_CLIENT_SECRET are
 * set. The Hourglass session token lives only in the next-auth JWT (an encrypted, httpOnly cookie):
 * the session object handed to the browser carries the email and role, never the token.
 */
import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { serverGraphql } from './graphql-server';

interface SignInAnswer {
  signIn: { token: string; expiresAt: string; viewer: { name: string; role: string | null; account: { id: string; name: string } } };
}

export function oidcEnabled(): boolean {
  return Boolean(process.env.HOURGLASS_OIDC_ISSUER && process.env.HOURGLASS_OIDC_CLIENT_ID && process.env.HOURGLASS_OIDC_CLIENT_SECRET);
}

function providers(): NextAuthOptions['providers'] {
  const list: NextAuthOptions['providers'] = [
    CredentialsProvider({
      id: 'credentials',
      name: 'Email and password',
      credentials: { email: { label: 'Email', type: 'email' }, password: { label: 'Password', type: 'password' } },
      async authorize(credentials) {
        if (!credentials?.email || !credentials.password) return null;
        const answer = await serverGraphql<SignInAnswer>(
          'mutation SignIn($email: String!, $password: String!) { signIn(email: $email, password: $password) { token expiresAt viewer { name role account { id name } } } }',
          { email: credentials.email, password: credentials.password },
        );
        if (!answer.data?.signIn) throw new Error(answer.errors?.[0]?.message ?? 'sign-in failed');
        const { token, expiresAt, viewer } = answer.data.signIn;
        return { id: viewer.name, email: viewer.name, name: viewer.name, role: viewer.role ?? '', account: viewer.account.name, hourglassToken: token, hourglassExpiresAt: expiresAt };
      },
    }),
  ];
  if (oidcEnabled()) {
    list.push({
      id: 'oidc',
      name: process.env.HOURGLASS_OIDC_NAME || 'Single sign-on',
      type: 'oauth',
      wellKnown: `${(process.env.HOURGLASS_OIDC_ISSUER ?? '').replace(/\/$/, '')}/.well-known/openid-configuration`,
      clientId: process.env.HOURGLASS_OIDC_CLIENT_ID,
      clientSecret: process.env.HOURGLASS_OIDC_CLIENT_SECRET,
      authorization: { params: { scope: 'openid email profile' } },
      idToken: true,
      checks: ['pkce', 'state'],
      profile(profile: { sub: string; email?: string; name?: string }) {
        return { id: profile.sub, email: profile.email ?? null, name: profile.name ?? profile.email ?? profile.sub };
      },
    });
  }
  return list;
}

interface HourglassUser {
  role?: string;
  account?: string;
  hourglassToken?: string;
  hourglassExpiresAt?: string;
}

export function authOptions(): NextAuthOptions {
  return {
    secret: process.env.NEXTAUTH_SECRET,
    session: { strategy: 'jwt', maxAge: 12 * 3600 },
    pages: { signIn: '/signin' },
    providers: providers(),
    callbacks: {
      async jwt({ token, user, account }) {
        // Single sign-on: the provider's ID token is exchanged for an Hourglass session (the API checks it).
        if (account?.provider === 'oidc') {
          if (!account.id_token) throw new Error('the single sign-on provider returned no ID token');
          const answer = await serverGraphql<{ signInWithOidc: SignInAnswer['signIn'] }>(
            'mutation SignInWithOidc($idToken: String!) { signInWithOidc(idToken: $idToken) { token expiresAt viewer { name role account { id name } } } }',
            { idToken: account.id_token },
          );
          const session = answer.data?.signInWithOidc;
          if (!session) throw new Error(answer.errors?.[0]?.message ?? 'single sign-on failed');
          return {
            ...token,
            name: session.viewer.name,
            email: session.viewer.name,
            role: session.viewer.role ?? '',
            account: session.viewer.account.name,
            hourglassToken: session.token,
            hourglassExpiresAt: session.expiresAt,
          };
        }
        if (user) {
          const u = user as typeof user & HourglassUser;
          token.role = u.role ?? '';
          token.account = u.account ?? '';
          if (u.hourglassToken) token.hourglassToken = u.hourglassToken;
          if (u.hourglassExpiresAt) token.hourglassExpiresAt = u.hourglassExpiresAt;
        }
        return token;
      },
      session({ session, token }) {
        // What the browser sees: never the Hourglass token.
        return { ...session, user: { name: token.name ?? null, email: token.email ?? null }, role: token.role, account: token.account, expires: session.expires };
      },
    },
  };
}
