/** Server-side GraphQL calls to the API on the same listener (HOURGLASS_PORTAL_GRAPHQL_URL, set by start-dev). */
export interface GraphqlAnswer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export function graphqlUrl(): string {
  return process.env.HOURGLASS_PORTAL_GRAPHQL_URL ?? 'http://127.0.0.1:8233/graphql';
}

export async function serverGraphql<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<GraphqlAnswer<T>> {
  const res = await fetch(graphqlUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    cache: 'no-store',
  });
  return (await res.json()) as GraphqlAnswer<T>;
}
