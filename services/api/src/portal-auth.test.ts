import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError, ManualClock, UnauthenticatedError, silentLogger } from '@hourglass/common';
import { ApiKeyAuthenticator, IdentityService, bootstrapPrincipal } from '@hourglass/identity';
import { openSqlitePersistence, type Persistence } from '@hourglass/persistence';
import { MAX_FAILED_SIGN_INS_PER_MINUTE, PortalAuth } from './portal-auth';

const HOUR = 3600_000;

describe('portal sign-in', () => {
  let persistence: Persistence;
  let clock: ManualClock;
  let auth: PortalAuth;
  let owner: { accountId: string; id: string; email: string };

  before(async () => {
    persistence = await openSqlitePersistence({ path: ':memory:' });
    clock = new ManualClock(Date.UTC(2026, 11, 6));
    const logger = silentLogger();
    const keys = new ApiKeyAuthenticator({ store: persistence.identity, clock, logger });
    const identity = new IdentityService({ store: persistence.identity, namespaces: persistence.namespaces, clock, logger });
    const created = await identity.createAccount({ principal: bootstrapPrincipal(), operation: 'CreateAccount' }, { name: 'Acme', ownerEmail: 'Owner@Acme.test' });
    owner = { accountId: created.result.account.id, id: created.result.owner.id, email: created.result.owner.email };
    auth = new PortalAuth({ portal: persistence.portal, identity: persistence.identity, keys, clock, sessionTtlMs: 12 * HOUR });
    await auth.setPassword(owner.accountId, owner.id, owner.email, 'correct horse battery');
  });
  after(() => persistence.close());

  it('signs in with the password (email in any case), and the session authenticates as the user until it expires; expired sessions are pruned', async () => {
    const session = await auth.signIn('OWNER@acme.test', 'correct horse battery', undefined);
    assert.equal(session.expiresAt, clock.now() + 12 * HOUR);
    const caller = await auth.authenticate(`Bearer ${session.token}`);
    assert.deepEqual({ id: caller.principal.id, via: caller.via, role: caller.principal.role, accountId: caller.principal.accountId }, { id: owner.id, via: 'session', role: 'owner', accountId: owner.accountId });
    const stored = await persistence.portal.getSession(caller.sessionId as string);
    assert.ok(stored && !session.token.includes(stored.secretDigest), 'only a digest of the secret is stored');
    clock.advance(12 * HOUR);
    await assert.rejects(auth.authenticate(`Bearer ${session.token}`), (err: unknown) => err instanceof UnauthenticatedError && /expired/.test(err.message));
    assert.equal(await auth.pruneExpired(), 1);
    await assert.rejects(auth.authenticate(`Bearer ${session.token}`), (err: unknown) => err instanceof UnauthenticatedError && /sign in again/.test(err.message));
  });

  it('refuses a wrong password and an unknown email alike, then throttles guessing per email for a minute', async () => {
    const messages = new Set<string>();
    for (const [email, password] of [['owner@acme.test', 'wrong password!'], ['nobody@acme.test', 'correct horse battery']] as const) {
      await assert.rejects(auth.signIn(email, password, undefined), (err: unknown) => err instanceof UnauthenticatedError && messages.add(err.message) !== undefined);
    }
    assert.deepEqual([...messages], ['wrong email or password']);
    for (let i = 1; i < MAX_FAILED_SIGN_INS_PER_MINUTE; i++) await assert.rejects(auth.signIn('owner@acme.test', `wrong ${i}`, undefined), UnauthenticatedError);
    await assert.rejects(auth.signIn('owner@acme.test', 'correct horse battery', undefined), (err: unknown) => err instanceof UnauthenticatedError && /too many failed sign-ins/.test(err.message));
    clock.advance(60_000);
    await auth.signIn('owner@acme.test', 'correct horse battery', undefined);
  });

  it('keeps passwords between 12 and 256 characters, hashed with argon2id', async () => {
    await assert.rejects(auth.setPassword(owner.accountId, owner.id, owner.email, 'short'), InvalidArgumentError);
    await assert.rejects(auth.setPassword(owner.accountId, owner.id, owner.email, 'x'.repeat(257)), InvalidArgumentError);
    const login = await persistence.portal.getLogin(owner.accountId, owner.id);
    assert.match(login?.passwordHash ?? '', /^\$argon2id\$/);
    assert.equal(await auth.checkPassword(owner.accountId, owner.id, 'correct horse battery'), true);
  });

  it('refuses malformed credentials without echoing them', async () => {
    await assert.rejects(auth.authenticate(undefined), UnauthenticatedError);
    await assert.rejects(auth.authenticate('Basic abc'), (err: unknown) => err instanceof UnauthenticatedError && /Bearer/.test(err.message));
    await assert.rejects(auth.authenticate('Bearer hgs_secretsecret'), (err: unknown) => err instanceof UnauthenticatedError && !err.message.includes('secretsecret'));
  });
});
