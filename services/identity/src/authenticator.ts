/**
 * API key → Principal, once per call, cheaply. The first sight of a token costs one scrypt
 * verification (on the thread pool); after that the call is recognised by the token's SHA-256
 * (compared in constant time) and costs a map lookup. The key, its owner, the owner's grants and
 * the account are re-read at most every `recheckMs` (5 s), so a deleted, disabled or expired key,
 * a deleted owner, a changed grant or a suspended account takes effect within that time on every
 * server, and at once on the server that made the change (`forget*`).
 *
 * Guessing is throttled: after `maxFailuresPerMinute` wrong secrets for one key id, that key id is
 * refused without verification for the rest of the minute, so a flood of bad tokens cannot burn
 * the thread pool. Refusals never echo the token; they name the key id at most.
 */
import { timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError, type Clock, type Logger } from '@hourglass/common';
import type { AccountRecord, ApiKeyRecord, IdentityStore, NamespacePermission } from '@hourglass/persistence';
import type { Principal } from './principal';
import { parseToken, tokenDigest, verifySecret } from './tokens';

export interface AuthenticatorOptions {
  store: IdentityStore;
  clock: Clock;
  logger: Logger;
  /** How long a verified key is trusted before its records are read again. */
  recheckMs?: number;
  /** lastUsedAt is written at most this often per key. */
  touchEveryMs?: number;
  maxFailuresPerMinute?: number;
  /** Keys kept in memory; the least recently verified go first. */
  maxCachedKeys?: number;
}

interface CachedKey {
  digest: Buffer;
  principal: Principal;
  key: ApiKeyRecord;
  checkedAt: number;
}

const INVALID = 'invalid API key';

export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, CachedKey>();
  private readonly verifying = new Map<string, Promise<Principal>>();
  private readonly failures = new Map<string, { count: number; since: number }>();
  private readonly touchedAt = new Map<string, number>();
  private readonly recheckMs: number;
  private readonly touchEveryMs: number;
  private readonly maxFailures: number;
  private readonly maxCached: number;

  constructor(private readonly options: AuthenticatorOptions) {
    this.recheckMs = options.recheckMs ?? 5_000;
    this.touchEveryMs = options.touchEveryMs ?? 60_000;
    this.maxFailures = options.maxFailuresPerMinute ?? 10;
    this.maxCached = options.maxCachedKeys ?? 10_000;
  }

  /** The principal a token acts as; UnauthenticatedError for any token that does not (the message names the key id at most). */
  async authenticate(token: string): Promise<Principal> {
    const { keyId, secret } = parseToken(token);
    const digest = tokenDigest(token);
    const now = this.options.clock.now();
    const cached = this.cache.get(keyId);
    if (cached && cached.digest.length === digest.length && timingSafeEqual(cached.digest, digest)) {
      if (now - cached.checkedAt < this.recheckMs) {
        checkUsable(cached.key, now);
        this.touch(cached.key, now);
        return cached.principal;
      }
      // The secret is known good: only the records are read again.
      return this.load(keyId, digest, now, async () => true);
    }
    this.checkThrottle(keyId, now);
    const flightKey = `${keyId}:${digest.toString('base64')}`;
    const inFlight = this.verifying.get(flightKey);
    if (inFlight) return inFlight;
    const verification = this.load(keyId, digest, now, (key) => verifySecret(secret, key.secretHash)).finally(() => this.verifying.delete(flightKey));
    this.verifying.set(flightKey, verification);
    return verification;
  }

  /** Whatever is cached of this key (this process changed it). */
  forgetKey(keyId: string): void {
    this.cache.delete(keyId);
  }

  /** Whatever is cached of keys acting in this account (an account, user, service account or grant changed). */
  forgetAccount(accountId: string): void {
    for (const [keyId, entry] of this.cache) if (entry.key.accountId === accountId) this.cache.delete(keyId);
  }

  private async load(keyId: string, digest: Buffer, now: number, secretMatches: (key: ApiKeyRecord) => Promise<boolean>): Promise<Principal> {
    const key = await this.options.store.getApiKey(keyId);
    if (!key || key.deleted) {
      this.cache.delete(keyId);
      this.recordFailure(keyId, now);
      throw new UnauthenticatedError(INVALID);
    }
    if (!(await secretMatches(key))) {
      this.recordFailure(keyId, now);
      throw new UnauthenticatedError(INVALID);
    }
    checkUsable(key, now);
    const principal = await resolvePrincipal(this.options.store, key);
    this.cache.delete(keyId);
    this.cache.set(keyId, { digest, principal, key, checkedAt: now });
    if (this.cache.size > this.maxCached) this.cache.delete(this.cache.keys().next().value as string);
    this.failures.delete(keyId);
    this.touch(key, now);
    return principal;
  }

  private checkThrottle(keyId: string, now: number): void {
    const failed = this.failures.get(keyId);
    if (failed && now - failed.since < 60_000 && failed.count >= this.maxFailures) {
      throw new UnauthenticatedError(`too many failed attempts with API key ${keyId}; try again in a minute`);
    }
  }

  private recordFailure(keyId: string, now: number): void {
    const failed = this.failures.get(keyId);
    if (!failed || now - failed.since >= 60_000) this.failures.set(keyId, { count: 1, since: now });
    else failed.count += 1;
    if (this.failures.size > this.maxCached) this.failures.delete(this.failures.keys().next().value as string);
  }

  /** lastUsedAt, at most once per `touchEveryMs` per key; a failed write is logged, never the call's problem. */
  private touch(key: ApiKeyRecord, now: number): void {
    const last = Math.max(this.touchedAt.get(key.id) ?? 0, key.lastUsedAt ?? 0);
    if (now - last < this.touchEveryMs) return;
    this.touchedAt.set(key.id, now);
    if (this.touchedAt.size > this.maxCached) this.touchedAt.delete(this.touchedAt.keys().next().value as string);
    this.options.store.touchApiKey(key.id, now).catch((err: unknown) => this.options.logger.warn({ err, apiKeyId: key.id }, 'could not record the last use of an API key'));
  }
}

/** Disabled and expired keys are refused, naming the key id. */
function checkUsable(key: ApiKeyRecord, now: number): void {
  if (key.disabled) throw new UnauthenticatedError(`API key ${key.id} is disabled`);
  if (key.expiresAt !== undefined && now >= key.expiresAt) throw new UnauthenticatedError(`API key ${key.id} expired at ${new Date(key.expiresAt).toISOString()}`);
}

/**
 * The principal a key acts as: its owner's role and grants and its account, read now. A key whose
 * owner or account is gone is refused as invalid; a suspended account still authenticates (its
 * calls are refused by authorization with PERMISSION_DENIED, saying why).
 */
export async function resolvePrincipal(store: IdentityStore, key: ApiKeyRecord): Promise<Principal> {
  if (key.ownerType === 'operator') {
    return { type: 'operator', id: key.ownerId || key.id, name: 'operator', accountId: '', account: undefined, role: undefined, grants: new Map(), apiKeyId: key.id };
  }
  const principal = await resolveOwnerPrincipal(store, key.accountId, key.ownerType, key.ownerId, key.id);
  if (!principal) throw new UnauthenticatedError(INVALID);
  return principal;
}

/**
 * The principal a user or service account acts as, read now (API keys, portal sessions): its role,
 * grants and account. Undefined when the account or the owner is gone.
 */
export async function resolveOwnerPrincipal(store: IdentityStore, accountId: string, ownerType: 'user' | 'serviceAccount', ownerId: string, apiKeyId: string): Promise<Principal | undefined> {
  const account = await store.getAccount(accountId);
  if (!account || account.state === 'deleted') return undefined;
  const owner = ownerType === 'user' ? await store.getUser(accountId, ownerId) : await store.getServiceAccount(accountId, ownerId);
  if (!owner || owner.deleted) return undefined;
  const grants = await store.listGrantsOfPrincipal(accountId, ownerType, ownerId);
  return {
    type: ownerType,
    id: owner.id,
    name: 'email' in owner ? owner.email : owner.name,
    accountId: account.id,
    account,
    role: owner.role,
    grants: new Map<string, NamespacePermission>(grants.map((g) => [g.namespaceId, g.permission])),
    apiKeyId,
  };
}

/** The key-less caller of the plaintext dev port: the dev account's owner, on the named namespaces only. */
export function devPrincipal(account: AccountRecord, owner: { id: string; email: string }, namespaces: Iterable<string>): Principal {
  return {
    type: 'user',
    id: owner.id,
    name: owner.email,
    accountId: account.id,
    account,
    role: 'owner',
    grants: new Map(),
    apiKeyId: '',
    restrictedToNamespaces: new Set(namespaces),
  };
}
