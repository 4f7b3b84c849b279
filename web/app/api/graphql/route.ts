/**
 * The console's only way to the API: same-origin POSTs, forwarded to /graphql with the signed-in
 * user's Hourglass token (from the next-auth JWT) as `Authorization: Bearer`. The token never
 * reaches the browser.
 */
import { NextResponse, type NextRequest } from 'next/server';
import { graphqlUrl } from '../../../lib/graphql-server';
import { hourglassToken } from '../../../lib/session-token';

export const dynamic = 'force-dynamic';

export async function POST(req: NextRequest): Promise<Response> {
  // Same origin only (the session cookie is SameSite=Lax too): another site's page cannot call through.
  const origin = req.headers.get('origin');
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host');
  if (origin && host && new URL(origin).host !== host) return NextResponse.json({ errors: [{ message: 'cross-origin requests are refused', extensions: { code: 'FORBIDDEN' } }] }, { status: 403 });
  const token = await hourglassToken(req);
  if (!token) return NextResponse.json({ errors: [{ message: 'not signed in', extensions: { code: 'UNAUTHENTICATED' } }] }, { status: 401 });
  const body = await req.text();
  const res = await fetch(graphqlUrl(), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body, cache: 'no-store' });
  return new Response(await res.text(), { status: res.status, headers: { 'content-type': 'application/json' } });
}
