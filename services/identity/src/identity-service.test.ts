/**
 * The identity domain on a real (in-memory SQLite) store: Temporal Cloud's rules for who may do
 * what, resource versions, audit records without secrets, the authenticator's cache and refusals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, ManualClock, NotFoundError, PermissionDeniedError, UnauthenticatedError, silentLogger } from '@hourglass/common';
import { openSqlitePersistence, type Persistence } from '@hourglass/persistence';
import { ApiKeyAuthenticator } from './authenticator';
import { IdentityService, type ActorContext } from './identity-service';
import { bootstrapPrincipal, type Principal } from './principal';

const DAY = 86_400_000;
let persistence: Persistence;
let clock: ManualClock;
let identity: IdentityService;
let keys: ApiKeyAuthenticator;
const op = (operation: string): ActorContext => ({ principal: bootstrapPrincipal(), operation });
const as = (principal: Principal, operation: string, extra: Partial<ActorContext> = {}): ActorContext => ({ principal, operation, ...extra });

/** An account with its owner's principal, authenticated through a real key. */
async function newAccount(name: string): Promise<{ accountId: string; owner: Principal; ownerToken: string }> {
  const created = await identity.createAccount(op('CreateAccount'), { name, ownerEmail: `owner@${name.toLowerCase()}.test` });
  const owner = await keys.authenticate(created.result.ownerKey.token);
  return { accountId: created.result.account.id, owner, ownerToken: created.result.ownerKey.token };
}

before(async () => {
  clock = new ManualClock(Date.UTC(2026, 11, 6));
  persistence = openSqlitePersistence({ path: ':memory:', clock });
  keys = new ApiKeyAuthenticator({ store: persistence.identity, clock, logger: silentLogger() });
  identity = new IdentityService({
    store: persistence.identity,
    namespaces: persistence.namespaces,
    clock,
    logger: silentLogger(),
    onAccountChanged: (id) => keys.forgetAccount(id),
    onApiKeyChanged: (id) => keys.forgetKey(id),
  });
});

after(async () => {
  await persistence.close();
});

describe('identity service', () => {
  it('the operator creates an account whose owner key authenticates as its owner', async () => {
    const { accountId, owner } = await newAccount('Acme');
    assert.match(accountId, /^[a-z][a-z0-9]{4}$/);
    assert.equal(owner.role, 'owner');
    assert.equal(owner.accountId, accountId);
    await assert.rejects(identity.createAccount(as(owner, 'CreateAccount'), { name: 'X', ownerEmail: 'x@x.test' }), PermissionDeniedError, 'an owner is not the operator');
  });

  it('namespaces are named <name>.<account>, need the developer role, and their creator administers them', async () => {
    const { accountId, owner } = await newAccount('Named');
    const created = await identity.createNamespace(as(owner, 'CreateNamespace'), { name: 'orders', retentionDays: 7 });
    assert.equal(created.result.name, `orders.${accountId}`);
    assert.equal(created.result.retentionMs, 7 * DAY);
    assert.equal(created.operation.state, 'fulfilled');
    await assert.rejects(identity.createNamespace(as(owner, 'CreateNamespace'), { name: 'orders' }), AlreadyExistsError);
    for (const bad of ['O', 'x', '1abc', 'ab_c', 'ends-', 'a'.repeat(40)]) {
      await assert.rejects(identity.createNamespace(as(owner, 'CreateNamespace'), { name: bad }), InvalidArgumentError, bad);
    }
    for (const days of [0, 91, 1.5]) {
      await assert.rejects(identity.createNamespace(as(owner, 'CreateNamespace'), { name: 'retention', retentionDays: days }), /retention must be a whole number of days from 1 to 90/);
    }
    const reader = await identity.createUser(as(owner, 'CreateUser'), { email: 'reader@named.test', role: 'read', namespaceAccess: new Map() });
    const readerKey = await identity.issueApiKey(op('IssueApiKey'), { accountId, ownerType: 'user', ownerId: reader.result.user.id, displayName: 'k' });
    const readerPrincipal = await keys.authenticate(readerKey.result.token);
    await assert.rejects(identity.createNamespace(as(readerPrincipal, 'CreateNamespace'), { name: 'nope' }), /needs the account role developer, admin or owner/);
    const dev = await identity.createUser(as(owner, 'CreateUser'), { email: 'dev@named.test', role: 'developer', namespaceAccess: new Map() });
    const devKey = await identity.issueApiKey(op('IssueApiKey'), { accountId, ownerType: 'user', ownerId: dev.result.user.id, displayName: 'k' });
    const devPrincipal = await keys.authenticate(devKey.result.token);
    const mine = await identity.createNamespace(as(devPrincipal, 'CreateNamespace'), { name: 'devs' });
    const refreshed = await keys.authenticate(devKey.result.token);
    assert.equal(refreshed.grants.get(mine.result.id), 'admin', 'the creating developer is its admin at once');
    assert.deepEqual((await identity.listNamespaces(as(refreshed, 'GetNamespaces'), { pageSize: 100 })).items.map((n) => n.name), [`devs.${accountId}`]);
  });

  it("another account's namespace is refused alike whether it exists or not; its own missing one is not found", async () => {
    const a = await newAccount('Isolated');
    const b = await newAccount('Other');
    const ns = (await identity.createNamespace(as(b.owner, 'CreateNamespace'), { name: 'secret' })).result;
    await assert.rejects(identity.getNamespace(as(a.owner, 'GetNamespace'), ns.name), PermissionDeniedError);
    await assert.rejects(identity.getNamespace(as(a.owner, 'GetNamespace'), `nothing.${b.accountId}`), PermissionDeniedError);
    await assert.rejects(identity.getNamespace(as(a.owner, 'GetNamespace'), `nothing.${a.accountId}`), NotFoundError);
    assert.ok(!(await identity.listNamespaces(as(a.owner, 'GetNamespaces'), { pageSize: 1000 })).items.some((n) => n.accountId !== a.accountId));
    await assert.rejects(identity.getUser(as(a.owner, 'GetUser'), b.owner.id), NotFoundError, "another account's user is not found");
  });

  it('a stale resource version is FAILED_PRECONDITION and changes nothing; the audit log records each change without secrets', async () => {
    const { owner } = await newAccount('Versions');
    const ns = (await identity.createNamespace(as(owner, 'CreateNamespace'), { name: 'ver', retentionDays: 3 })).result;
    const updated = await identity.updateNamespace(as(owner, 'UpdateNamespace'), ns.name, { retentionDays: 10 }, String(ns.resourceVersion));
    assert.equal(updated.result.resourceVersion, ns.resourceVersion + 1);
    await assert.rejects(identity.updateNamespace(as(owner, 'UpdateNamespace'), ns.name, { retentionDays: 20 }, String(ns.resourceVersion)), FailedPreconditionError);
    assert.equal((await identity.getNamespace(as(owner, 'GetNamespace'), ns.name)).retentionMs, 10 * DAY);
    await assert.rejects(identity.updateNamespace(as(owner, 'UpdateNamespace'), ns.name, {}, 'v7'), InvalidArgumentError);

    const key = await identity.createApiKey(as(owner, 'CreateApiKey', { xForwardedFor: '203.0.113.9' }), {
      ownerType: 'user',
      ownerId: owner.id,
      displayName: 'ci',
      description: '',
      expiresAt: clock.now() + 30 * DAY,
      disabled: false,
    });
    const audit = await identity.listAuditLogs(as(owner, 'GetAuditLogs'), { from: 0, to: clock.now() + 1 }, { pageSize: 100 });
    const operations = audit.items.map((r) => r.operation);
    assert.deepEqual(operations, ['CreateAccount', 'CreateNamespace', 'UpdateNamespace', 'CreateApiKey'], 'every change, oldest first; the refused update is not there');
    const keyRecord = audit.items.find((r) => r.operation === 'CreateApiKey');
    assert.equal(keyRecord?.xForwardedFor, '203.0.113.9');
    assert.equal(keyRecord?.principal.id, owner.id);
    const secret = key.result.token.slice(25); // after hgk_<20-character key id>_
    for (const record of audit.items) assert.ok(!record.details.includes(secret) && !record.details.includes(key.result.token), `${record.operation} details hold no secret`);
    const stored = await persistence.identity.getApiKey(key.result.key.id);
    assert.ok(stored && !stored.secretHash.includes(secret), 'only a hash is stored');
  });

  it('only owners and admins manage users, and only an owner makes or unmakes owners; the last owner stays', async () => {
    const { owner } = await newAccount('People');
    const admin = (await identity.createUser(as(owner, 'CreateUser'), { email: 'Admin@People.test', role: 'admin', namespaceAccess: new Map() })).result.user;
    assert.equal(admin.email, 'admin@people.test', 'emails are kept lower-cased');
    await assert.rejects(identity.createUser(as(owner, 'CreateUser'), { email: 'ADMIN@people.test', role: 'read', namespaceAccess: new Map() }), AlreadyExistsError);
    await assert.rejects(identity.createUser(as(owner, 'CreateUser'), { email: 'not-an-email', role: 'read', namespaceAccess: new Map() }), /is not an email address/);
    await assert.rejects(identity.createUser(as(owner, 'CreateUser'), { email: 'x@people.test', role: 'emperor' as never, namespaceAccess: new Map() }), /unknown account role "emperor"/);
    const adminKey = await identity.issueApiKey(op('IssueApiKey'), { accountId: owner.accountId, ownerType: 'user', ownerId: admin.id, displayName: 'k' });
    const adminPrincipal = await keys.authenticate(adminKey.result.token);
    await assert.rejects(identity.createUser(as(adminPrincipal, 'CreateUser'), { email: 'boss@people.test', role: 'owner', namespaceAccess: new Map() }), /only an owner may/);
    await assert.rejects(identity.deleteUser(as(owner, 'DeleteUser'), owner.id, ''), /last owner/);
    const deleted = await identity.deleteUser(as(owner, 'DeleteUser'), admin.id, '');
    assert.equal(deleted.result.deleted, true);
    await assert.rejects(keys.authenticate(adminKey.result.token), UnauthenticatedError, "a deleted user's keys stop working");
  });

  it('everyone manages its own keys; owners and admins every key; no one creates keys for another user', async () => {
    const { owner, accountId } = await newAccount('Keys');
    const dev = (await identity.createUser(as(owner, 'CreateUser'), { email: 'dev@keys.test', role: 'developer', namespaceAccess: new Map() })).result.user;
    const devPrincipal = await keys.authenticate((await identity.issueApiKey(op('IssueApiKey'), { accountId, ownerType: 'user', ownerId: dev.id, displayName: 'k' })).result.token);
    const spec = { ownerType: 'user' as const, displayName: 'mine', description: '', expiresAt: clock.now() + DAY, disabled: false };
    await identity.createApiKey(as(devPrincipal, 'CreateApiKey'), { ...spec, ownerId: dev.id });
    await assert.rejects(identity.createApiKey(as(devPrincipal, 'CreateApiKey'), { ...spec, ownerId: owner.id }), /create API keys for another user/);
    await assert.rejects(identity.createApiKey(as(owner, 'CreateApiKey'), { ...spec, ownerId: dev.id }), /create API keys for another user/);
    await assert.rejects(identity.createApiKey(as(devPrincipal, 'CreateApiKey'), { ...spec, ownerId: dev.id, expiresAt: undefined }), /needs an expiry time/);
    await assert.rejects(identity.createApiKey(as(devPrincipal, 'CreateApiKey'), { ...spec, ownerId: dev.id, expiresAt: clock.now() + 800 * DAY }), /at most two years/);
    const devKeys = await identity.listApiKeys(as(devPrincipal, 'GetApiKeys'), { pageSize: 100 });
    assert.ok(devKeys.items.every((k) => k.ownerId === dev.id), 'a developer lists its own keys');
    const all = await identity.listApiKeys(as(owner, 'GetApiKeys'), { pageSize: 100 });
    assert.ok(all.items.some((k) => k.ownerId === dev.id) && all.items.some((k) => k.ownerId === owner.id), 'an owner lists every key');
    const ownerKey = all.items.find((k) => k.ownerId === owner.id);
    await assert.rejects(identity.deleteApiKey(as(devPrincipal, 'DeleteApiKey'), ownerKey?.id as string, ''), /belongs to another identity/);
  });

  it('namespace-scoped service accounts are managed by that namespace admins', async () => {
    const { owner, accountId } = await newAccount('Scoped');
    const ns = (await identity.createNamespace(as(owner, 'CreateNamespace'), { name: 'team' })).result;
    const other = (await identity.createNamespace(as(owner, 'CreateNamespace'), { name: 'elsewhere' })).result;
    const lead = (await identity.createUser(as(owner, 'CreateUser'), { email: 'lead@scoped.test', role: 'read', namespaceAccess: new Map([[ns.name, 'admin']]) })).result.user;
    const leadPrincipal = await keys.authenticate((await identity.issueApiKey(op('IssueApiKey'), { accountId, ownerType: 'user', ownerId: lead.id, displayName: 'k' })).result.token);
    const sa = await identity.createServiceAccount(as(leadPrincipal, 'CreateServiceAccount'), { name: 'worker', description: 'runs workers', scoped: { namespace: ns.name, permission: 'write' } });
    assert.equal(sa.result.scopedNamespace?.id, ns.id);
    await assert.rejects(identity.createServiceAccount(as(leadPrincipal, 'CreateServiceAccount'), { name: 'w2', description: '', scoped: { namespace: other.name, permission: 'write' } }), PermissionDeniedError);
    await assert.rejects(identity.createServiceAccount(as(leadPrincipal, 'CreateServiceAccount'), { name: 'acct', description: '', role: 'developer' }), /account-level service accounts/);
    const key = await identity.createApiKey(as(leadPrincipal, 'CreateApiKey'), {
      ownerType: 'serviceAccount',
      ownerId: sa.result.serviceAccount.id,
      displayName: 'worker key',
      description: '',
      expiresAt: clock.now() + DAY,
      disabled: false,
    });
    const worker = await keys.authenticate(key.result.token);
    assert.equal(worker.type, 'serviceAccount');
    assert.equal(worker.role, undefined);
    assert.equal(worker.grants.get(ns.id), 'write');
  });

  it('a disabled, deleted or expired key is refused within the recheck window; a suspended account is refused with its reason', async () => {
    const { owner, accountId, ownerToken } = await newAccount('Revoke');
    const created = await identity.createApiKey(as(owner, 'CreateApiKey'), { ownerType: 'user', ownerId: owner.id, displayName: 'short', description: '', expiresAt: clock.now() + 60_000, disabled: false });
    // A second server: it learns of changes only by re-reading, at most 5 s later.
    const elsewhere = new ApiKeyAuthenticator({ store: persistence.identity, clock, logger: silentLogger() });
    assert.equal((await elsewhere.authenticate(created.result.token)).id, owner.id);
    await identity.updateApiKey(as(owner, 'UpdateApiKey'), created.result.key.id, { displayName: 'short', description: '', disabled: true, expiresAt: created.result.key.expiresAt }, '');
    await assert.rejects(keys.authenticate(created.result.token), /is disabled/, 'at once on the server that changed it');
    clock.advance(5_001);
    await assert.rejects(elsewhere.authenticate(created.result.token), /is disabled/, 'within 5 s elsewhere');
    const current = await persistence.identity.getApiKey(created.result.key.id);
    await identity.updateApiKey(as(owner, 'UpdateApiKey'), created.result.key.id, { displayName: 'short', description: '', disabled: false, expiresAt: current?.expiresAt }, '');
    clock.advance(60_000);
    await assert.rejects(keys.authenticate(created.result.token), /expired at/);
    await identity.setAccountState(op('SetAccountState'), accountId, 'suspended', 'unpaid invoice');
    const suspended = await keys.authenticate(ownerToken);
    await assert.rejects(identity.getAccount(as(suspended, 'GetAccount')), /account .* is suspended: unpaid invoice/);
    await identity.setAccountState(op('SetAccountState'), accountId, 'deleted');
    await assert.rejects(keys.authenticate(ownerToken), UnauthenticatedError);
  });

  it('refuses unknown keys and wrong secrets alike, and throttles guessing', async () => {
    const { ownerToken } = await newAccount('Guess');
    const keyId = ownerToken.slice(4, 24);
    const wrong = `hgk_${keyId}_${'A'.repeat(43)}`;
    await assert.rejects(keys.authenticate(`hgk_${'b'.repeat(20)}_${'A'.repeat(43)}`), /^UnauthenticatedError: invalid API key$/);
    const fresh = new ApiKeyAuthenticator({ store: persistence.identity, clock, logger: silentLogger(), maxFailuresPerMinute: 3 });
    for (let i = 0; i < 3; i++) await assert.rejects(fresh.authenticate(wrong), /invalid API key/);
    await assert.rejects(fresh.authenticate(wrong), /too many failed attempts/);
    await assert.rejects(fresh.authenticate(ownerToken), /too many failed attempts/, 'even the right secret waits out the minute');
    clock.advance(60_001);
    assert.ok(await fresh.authenticate(ownerToken));
  });
});
