import NextAuth from 'next-auth';
import type { NextRequest } from 'next/server';
import { authOptions } from '../../../../lib/auth';

type Ctx = { params: Promise<{ nextauth: string[] }> };
async function handler(req: NextRequest, ctx: Ctx): Promise<Response> {
  // next-auth 4 reads params synchronously; Next 15 hands them as a promise.
  const params = await ctx.params;
  return (NextAuth(authOptions()) as (req: NextRequest, ctx: { params: { nextauth: string[] } }) => Promise<Response>)(req, { params });
}
export { handler as GET, handler as POST };
