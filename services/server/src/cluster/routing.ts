/**
 * The core of the routing clients (history by shard, matching by task queue): a client of service
 * S whose every method finds the host owning its request's placement key, calls it, and on a
 * retryable refusal (not the owner, unreachable) tries again — at once on the owner a refusal
 * names, else on a fresh view of membership after a short wait — until the call's deadline.
 */
import type { CallOptions } from '@hourglass/contracts';

/** How a method is routed: by the placement key of its request, or to every host of the role. */
export type Route =
  /** `once`: one attempt, never repeated (a method that is not idempotent, whose caller copes with a failure). */
  | { kind: 'key'; key(request: never): string; once?: boolean }
  | { kind: 'broadcast' };

/** The hosts of one role, as membership places keys on them. */
export interface Placement<S> {
  /** The address of the live host owning `key`; undefined when none is live. `fresh`: re-read membership first. */
  ownerOf(key: string, fresh: boolean): Promise<string | undefined>;
  all(): Promise<string[]>;
  /** A client of the host at `address` (cached by the caller's factory). */
  client(address: string): S;
  /** Calls `listener` whenever the live hosts change; returns the unsubscribe function. */
  watch?(listener: () => void): () => void;
}

export interface RoutingOptions {
  /** Longest a call is retried when it names no deadline. */
  defaultBudgetMs?: number;
  /** Waits between attempts: doubling from the first up to the last. */
  backoffMs?: [number, number];
  /** A misrouted or failed attempt (logs, tests). */
  onRetry?: (info: { method: string; key: string; address: string | undefined; attempt: number; reason: string }) => void;
}

/** A refusal that names the right host: retry there at once. */
function ownerHint(err: unknown): string | undefined {
  const owner = (err as { owner?: unknown; ownerAddress?: unknown }).owner ?? (err as { ownerAddress?: unknown }).ownerAddress;
  return typeof owner === 'string' && owner !== '' ? owner : undefined;
}

/** Whether another attempt (on another host, or the same after a fresh view) may succeed. */
export function isRetryableRouting(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown; type?: unknown };
  if (e.name === 'ShardNotOwnedError' || e.code === 'SHARD_NOT_OWNED' || e.type === 'ShardNotOwned') return true;
  // grpc-js status 14, or a domain error carried over with its code.
  return e.code === 14 || e.code === 'UNAVAILABLE';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A client of S that routes each call by `routes` over `placement`. `what` names the key in errors ("history shard"). */
export function routedClient<S>(what: string, routes: Record<keyof S, Route>, placement: Placement<S>, options: RoutingOptions = {}): S {
  const budget = options.defaultBudgetMs ?? 10_000;
  const [firstBackoff, maxBackoff] = options.backoffMs ?? [25, 500];
  const client: Record<string, unknown> = {};
  for (const [method, route] of Object.entries(routes) as [string, Route][]) {
    const on = (address: string) => {
      const target = placement.client(address);
      return (target[method as keyof S] as (...args: unknown[]) => Promise<unknown>).bind(target);
    };
    /**
     * One attempt on `address`, abandoned when membership moves the key elsewhere meanwhile: a host
     * that stopped answering (paused, partitioned) would otherwise hold the call until its deadline,
     * long polls included. What it may still do later is fenced by the shard's range id.
     */
    const attemptOn = async (address: string, key: string, request: never, call: CallOptions | undefined): Promise<unknown> => {
      if (!placement.watch) return on(address)(request, call);
      const abort = new AbortController();
      const onCallAbort = (): void => abort.abort(call?.signal?.reason);
      call?.signal?.addEventListener('abort', onCallAbort, { once: true });
      let unsubscribe = (): void => undefined;
      const moved = new Promise<never>((_resolve, reject) => {
        unsubscribe = (placement.watch as (listener: () => void) => () => void)(() => {
          void placement.ownerOf(key, false).then((owner) => {
            if (owner === address) return;
            const err = Object.assign(new Error(`${what} ${key} moved from ${address} to ${owner ?? 'no live host'} during the call`), { code: 'UNAVAILABLE', ownerAddress: owner });
            abort.abort(err);
            reject(err);
          });
        });
      });
      moved.catch(() => undefined);
      try {
        return await Promise.race([on(address)(request, { deadline: call?.deadline ?? 0, signal: abort.signal }), moved]);
      } finally {
        unsubscribe();
        call?.signal?.removeEventListener('abort', onCallAbort);
      }
    };
    if (route.kind === 'broadcast') {
      client[method] = async (...args: unknown[]) => {
        const addresses = await placement.all();
        await Promise.all(addresses.map((a) => on(a)(...args)));
      };
      continue;
    }
    client[method] = async (request: never, call?: CallOptions) => {
      const key = route.key(request);
      const deadline = call?.deadline ? call.deadline : Date.now() + budget;
      let hint: string | undefined;
      let fresh = false;
      let backoff = firstBackoff;
      for (let attempt = 1; ; attempt++) {
        const address = hint ?? (await placement.ownerOf(key, fresh));
        hint = undefined;
        try {
          if (!address) throw Object.assign(new Error(`no live host owns ${what} ${key}`), { code: 'UNAVAILABLE' });
          return await attemptOn(address, key, request, call);
        } catch (err) {
          if (route.once || !isRetryableRouting(err) || call?.signal?.aborted) throw err;
          const wait = Math.min(backoff, maxBackoff);
          if (Date.now() + wait >= deadline) throw err;
          options.onRetry?.({ method, key, address, attempt, reason: (err as Error).message });
          hint = ownerHint(err);
          fresh = true;
          // Straight to a named owner (twice: owners in hand-over may name each other); otherwise wait
          // for membership to catch up.
          if (!hint || attempt > 2) {
            await sleep(wait);
            backoff *= 2;
          }
        }
      }
    };
  }
  return client as S;
}
