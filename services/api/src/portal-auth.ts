/**
 * Portal sign-in: email + password users get a session token; programs use API keys. Passwords
 * are hashed with argon2id (@node-rs/argon2, OWASP's parameters: 19 MiB, 2 passes) off the event
 * loop; a session token is `hgs_<id>_<secret>` with 256 random bits of secret, of which only the
 * SHA-256 is stored, so each request costs one lookup and a constant-time compare.
 *
 * A request's bearer token is either: `hgk_…` goes to the ApiKeyAuthenticator (the gRPC tier's),
 * `hgs_…` to the session store. Either way the caller becomes the same Principal the gRPC tier
 * builds (resolveOwnerPrincipal), so one permission model applies.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { FailedPreconditionError, InvalidArgumentError, UnauthenticatedError, type Clock } from '@hourglass/common';
import { normalizeEmail, resolveOwnerPrincipal, type ApiKeyAuthenticator, type Principal } from '@hourglass/identity';
import type { IdentityStore, PortalLoginRecord, PortalStore } from '@hourglass/persistence';
import type { OidcVerifier } from './oidc';

export const SESSION_PREFIX = 'hgs_';
const SESSION_PATTERN = /^hgs_([a-z0-9]{20})_([A-Za-z0-9_-]{43})$/;
export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 256;
/** Accounts one email may sign in to (bounded: every candidate costs an argon2 verification). */
const MAX_LOGINS_PER_EMAIL = 10;
const BEARER = /^Bearer\s+(\S+)\s*$/i;
/** Wrong passwords allowed per email per minute before sign-ins of that email are refused unchecked. */
export const MAX_FAILED_SIGN_INS_PER_MINUTE = 10;
/** Emails whose failures are remembered (the oldest are forgotten first). */
const MAX_TRACKED_EMAILS = 10_000;
/** Expired sessions are deleted hourly, in batches. */
const PRUNE_INTERVAL_MS = 3600_000;
export const SESSION_PRUNE_BATCH = 1000;

export interface PortalAuthOptions {
  portal: PortalStore;
  identity: IdentityStore;
  keys: ApiKeyAuthenticator;
  clock: Clock;
  /** How long a session lasts. */
  sessionTtlMs: number;
  /** Single sign-on: verifies an OpenID Connect provider's ID tokens; absent when not configured. */
  oidc?: OidcVerifier;
}

/** Who called, and how. */
export interface Caller {
  principal: Principal;
  via: 'apiKey' | 'session';
  /** The session id, for signOut. */
  sessionId?: string;
}

export function hashPassword(password: string): Promise<string> {
  return argon2Hash(password);
}

export function checkNewPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new InvalidArgumentError(`a password needs at least ${MIN_PASSWORD_LENGTH} characters (${password.length} given)`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new InvalidArgumentError(`a password has at most ${MAX_PASSWORD_LENGTH} characters (${password.length} given)`);
}

/** A random password for invited users and start-dev's dev user: 24 characters of base64url (144 bits). */
export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export class PortalAuth {
  private readonly failures = new Map<string, { count: number; since: number }>();
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<number> | undefined;

  constructor(private readonly options: PortalAuthOptions) {}

  /**
   * Deletes expired sessions now and every hour, in batches with the event loop given a turn
   * between them (an expired session is refused whether or not it was deleted yet, so a lost timer
   * loses nothing: the next start prunes what is due).
   */
  startPruning(onError: (err: unknown) => void): void {
    const tick = (): void => void this.pruneExpired().catch(onError);
    tick();
    this.pruneTimer = setInterval(tick, PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
    await this.pruning?.catch(() => undefined);
  }

  /** Deletes every session expired by now; resolves with how many. */
  pruneExpired(): Promise<number> {
    this.pruning ??= (async () => {
      let total = 0;
      for (;;) {
        // A session is over at its expiresAt: every one with expiresAt <= now.
        const deleted = await this.options.portal.deleteExpiredSessions(this.options.clock.now() + 1, SESSION_PRUNE_BATCH);
        total += deleted;
        if (deleted < SESSION_PRUNE_BATCH) return total;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })().finally(() => (this.pruning = undefined));
    return this.pruning;
  }

  /** The caller of an HTTP request from its Authorization header; UNAUTHENTICATED without a valid one. */
  async authenticate(authorization: string | undefined): Promise<Caller> {
    if (!authorization) throw new UnauthenticatedError('this API needs a credential: send "Authorization: Bearer <API key or session token>" (signIn returns a session token)');
    const match = BEARER.exec(authorization);
    if (!match) throw new UnauthenticatedError('the Authorization header must be "Bearer <API key or session token>"');
    const token = match[1] as string;
    if (token.startsWith(SESSION_PREFIX)) return this.session(token);
    return { principal: await this.options.keys.authenticate(token), via: 'apiKey' };
  }

  private async session(token: string): Promise<Caller> {
    const parsed = SESSION_PATTERN.exec(token);
    if (!parsed) throw new UnauthenticatedError(`malformed session token (${token.length} characters given)`);
    const [, id, secret] = parsed as unknown as [string, string, string];
    const record = await this.options.portal.getSession(id);
    const expected = Buffer.from(record?.secretDigest ?? '', 'hex');
    const actual = Buffer.from(digest(secret), 'hex');
    if (!record || expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new UnauthenticatedError('invalid or ended session: sign in again');
    if (record.expiresAt <= this.options.clock.now()) throw new UnauthenticatedError('the session expired: sign in again');
    const principal = await resolveOwnerPrincipal(this.options.identity, record.accountId, 'user', record.userId, '');
    if (!principal) throw new UnauthenticatedError('invalid or ended session: sign in again');
    return { principal, via: 'session', sessionId: id };
  }

  /**
   * Email + password → a new session. Every refusal says the same ("wrong email or password"), so
   * it tells no one which emails have users.
   */
  async signIn(email: string, password: string, accountId: string | undefined): Promise<{ token: string; expiresAt: number; principal: Principal }> {
    const wrong = new UnauthenticatedError('wrong email or password');
    const normalized = normalizeEmail(email);
    // Guessing is throttled per email, whether or not it has a user (so the refusal tells nothing).
    const now = this.options.clock.now();
    this.checkThrottle(normalized, now);
    if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
      this.recordFailure(normalized, now);
      throw wrong;
    }
    const logins = (await this.options.portal.listLoginsByEmail(normalized, MAX_LOGINS_PER_EMAIL)).filter((l) => !accountId || l.accountId === accountId);
    const matching: PortalLoginRecord[] = [];
    for (const login of logins) if (await argon2Verify(login.passwordHash, password).catch(() => false)) matching.push(login);
    if (matching.length === 0) {
      this.recordFailure(normalized, now);
      throw wrong;
    }
    this.failures.delete(normalized);
    if (matching.length > 1) throw new InvalidArgumentError(`${email.length > 100 ? 'this email' : email} is a user of several accounts: name one with accountId (${matching.map((m) => m.accountId).join(', ')})`);
    const session = await this.openSession(matching[0] as PortalLoginRecord, now);
    if (!session) throw wrong;
    return session;
  }

  /**
   * An OpenID Connect ID token → a new session of the Hourglass user with the token's email (in
   * `accountId` when the email is a user of several accounts).
   */
  async signInWithOidc(idToken: string, accountId: string | undefined): Promise<{ token: string; expiresAt: number; principal: Principal }> {
    if (!this.options.oidc) throw new FailedPreconditionError('single sign-on is not configured on this server (HOURGLASS_OIDC_ISSUER and HOURGLASS_OIDC_CLIENT_ID)');
    const { email } = await this.options.oidc.verify(idToken);
    const shown = email.length > 100 ? 'this email' : email;
    const logins = (await this.options.portal.listLoginsByEmail(normalizeEmail(email), MAX_LOGINS_PER_EMAIL)).filter((l) => !accountId || l.accountId === accountId);
    if (logins.length === 0) throw new UnauthenticatedError(`${shown} is not a user of ${accountId ? 'that account' : 'any account'} here: an admin invites users by email`);
    if (logins.length > 1) throw new InvalidArgumentError(`${shown} is a user of several accounts: name one with accountId (${logins.map((m) => m.accountId).join(', ')})`);
    const session = await this.openSession(logins[0] as PortalLoginRecord, this.options.clock.now());
    if (!session) throw new UnauthenticatedError(`${shown} is no longer a user here`);
    return session;
  }

  /** A new session of `login`'s user; undefined when the user is gone. */
  private async openSession(login: PortalLoginRecord, now: number): Promise<{ token: string; expiresAt: number; principal: Principal } | undefined> {
    const principal = await resolveOwnerPrincipal(this.options.identity, login.accountId, 'user', login.userId, '');
    if (!principal) return undefined;
    const id = randomBytes(15).toString('hex').slice(0, 20);
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = now + this.options.sessionTtlMs;
    await this.options.portal.createSession({ id, accountId: login.accountId, userId: login.userId, secretDigest: digest(secret), createdAt: now, expiresAt });
    return { token: `${SESSION_PREFIX}${id}_${secret}`, expiresAt, principal };
  }

  private checkThrottle(email: string, now: number): void {
    const failed = this.failures.get(email);
    if (failed && now - failed.since < 60_000 && failed.count >= MAX_FAILED_SIGN_INS_PER_MINUTE) {
      throw new UnauthenticatedError('too many failed sign-ins with this email; try again in a minute');
    }
  }

  private recordFailure(email: string, now: number): void {
    const failed = this.failures.get(email);
    if (!failed || now - failed.since >= 60_000) this.failures.set(email, { count: 1, since: now });
    else failed.count += 1;
    if (this.failures.size > MAX_TRACKED_EMAILS) this.failures.delete(this.failures.keys().next().value as string);
  }

  signOut(sessionId: string): Promise<void> {
    return this.options.portal.deleteSession(sessionId);
  }

  /** Sets a user's password (the caller checked who may). */
  async setPassword(accountId: string, userId: string, email: string, password: string): Promise<void> {
    checkNewPassword(password);
    await this.options.portal.setLogin({ accountId, userId, email: normalizeEmail(email), passwordHash: await hashPassword(password), updatedAt: this.options.clock.now() });
  }

  /** Whether `password` is the user's current one. */
  async checkPassword(accountId: string, userId: string, password: string): Promise<boolean> {
    const login = await this.options.portal.getLogin(accountId, userId);
    return login !== undefined && (await argon2Verify(login.passwordHash, password).catch(() => false));
  }

  hasPassword(accountId: string, userId: string): Promise<boolean> {
    return this.options.portal.getLogin(accountId, userId).then((l) => l !== undefined);
  }

  forgetUser(accountId: string, userId: string): Promise<void> {
    return this.options.portal.deleteLogin(accountId, userId);
  }
}
