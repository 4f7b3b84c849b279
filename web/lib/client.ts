'use client';
/** The browser's GraphQL calls: same-origin, through /api/graphql (the server adds the token). */
import { useCallback, useEffect, useState } from 'react';

export class GraphqlError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch('/api/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  if (res.status === 401) {
    window.location.href = `/signin?callbackUrl=${encodeURIComponent(window.location.pathname + window.location.search)}`;
    throw new GraphqlError('not signed in', 'UNAUTHENTICATED');
  }
  const body = (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new GraphqlError(body.errors.map((e) => e.message).join('; '), body.errors[0]?.extensions?.code);
  if (!body.data) throw new GraphqlError('empty answer', undefined);
  return body.data;
}

/** Runs a query when its inputs change; `reload` runs it again. */
export function useQuery<T>(query: string, variables: Record<string, unknown> = {}, skip = false): { data: T | undefined; error: string | undefined; loading: boolean; reload: () => void } {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: !skip });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (skip) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    gql<T>(query, JSON.parse(key) as Record<string, unknown>).then(
      (data) => live && setState({ data, loading: false }),
      (err: unknown) => live && setState({ error: (err as Error).message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [query, key, tick, skip]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
