import { getToken } from 'next-auth/jwt';
import type { NextRequest } from 'next/server';

/** The Hourglass session token from the next-auth JWT cookie (server side only). */
export async function hourglassToken(req: NextRequest): Promise<string | undefined> {
  const jwt = await getToken({ req, secret: process.env.NEXTAUTH_SECRET });
  const token = jwt?.hourglassToken;
  const expiresAt = jwt?.hourglassExpiresAt;
  if (typeof token !== 'string') return undefined;
  if (typeof expiresAt === 'string' && Date.parse(expiresAt) <= Date.now()) return undefined;
  return token;
}
