import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlreadyExistsError, InvalidArgumentError, InvariantViolationError } from '@hourglass/common';
import { ConditionFailedError } from '../errors';
import type {
  AccountRecord,
  ApiKeyRecord,
  AsyncOperationRecord,
  AuditRecord,
  IdentityPage,
  IdentityWrite,
  NamespaceGrantRecord,
  ServiceAccountRecord,
  UserRecord,
  VersionedRecord,
} from '../identity-types';
import type { ListPage, Persistence } from '../types';
import type { SavedViewOwner, SavedViewRecord } from '../portal-types';
import { T0, namespace, withStore } from './fixtures';

/** Builders of identity records; values are fixed so failures are reproducible. */

export function account(id: string, overrides: Partial<AccountRecord> = {}): AccountRecord {
  return { id, resourceVersion: 1, createdAt: T0, updatedAt: T0, name: `n${id}`, state: 'active', stateReason: '', ...overrides };
}

export function user(accountId: string, id: string, email: string, overrides: Partial<UserRecord> = {}): UserRecord {
  return { id, resourceVersion: 1, createdAt: T0, updatedAt: T0, accountId, email, role: 'developer', deleted: false, ...overrides };
}

export function serviceAccount(accountId: string, id: string, overrides: Partial<ServiceAccountRecord> = {}): ServiceAccountRecord {
  return {
    id,
    resourceVersion: 1,
    createdAt: T0,
    updatedAt: T0,
    accountId,
    name: `robot ${id}`,
    description: '',
    role: 'read',
    scopedNamespaceId: undefined,
    deleted: false,
    ...overrides,
  };
}

export function apiKey(id: string, accountId: string, ownerId: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id,
    resourceVersion: 1,
    createdAt: T0,
    updatedAt: T0,
    accountId,
    ownerType: 'user',
    ownerId,
    displayName: `key ${id}`,
    description: '',
    secretHash: `scrypt$16384$8$1$salt-of-${id}$SECRET-HASH-OF-${id}`,
    expiresAt: undefined,
    disabled: false,
    deleted: false,
    lastUsedAt: undefined,
    ...overrides,
  };
}

export function grant(
  accountId: string,
  principalType: NamespaceGrantRecord['principalType'],
  principalId: string,
  namespaceId: string,
  permission: NamespaceGrantRecord['permission'],
): NamespaceGrantRecord {
  return { accountId, principalType, principalId, namespaceId, permission };
}

export function audit(id: string, accountId: string, time: number, overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id,
    accountId,
    time,
    operation: 'CreateUser',
    principal: { type: 'user', id: 'u-admin', name: 'admin@example.com', apiKeyId: 'k-admin' },
    status: 'OK',
    details: JSON.stringify({ audit: id }),
    xForwardedFor: '10.0.0.1',
    asyncOperationId: '',
    ...overrides,
  };
}

export function operation(accountId: string, id: string, overrides: Partial<AsyncOperationRecord> = {}): AsyncOperationRecord {
  return {
    id,
    accountId,
    operationType: 'CreateNamespace',
    state: 'fulfilled',
    input: '{}',
    failureReason: '',
    startedAt: T0,
    finishedAt: T0 + 1,
    ...overrides,
  };
}

/** The next version of a record, as a writer that read `record` writes it. */
export function bump<T extends VersionedRecord>(record: T, changes: Partial<T> = {}): T {
  return { ...record, ...changes, resourceVersion: record.resourceVersion + 1, updatedAt: record.updatedAt + 1 };
}

/** A write creating the row of `record`. */
function created(record: AccountRecord | UserRecord | ServiceAccountRecord | ApiKeyRecord): IdentityWrite {
  return { kind: kindOf(record), record } as IdentityWrite;
}

/** A write replacing the row the writer read as `read` with `next`. */
function updated<T extends AccountRecord | UserRecord | ServiceAccountRecord | ApiKeyRecord>(read: T, next: T): IdentityWrite {
  return { kind: kindOf(next), record: next, expectedVersion: read.resourceVersion } as IdentityWrite;
}

function kindOf(record: AccountRecord | UserRecord | ServiceAccountRecord | ApiKeyRecord): IdentityWrite['kind'] {
  if ('secretHash' in record) return 'apiKey';
  if ('email' in record) return 'user';
  if ('scopedNamespaceId' in record) return 'serviceAccount';
  return 'account';
}

const EVER = { from: 0, to: Number.MAX_SAFE_INTEGER };

/**
 * The behaviour every identity store must have, as node:test tests. Each backend's test file
 * calls this once per configuration.
 *
 * `open` must return a store over an EMPTY database on every call: each test opens its own
 * and closes it at the end.
 *
 * @example
 * runIdentityContract('sqlite :memory:', async () => openSqlitePersistence({ path: ':memory:' }));
 */
export function runIdentityContract(name: string, open: () => Promise<Persistence>): void {
  const test = (title: string, body: (p: Persistence) => Promise<void>): void => {
    it(title, () => withStore(open, body));
  };

  /** Everything a failed commit of the tests could have written, to prove it wrote nothing. */
  async function everything(p: Persistence): Promise<unknown> {
    const page = { pageSize: 1000 };
    const accounts = await p.identity.listAccounts(page);
    const perAccount = [];
    for (const accountId of ['acct1', 'acct2', 'acct3']) {
      perAccount.push({
        account: await p.identity.getAccount(accountId),
        users: await p.identity.listUsers(accountId, page),
        serviceAccounts: await p.identity.listServiceAccounts(accountId, page),
        apiKeys: await p.identity.listApiKeys(accountId, {}, page),
        namespaces: await p.identity.listNamespacesOfAccount(accountId, page),
        audit: await p.identity.listAudit(accountId, EVER, page),
        operations: await Promise.all(['op-1', 'op-2'].map((id) => p.identity.getOperation(accountId, id))),
        grants: await p.identity.listGrantsOfPrincipal(accountId, 'user', 'u-1'),
      });
    }
    return { accounts, perAccount, grantsOnA: await p.identity.listGrantsOnNamespace('ns-a'), namespaces: await p.namespaces.listNamespaces(page) };
  }

  describe(`${name}: portal sign-in store contract`, () => {
    test('passwords by email across accounts, replaced in place; sessions read, deleted, expired in bounded batches; a user leaving takes its sessions', async (p) => {
      const login = (accountId: string, userId: string, hash: string) => ({ email: 'ann@example.com', accountId, userId, passwordHash: hash, updatedAt: T0 });
      await p.portal.setLogin(login('acct2', 'u-2', 'h2'));
      await p.portal.setLogin(login('acct1', 'u-1', 'h1'));
      assert.deepEqual(await p.portal.listLoginsByEmail('ann@example.com', 10), [login('acct1', 'u-1', 'h1'), login('acct2', 'u-2', 'h2')]);
      assert.deepEqual(await p.portal.listLoginsByEmail('ann@example.com', 1), [login('acct1', 'u-1', 'h1')]);
      assert.deepEqual(await p.portal.listLoginsByEmail('bob@example.com', 10), []);
      await p.portal.setLogin({ ...login('acct1', 'u-1', 'h1b'), updatedAt: T0 + 1 });
      assert.deepEqual(await p.portal.getLogin('acct1', 'u-1'), { ...login('acct1', 'u-1', 'h1b'), updatedAt: T0 + 1 });
      assert.equal(await p.portal.getLogin('acct1', 'u-9'), undefined);

      const session = (id: string, userId: string, expiresAt: number) => ({ id, accountId: 'acct1', userId, secretDigest: `d-${id}`, createdAt: T0, expiresAt });
      await p.portal.createSession(session('s1', 'u-1', T0 + 10));
      await p.portal.createSession(session('s2', 'u-1', T0 + 20));
      await p.portal.createSession(session('s3', 'u-3', T0 + 5));
      await p.portal.createSession(session('s4', 'u-3', T0 + 6));
      assert.deepEqual(await p.portal.getSession('s1'), session('s1', 'u-1', T0 + 10));
      await assert.rejects(p.portal.createSession(session('s1', 'u-1', T0)), 'a session id is never reused');
      assert.equal(await p.portal.deleteExpiredSessions(T0 + 15, 1), 1);
      assert.equal(await p.portal.deleteExpiredSessions(T0 + 15, 10), 2);
      assert.equal(await p.portal.getSession('s2') !== undefined, true);
      await p.portal.deleteSession('s2');
      assert.equal(await p.portal.getSession('s2'), undefined);
      await p.portal.createSession(session('s5', 'u-1', T0 + 100));
      await p.portal.deleteLogin('acct1', 'u-1');
      assert.equal(await p.portal.getLogin('acct1', 'u-1'), undefined);
      assert.equal(await p.portal.getSession('s5'), undefined);
      assert.deepEqual(await p.portal.listLoginsByEmail('ann@example.com', 10), [login('acct2', 'u-2', 'h2')]);
    });

    const ANN = { type: 'user', id: 'u-ann' } as const;
    const BOB = { type: 'user', id: 'u-bob' } as const;
    const view = (namespaceId: string, owner: SavedViewOwner, name: string, query: string): SavedViewRecord => ({
      namespaceId,
      owner,
      name,
      query,
      savedBy: 'ann@example.com',
      updatedAt: T0,
    });

    test('saved views: per namespace and owner, by name, replaced in place, deleted once', async (p) => {
      await p.portal.saveView(view('ns-a', ANN, 'failed', "ExecutionStatus = 'Failed'"));
      await p.portal.saveView(view('ns-a', ANN, 'all orders', "WorkflowType = 'order'"));
      await p.portal.saveView(view('ns-b', ANN, 'failed', 'x'));
      await p.portal.saveView({ ...view('ns-a', ANN, 'failed', "ExecutionStatus = 'Failed' AND WorkflowType = 'order'"), savedBy: 'ann@new.example.com', updatedAt: T0 + 1 });
      assert.deepEqual(await p.portal.listViews('ns-a', ANN, 10), [
        view('ns-a', ANN, 'all orders', "WorkflowType = 'order'"),
        { ...view('ns-a', ANN, 'failed', "ExecutionStatus = 'Failed' AND WorkflowType = 'order'"), savedBy: 'ann@new.example.com', updatedAt: T0 + 1 },
      ]);
      assert.equal((await p.portal.listViews('ns-a', ANN, 1)).length, 1);
      assert.equal(await p.portal.deleteView('ns-a', ANN, 'failed'), true);
      assert.equal(await p.portal.deleteView('ns-a', ANN, 'failed'), false);
      assert.deepEqual(await p.portal.listViews('ns-b', ANN, 10), [view('ns-b', ANN, 'failed', 'x')]);
    });

    test('saved views: two owners keep views of the same name apart (lists, replaces and deletes)', async (p) => {
      // A service account whose id happens to equal a user's is still another owner.
      const ROBOT = { type: 'serviceAccount', id: 'u-ann' } as const;
      await p.portal.saveView(view('ns-a', ANN, 'failed', 'ann'));
      await p.portal.saveView({ ...view('ns-a', BOB, 'failed', 'bob'), savedBy: 'bob@example.com' });
      await p.portal.saveView({ ...view('ns-a', ROBOT, 'failed', 'robot'), savedBy: 'robot' });
      await p.portal.saveView({ ...view('ns-a', BOB, 'mine', 'bob only'), savedBy: 'bob@example.com' });
      assert.deepEqual(await p.portal.listViews('ns-a', ANN, 10), [view('ns-a', ANN, 'failed', 'ann')]);
      assert.deepEqual(await p.portal.listViews('ns-a', ROBOT, 10), [{ ...view('ns-a', ROBOT, 'failed', 'robot'), savedBy: 'robot' }]);
      assert.deepEqual((await p.portal.listViews('ns-a', BOB, 10)).map((v) => [v.name, v.query]), [['failed', 'bob'], ['mine', 'bob only']]);
      assert.deepEqual(await p.portal.listViews('ns-a', { type: 'user', id: 'u-nobody' }, 10), []);

      // Bob replacing his "failed" leaves Ann's as it was.
      await p.portal.saveView({ ...view('ns-a', BOB, 'failed', 'bob v2'), savedBy: 'bob@example.com', updatedAt: T0 + 5 });
      assert.deepEqual(await p.portal.listViews('ns-a', ANN, 10), [view('ns-a', ANN, 'failed', 'ann')]);

      // Deleting is per owner too: Ann has no "mine", and deleting her "failed" keeps Bob's and the robot's.
      assert.equal(await p.portal.deleteView('ns-a', ANN, 'mine'), false);
      assert.equal(await p.portal.deleteView('ns-a', ANN, 'failed'), true);
      assert.deepEqual(await p.portal.listViews('ns-a', ANN, 10), []);
      assert.deepEqual((await p.portal.listViews('ns-a', BOB, 10)).map((v) => [v.name, v.query]), [['failed', 'bob v2'], ['mine', 'bob only']]);
      assert.equal((await p.portal.listViews('ns-a', ROBOT, 10)).length, 1);
    });
  });

  describe(`${name}: identity store contract`, () => {
    describe('commit and read', () => {
      test('creates every kind of row in one commit and reads each back as written', async (p) => {
        const acct = account('acct1');
        const alice = user('acct1', 'u-1', 'Alice@Example.com', { role: 'admin' });
        const robot = serviceAccount('acct1', 'sa-1', { description: 'deploys' });
        const scoped = serviceAccount('acct1', 'sa-2', { role: undefined, scopedNamespaceId: 'ns-a' });
        const key = apiKey('k-1', 'acct1', 'u-1', { expiresAt: T0 + 86_400_000 });
        const robotKey = apiKey('k-2', 'acct1', 'sa-1', { ownerType: 'serviceAccount' });
        const operatorKey = apiKey('k-op', '', '', { ownerType: 'operator' });
        const ns = namespace('orders.nacct1', { id: 'ns-a', accountId: 'acct1', limits: { rps: 100, aps: 50, maxConcurrentPolls: 10 } });
        const record = audit('audit-1', 'acct1', T0, { asyncOperationId: 'op-1' });
        const op = operation('acct1', 'op-1');
        await p.identity.commit({
          writes: [acct, alice, robot, scoped, key, robotKey, operatorKey].map(created),
          grants: [{ set: grant('acct1', 'user', 'u-1', 'ns-a', 'write') }, { set: grant('acct1', 'serviceAccount', 'sa-2', 'ns-a', 'admin') }],
          namespace: { record: ns },
          audit: record,
          operation: op,
        });

        assert.deepEqual(await p.identity.getAccount('acct1'), acct);
        assert.deepEqual(await p.identity.getUser('acct1', 'u-1'), alice);
        assert.deepEqual(await p.identity.getUserByEmail('acct1', 'alice@example.COM'), alice, 'emails are found whatever their case');
        assert.deepEqual(await p.identity.getServiceAccount('acct1', 'sa-1'), robot);
        assert.deepEqual(await p.identity.getServiceAccount('acct1', 'sa-2'), scoped);
        assert.deepEqual(await p.identity.getApiKey('k-1'), key);
        assert.deepEqual(await p.identity.getApiKey('k-2'), robotKey);
        assert.deepEqual(await p.identity.getApiKey('k-op'), operatorKey);
        assert.deepEqual(await p.identity.listGrantsOnNamespace('ns-a'), [
          grant('acct1', 'serviceAccount', 'sa-2', 'ns-a', 'admin'),
          grant('acct1', 'user', 'u-1', 'ns-a', 'write'),
        ]);
        assert.deepEqual(await p.namespaces.getNamespaceById('ns-a'), ns);
        assert.deepEqual(await p.namespaces.getNamespaceByName('orders.nacct1'), ns);
        assert.deepEqual(await p.identity.listNamespacesOfAccount('acct1', { pageSize: 10 }), { items: [ns] });
        assert.deepEqual(await p.identity.listAudit('acct1', EVER, { pageSize: 10 }), { items: [record] });
        assert.deepEqual(await p.identity.getOperation('acct1', 'op-1'), op);

        assert.equal(await p.identity.getAccount('acct2'), undefined);
        assert.equal(await p.identity.getUser('acct2', 'u-1'), undefined, 'users belong to their account');
        assert.equal(await p.identity.getUserByEmail('acct2', 'alice@example.com'), undefined);
        assert.equal(await p.identity.getServiceAccount('acct2', 'sa-1'), undefined);
        assert.equal(await p.identity.getApiKey('k-9'), undefined);
        assert.equal(await p.identity.getOperation('acct2', 'op-1'), undefined, 'operations belong to their account');
      });

      test('an update carrying the version read replaces the row; deleted rows stay readable by id', async (p) => {
        const acct = account('acct1');
        const alice = user('acct1', 'u-1', 'alice@example.com');
        const key = apiKey('k-1', 'acct1', 'u-1');
        await p.identity.commit({ writes: [acct, alice, key].map(created) });

        const suspended = bump(acct, { state: 'suspended', stateReason: 'unpaid invoice' });
        const renamed = bump(alice, { email: 'alice@new.example.com', role: 'owner' });
        const disabled = bump(key, { disabled: true, expiresAt: T0 + 5 });
        await p.identity.commit({ writes: [updated(acct, suspended), updated(alice, renamed), updated(key, disabled)] });
        assert.deepEqual(await p.identity.getAccount('acct1'), suspended);
        assert.deepEqual(await p.identity.getUser('acct1', 'u-1'), renamed);
        assert.equal(await p.identity.getUserByEmail('acct1', 'alice@example.com'), undefined, 'the old email is free');
        assert.deepEqual(await p.identity.getUserByEmail('acct1', 'ALICE@new.example.com'), renamed);
        assert.deepEqual(await p.identity.getApiKey('k-1'), disabled);

        const gone = bump(renamed, { deleted: true });
        await p.identity.commit({ writes: [updated(renamed, gone)] });
        assert.deepEqual(await p.identity.getUser('acct1', 'u-1'), gone, 'kept for the audit trail');
        assert.equal(await p.identity.getUserByEmail('acct1', 'alice@new.example.com'), undefined, 'deleted users are not found by email');
      });

      test('a stale version fails the whole commit with ConditionFailedError, and nothing of it is written', async (p) => {
        const alice = user('acct1', 'u-1', 'alice@example.com');
        await p.identity.commit({ writes: [created(account('acct1')), created(alice)] });
        const v2 = bump(alice, { role: 'admin' });
        await p.identity.commit({ writes: [updated(alice, v2)] });
        const before = await everything(p);

        // A writer that read version 1: everything in its commit must be undone, including the rows
        // written before the stale one, its grants, namespace, audit record and operation.
        const err = await rejection(
          p.identity.commit({
            writes: [created(account('acct2')), created(user('acct1', 'u-2', 'bob@example.com')), updated(alice, bump(alice, { role: 'read' }))],
            grants: [{ set: grant('acct1', 'user', 'u-1', 'ns-a', 'admin') }],
            namespace: { record: namespace('orders', { id: 'ns-a', accountId: 'acct1' }) },
            audit: audit('audit-1', 'acct1', T0),
            operation: operation('acct1', 'op-1'),
          }),
          ConditionFailedError,
        );
        assert.equal(err.message, 'user u-1: resource version is 2, the write expected 1');
        assert.deepEqual(await everything(p), before);
        assert.deepEqual(await p.identity.getUser('acct1', 'u-1'), v2);
      });

      test('a version given for a row that does not exist is ConditionFailedError', async (p) => {
        const ghost = serviceAccount('acct1', 'sa-9');
        const err = await rejection(p.identity.commit({ writes: [updated(ghost, bump(ghost))], audit: audit('audit-1', 'acct1', T0) }), ConditionFailedError);
        assert.equal(err.message, 'service account sa-9: it does not exist, the write expected resource version 1');
        assert.equal(await p.identity.getServiceAccount('acct1', 'sa-9'), undefined);
        assert.deepEqual(await p.identity.listAudit('acct1', EVER, { pageSize: 10 }), { items: [] });
      });

      test('a stale API key write names the key, never its secret hash', async (p) => {
        const key = apiKey('k-1', 'acct1', 'u-1');
        await p.identity.commit({ writes: [created(key)] });
        await p.identity.commit({ writes: [updated(key, bump(key, { displayName: 'renamed' }))] });
        const err = await rejection(p.identity.commit({ writes: [updated(key, bump(key, { disabled: true }))] }), ConditionFailedError);
        assert.equal(err.message, 'API key k-1: resource version is 2, the write expected 1');
        assert.ok(!err.message.includes('SECRET-HASH') && !String(err.stack).includes('SECRET-HASH'));
        const duplicate = await rejection(p.identity.commit({ writes: [created(apiKey('k-1', 'acct1', 'u-1'))] }), AlreadyExistsError);
        assert.ok(!duplicate.message.includes('SECRET-HASH'), duplicate.message);
      });

      test('creating a row that exists is AlreadyExistsError naming the kind and id, and writes nothing', async (p) => {
        const acct = account('acct1');
        await p.identity.commit({ writes: [created(acct), created(user('acct1', 'u-1', 'alice@example.com')), created(serviceAccount('acct1', 'sa-1'))] });
        const before = await everything(p);
        const cases: [IdentityWrite, string][] = [
          [created(account('acct1', { name: 'other' })), 'account acct1 already exists'],
          [created(user('acct1', 'u-1', 'someone.else@example.com')), 'user u-1 already exists'],
          [created(serviceAccount('acct1', 'sa-1')), 'service account sa-1 already exists'],
        ];
        for (const [write, message] of cases) {
          const err = await rejection(
            p.identity.commit({ writes: [created(account('acct2')), write], audit: audit('audit-1', 'acct1', T0), operation: operation('acct1', 'op-1') }),
            AlreadyExistsError,
          );
          assert.equal(err.message, message);
          assert.deepEqual(await everything(p), before, message);
        }
        assert.deepEqual(await p.identity.getAccount('acct1'), acct);
      });

      test('a new record not at version 1, or an update not at the version read plus one, is InvariantViolationError', async (p) => {
        const acct = account('acct1');
        const tooNew = await rejection(p.identity.commit({ writes: [created({ ...acct, resourceVersion: 2 })] }), InvariantViolationError);
        assert.equal(tooNew.message, 'account acct1: the new record has resource version 2, expected 1 (a new row starts at 1)');
        await p.identity.commit({ writes: [created(acct)] });
        const same = await rejection(p.identity.commit({ writes: [{ kind: 'account', record: { ...acct, state: 'suspended' }, expectedVersion: 1 }] }), InvariantViolationError);
        assert.equal(same.message, 'account acct1: the new record has resource version 1, expected 2 (the version read, 1, plus one)');
        await rejection(p.identity.commit({ writes: [{ kind: 'account', record: { ...acct, resourceVersion: 3 }, expectedVersion: 1 }] }), InvariantViolationError);
        assert.deepEqual(await p.identity.getAccount('acct1'), acct);
      });

      test('a row written twice in one commit, or an empty id, is InvalidArgumentError', async (p) => {
        const alice = user('acct1', 'u-1', 'alice@example.com');
        const twice = await rejection(p.identity.commit({ writes: [created(alice), created({ ...alice, email: 'other@example.com' })] }), InvalidArgumentError);
        assert.equal(twice.message, 'user u-1 is written twice in one commit');
        await rejection(p.identity.commit({ writes: [created(account(''))] }), InvalidArgumentError);
        await rejection(p.identity.commit({ writes: [created(user('acct1', 'u-2', ''))] }), InvalidArgumentError);
        await rejection(p.identity.commit({ writes: [], audit: audit('', 'acct1', T0) }), InvalidArgumentError);
        assert.equal(await p.identity.getUser('acct1', 'u-1'), undefined);
      });
    });

    describe('uniqueness', () => {
      test('emails are unique per account among users not deleted, compared case-insensitively', async (p) => {
        const alice = user('acct1', 'u-1', 'alice@example.com');
        const bob = user('acct1', 'u-3', 'bob@example.com');
        await p.identity.commit({ writes: [created(alice), created(bob)] });

        const taken = await rejection(
          p.identity.commit({ writes: [created(user('acct1', 'u-2', 'ALICE@example.com'))], audit: audit('audit-1', 'acct1', T0) }),
          AlreadyExistsError,
        );
        assert.equal(taken.message, 'user ALICE@example.com already exists in account acct1');
        assert.equal(await p.identity.getUser('acct1', 'u-2'), undefined);
        assert.deepEqual(await p.identity.listAudit('acct1', EVER, { pageSize: 10 }), { items: [] });

        await p.identity.commit({ writes: [created(user('acct2', 'u-2', 'alice@example.com'))] });
        assert.equal((await p.identity.getUserByEmail('acct2', 'Alice@Example.com'))?.id, 'u-2', 'another account may have the same email');

        const renamed = await rejection(p.identity.commit({ writes: [updated(bob, bump(bob, { email: 'Alice@Example.COM' }))] }), AlreadyExistsError);
        assert.equal(renamed.message, 'user Alice@Example.COM already exists in account acct1');
        assert.deepEqual(await p.identity.getUser('acct1', 'u-3'), bob);

        // Same email, another case, on the user's own row: not a collision.
        const recased = bump(alice, { email: 'Alice@Example.com' });
        await p.identity.commit({ writes: [updated(alice, recased)] });

        // Deleting a user frees its email; taking it back needs it to be free again.
        const deleted = bump(recased, { deleted: true });
        await p.identity.commit({ writes: [updated(recased, deleted)] });
        const successor = user('acct1', 'u-4', 'alice@EXAMPLE.com');
        await p.identity.commit({ writes: [created(successor)] });
        assert.deepEqual(await p.identity.getUserByEmail('acct1', 'alice@example.com'), successor);
        await rejection(p.identity.commit({ writes: [updated(deleted, bump(deleted, { deleted: false }))] }), AlreadyExistsError);
        assert.deepEqual(await p.identity.getUser('acct1', 'u-1'), deleted);
      });

      test('API key ids are unique across accounts', async (p) => {
        const key = apiKey('k-1', 'acct1', 'u-1');
        await p.identity.commit({ writes: [created(key)] });
        const err = await rejection(p.identity.commit({ writes: [created(apiKey('k-1', 'acct2', 'u-7'))] }), AlreadyExistsError);
        assert.equal(err.message, 'API key k-1 already exists');
        assert.deepEqual(await p.identity.getApiKey('k-1'), key);
        assert.deepEqual(await p.identity.listApiKeys('acct2', {}, { pageSize: 10 }), { items: [] });
      });

      test('a namespace name or id already taken is AlreadyExistsError with NamespaceAlreadyExistsFailure, and nothing is written', async (p) => {
        await p.namespaces.createNamespace(namespace('orders', { accountId: 'acct1' }));
        const before = await everything(p);
        for (const [record, message] of [
          [namespace('orders', { id: 'another-id', accountId: 'acct2' }), 'namespace orders already exists'],
          [namespace('billing', { id: 'id-orders', accountId: 'acct2' }), 'namespace id id-orders already exists'],
        ] as const) {
          const err = await rejection(
            p.identity.commit({ writes: [created(account('acct2'))], namespace: { record }, audit: audit('audit-1', 'acct2', T0), operation: operation('acct2', 'op-1') }),
            AlreadyExistsError,
          );
          assert.equal(err.message, message);
          assert.deepEqual(err.detail, { type: 'NamespaceAlreadyExistsFailure' });
          assert.deepEqual(await everything(p), before);
        }
      });

      test('a namespace replace is conditional on the updatedAt the writer read; the NamespaceStore keeps working', async (p) => {
        const created1 = namespace('orders', { id: 'ns-a', accountId: 'acct1' });
        await p.identity.commit({ writes: [], namespace: { record: created1 } });
        const limited = { ...created1, limits: { rps: 5 }, resourceVersion: 2, updatedAt: T0 + 1 };
        await p.identity.commit({ writes: [], namespace: { record: limited, expectedUpdatedAt: T0 } });
        assert.deepEqual(await p.namespaces.getNamespaceById('ns-a'), limited);

        const stale = await rejection(
          p.identity.commit({ writes: [], namespace: { record: { ...created1, description: 'stale', updatedAt: T0 + 2 }, expectedUpdatedAt: T0 }, audit: audit('audit-1', 'acct1', T0) }),
          ConditionFailedError,
        );
        assert.equal(stale.message, `namespace orders (id ns-a): updatedAt is ${T0 + 1}, the write expected ${T0}`);
        assert.deepEqual(await p.namespaces.getNamespaceById('ns-a'), limited);
        assert.deepEqual(await p.identity.listAudit('acct1', EVER, { pageSize: 10 }), { items: [] });

        const missing = await rejection(p.identity.commit({ writes: [], namespace: { record: namespace('ghost', { id: 'ns-x' }), expectedUpdatedAt: T0 } }), ConditionFailedError);
        assert.equal(missing.message, `namespace id ns-x: it does not exist, the write expected updatedAt ${T0}`);

        await p.namespaces.createNamespace(namespace('billing', { id: 'ns-b', accountId: 'acct1' }));
        const renamed = await rejection(
          p.identity.commit({ writes: [], namespace: { record: { ...limited, name: 'billing', updatedAt: T0 + 3 }, expectedUpdatedAt: T0 + 1 } }),
          AlreadyExistsError,
        );
        assert.deepEqual(renamed.detail, { type: 'NamespaceAlreadyExistsFailure' });

        const moved = { ...limited, accountId: 'acct2', updatedAt: T0 + 4 };
        await p.namespaces.updateNamespace(moved);
        assert.deepEqual(await p.namespaces.getNamespaceByName('orders'), moved);
        assert.deepEqual((await p.identity.listNamespacesOfAccount('acct2', { pageSize: 10 })).items, [moved], 'the account column follows the NamespaceStore too');
        assert.deepEqual((await p.identity.listNamespacesOfAccount('acct1', { pageSize: 10 })).items.map((n) => n.name), ['billing']);
      });

      test('an async operation id already in the account is AlreadyExistsError; another account may use it', async (p) => {
        await p.identity.commit({ writes: [], operation: operation('acct1', 'op-1') });
        const before = await everything(p);
        const err = await rejection(
          p.identity.commit({ writes: [created(user('acct1', 'u-1', 'alice@example.com'))], audit: audit('audit-1', 'acct1', T0), operation: operation('acct1', 'op-1', { operationType: 'Other' }) }),
          AlreadyExistsError,
        );
        assert.equal(err.message, 'async operation op-1 already exists in account acct1');
        assert.deepEqual(await everything(p), before);
        await p.identity.commit({ writes: [], operation: operation('acct2', 'op-1', { state: 'failed', finishedAt: undefined }) });
        assert.deepEqual(await p.identity.getOperation('acct2', 'op-1'), operation('acct2', 'op-1', { state: 'failed', finishedAt: undefined }));
        assert.deepEqual(await p.identity.getOperation('acct1', 'op-1'), operation('acct1', 'op-1'));
      });
    });

    describe('namespace grants', () => {
      test('grants are set, replaced and removed by principal and namespace, and listed both ways', async (p) => {
        await p.identity.commit({
          writes: [],
          grants: [
            { set: grant('acct1', 'user', 'u-1', 'ns-b', 'write') },
            { set: grant('acct1', 'user', 'u-1', 'ns-a', 'read') },
            { set: grant('acct1', 'serviceAccount', 'sa-1', 'ns-a', 'admin') },
            { set: grant('acct1', 'user', 'u-0', 'ns-a', 'write') },
            { set: grant('acct2', 'user', 'u-9', 'ns-z', 'read') },
          ],
        });
        assert.deepEqual(await p.identity.listGrantsOfPrincipal('acct1', 'user', 'u-1'), [
          grant('acct1', 'user', 'u-1', 'ns-a', 'read'),
          grant('acct1', 'user', 'u-1', 'ns-b', 'write'),
        ]);
        assert.deepEqual(await p.identity.listGrantsOnNamespace('ns-a'), [
          grant('acct1', 'serviceAccount', 'sa-1', 'ns-a', 'admin'),
          grant('acct1', 'user', 'u-0', 'ns-a', 'write'),
          grant('acct1', 'user', 'u-1', 'ns-a', 'read'),
        ]);
        assert.deepEqual(await p.identity.listGrantsOfPrincipal('acct2', 'user', 'u-1'), [], 'another account has no such grants');
        assert.deepEqual(await p.identity.listGrantsOfPrincipal('acct1', 'serviceAccount', 'u-1'), [], 'principal types do not mix');

        await p.identity.commit({
          writes: [],
          grants: [
            { set: grant('acct1', 'user', 'u-1', 'ns-a', 'admin') },
            { remove: { accountId: 'acct1', principalType: 'user', principalId: 'u-1', namespaceId: 'ns-b' } },
            { remove: { accountId: 'acct1', principalType: 'user', principalId: 'u-1', namespaceId: 'ns-never' } },
          ],
        });
        assert.deepEqual(await p.identity.listGrantsOfPrincipal('acct1', 'user', 'u-1'), [grant('acct1', 'user', 'u-1', 'ns-a', 'admin')]);
        assert.deepEqual(await p.identity.listGrantsOnNamespace('ns-b'), []);
        assert.deepEqual(await p.identity.listGrantsOnNamespace('ns-z'), [grant('acct2', 'user', 'u-9', 'ns-z', 'read')]);
      });
    });

    describe('lists', () => {
      test('listAccounts pages by id and leaves deleted accounts out', async (p) => {
        const ids = ['acct5', 'acct2', 'acct4', 'acct1', 'acct3', 'acct6'];
        await p.identity.commit({ writes: ids.map((id) => created(account(id, id === 'acct4' ? { state: 'deleted' } : {}))) });
        assert.deepEqual(await pageIds((page) => p.identity.listAccounts(page), 2), [['acct1', 'acct2'], ['acct3', 'acct5'], ['acct6']]);
        assert.deepEqual(await pageIds((page) => p.identity.listAccounts(page), 5), [['acct1', 'acct2', 'acct3', 'acct5', 'acct6']]);
      });

      test("listUsers pages by id over the account's users, deleted ones left out", async (p) => {
        const users = ['u-5', 'u-2', 'u-4', 'u-1', 'u-3'].map((id) => user('acct1', id, `${id}@example.com`, { deleted: id === 'u-2' }));
        await p.identity.commit({ writes: [...users, user('acct2', 'u-0', 'x@example.com'), user('acct2', 'u-6', 'y@example.com')].map(created) });
        assert.deepEqual(await pageIds((page) => p.identity.listUsers('acct1', page), 2), [['u-1', 'u-3'], ['u-4', 'u-5']]);
        assert.deepEqual(await pageIds((page) => p.identity.listUsers('acct1', page), 3), [['u-1', 'u-3', 'u-4'], ['u-5']]);
        assert.deepEqual(await pageIds((page) => p.identity.listUsers('acct3', page), 3), [[]]);
      });

      test("listServiceAccounts pages by id over the account's service accounts, deleted ones left out", async (p) => {
        const accounts = ['sa-3', 'sa-1', 'sa-2', 'sa-4'].map((id) => serviceAccount('acct1', id, { deleted: id === 'sa-4' }));
        await p.identity.commit({ writes: [...accounts, serviceAccount('acct2', 'sa-0')].map(created) });
        assert.deepEqual(await pageIds((page) => p.identity.listServiceAccounts('acct1', page), 2), [['sa-1', 'sa-2'], ['sa-3']]);
      });

      test("listApiKeys pages by id over the account's keys or one owner's, deleted ones left out", async (p) => {
        const keys = [
          apiKey('k-5', 'acct1', 'u-1'),
          apiKey('k-1', 'acct1', 'u-1'),
          apiKey('k-3', 'acct1', 'sa-1', { ownerType: 'serviceAccount' }),
          apiKey('k-2', 'acct1', 'u-1', { deleted: true }),
          apiKey('k-4', 'acct1', 'u-1'),
          apiKey('k-6', 'acct1', 'u-2', { disabled: true }),
          apiKey('k-0', 'acct2', 'u-1'),
        ];
        await p.identity.commit({ writes: keys.map(created) });
        assert.deepEqual(await pageIds((page) => p.identity.listApiKeys('acct1', {}, page), 2), [['k-1', 'k-3'], ['k-4', 'k-5'], ['k-6']]);
        assert.deepEqual(await pageIds((page) => p.identity.listApiKeys('acct1', { ownerId: 'u-1' }, page), 2), [['k-1', 'k-4'], ['k-5']]);
        assert.deepEqual(await pageIds((page) => p.identity.listApiKeys('acct1', { ownerId: 'nobody' }, page), 2), [[]]);
      });

      test("listNamespacesOfAccount pages by name over that account's namespaces only, deleted ones left out", async (p) => {
        for (const [name, accountId] of [['e', 'acct1'], ['b', 'acct1'], ['x', 'acct2'], ['d', 'acct1'], ['gone', 'acct1']] as const) {
          await p.namespaces.createNamespace(namespace(name, { accountId, ...(name === 'gone' ? { state: 'deleted' } : {}) }));
        }
        await p.identity.commit({ writes: [], namespace: { record: namespace('a', { accountId: 'acct1' }) } });
        await p.identity.commit({ writes: [], namespace: { record: namespace('c', { accountId: 'acct1', state: 'deprecated' }) } });
        const names = async (accountId: string, pageSize: number): Promise<string[][]> => {
          const pages: string[][] = [];
          let token: string | undefined;
          do {
            const page = await p.identity.listNamespacesOfAccount(accountId, { pageSize, ...(token ? { nextPageToken: token } : {}) });
            pages.push(page.items.map((n) => n.name));
            token = page.nextPageToken;
          } while (token);
          return pages;
        };
        assert.deepEqual(await names('acct1', 2), [['a', 'b'], ['c', 'd'], ['e']]);
        assert.deepEqual(await names('acct2', 2), [['x']]);
        assert.deepEqual(await names('acct3', 2), [[]]);
      });

      test("page tokens are opaque and checked: another list's token, a made-up one and a non-positive page size are InvalidArgumentError", async (p) => {
        await p.identity.commit({ writes: ['acct1', 'acct2', 'acct3'].map((id) => created(account(id))) });
        await p.identity.commit({ writes: ['u-1', 'u-2', 'u-3'].map((id) => created(user('acct1', id, `${id}@example.com`))) });
        const accountsToken = (await p.identity.listAccounts({ pageSize: 1 })).nextPageToken;
        assert.ok(accountsToken && !accountsToken.includes('acct1'), `not the raw key: ${accountsToken}`);
        const err = await rejection(p.identity.listUsers('acct1', { pageSize: 1, nextPageToken: accountsToken }), InvalidArgumentError);
        assert.match(err.message, /invalid page token/);
        for (const nextPageToken of ['not a token!', '', Buffer.from('["users"]').toString('base64url'), Buffer.from('["audit","x","y"]').toString('base64url')]) {
          await rejection(p.identity.listUsers('acct1', { pageSize: 1, nextPageToken }), InvalidArgumentError, nextPageToken);
          await rejection(p.identity.listAudit('acct1', EVER, { pageSize: 1, nextPageToken }), InvalidArgumentError, nextPageToken);
        }
        for (const pageSize of [0, -1, 1.5]) {
          await rejection(p.identity.listAccounts({ pageSize }), InvalidArgumentError);
          await rejection(p.identity.listUsers('acct1', { pageSize }), InvalidArgumentError);
          await rejection(p.identity.listServiceAccounts('acct1', { pageSize }), InvalidArgumentError);
          await rejection(p.identity.listApiKeys('acct1', {}, { pageSize }), InvalidArgumentError);
          await rejection(p.identity.listNamespacesOfAccount('acct1', { pageSize }), InvalidArgumentError);
          await rejection(p.identity.listAudit('acct1', EVER, { pageSize }), InvalidArgumentError);
        }
      });
    });

    describe('audit log', () => {
      test('listAudit returns the records of one account with from <= time < to, oldest first, page by page', async (p) => {
        const records = [
          audit('a-4', 'acct1', T0 + 3),
          audit('a-2', 'acct1', T0 + 1),
          audit('a-0', 'acct1', T0),
          audit('a-1b', 'acct1', T0 + 1),
          audit('a-3', 'acct1', T0 + 2, { status: 'ERROR', principal: { type: 'operator', id: 'op', name: 'ops', apiKeyId: 'k-op' } }),
          audit('b-1', 'acct2', T0 + 1),
        ];
        for (const record of records) await p.identity.commit({ writes: [], audit: record });
        const ids = (range: { from: number; to: number }, pageSize: number) => pageIds((page) => p.identity.listAudit('acct1', range, page), pageSize);
        assert.deepEqual(await ids({ from: T0 + 1, to: T0 + 3 }, 2), [['a-1b', 'a-2'], ['a-3']]);
        // Page boundaries between records of one time continue where they stopped.
        assert.deepEqual(await ids({ from: T0 + 1, to: T0 + 3 }, 1), [['a-1b'], ['a-2'], ['a-3']]);
        assert.deepEqual(await ids(EVER, 10), [['a-0', 'a-1b', 'a-2', 'a-3', 'a-4']]);
        assert.deepEqual(await ids({ from: T0 + 4, to: T0 + 9 }, 10), [[]]);
        assert.deepEqual((await p.identity.listAudit('acct1', { from: T0 + 2, to: T0 + 3 }, { pageSize: 5 })).items, [records[4]]);
        assert.deepEqual(await pageIds((page) => p.identity.listAudit('acct2', EVER, page), 10), [['b-1']]);
        await rejection(p.identity.listAudit('acct1', { from: T0 + 0.5, to: T0 + 3 }, { pageSize: 5 }), InvalidArgumentError);
      });

      test('a page of the audit log holds at most 1,000 records', async (p) => {
        const total = 1001;
        for (let start = 0; start < total; start += 50) {
          const batch = Array.from({ length: Math.min(50, total - start) }, (_, i) => start + i);
          await Promise.all(batch.map((i) => p.identity.commit({ writes: [], audit: audit(`a-${String(i).padStart(4, '0')}`, 'acct1', T0 + i) })));
        }
        const first = await p.identity.listAudit('acct1', EVER, { pageSize: 5000 });
        assert.equal(first.items.length, 1000);
        assert.ok(first.nextPageToken);
        const second = await p.identity.listAudit('acct1', EVER, { pageSize: 5000, nextPageToken: first.nextPageToken });
        assert.deepEqual(second.items.map((r) => r.id), ['a-1000']);
        assert.equal(second.nextPageToken, undefined);
      });

      test('deleteAuditBefore deletes the oldest records of every account first, at most `limit` at a time', async (p) => {
        const records = [audit('x-10', 'acct1', T0 + 10), audit('x-2', 'acct1', T0 + 2), audit('x-0', 'acct1', T0), audit('y-1', 'acct2', T0 + 1), audit('y-3', 'acct2', T0 + 3)];
        for (const record of records) await p.identity.commit({ writes: [], audit: record });
        const left = async (): Promise<string[]> => [
          ...(await p.identity.listAudit('acct1', EVER, { pageSize: 100 })).items.map((r) => r.id),
          ...(await p.identity.listAudit('acct2', EVER, { pageSize: 100 })).items.map((r) => r.id),
        ];
        assert.equal(await p.identity.deleteAuditBefore(T0 + 5, 2), 2);
        assert.deepEqual(await left(), ['x-2', 'x-10', 'y-3']);
        assert.equal(await p.identity.deleteAuditBefore(T0 + 5, 10), 2);
        assert.deepEqual(await left(), ['x-10']);
        assert.equal(await p.identity.deleteAuditBefore(T0 + 5, 10), 0);
        assert.equal(await p.identity.deleteAuditBefore(T0 + 10, 10), 0, 'before is exclusive');
        await rejection(p.identity.deleteAuditBefore(T0 + 20, 0), InvalidArgumentError);
        assert.deepEqual(await left(), ['x-10']);
      });
    });

    describe('API key use', () => {
      test('touchApiKey records use without a version change, never moves back, and a later write keeps it', async (p) => {
        const key = apiKey('k-1', 'acct1', 'u-1');
        await p.identity.commit({ writes: [created(key)] });
        await p.identity.touchApiKey('k-1', T0 + 100);
        assert.deepEqual(await p.identity.getApiKey('k-1'), { ...key, lastUsedAt: T0 + 100 });
        await p.identity.touchApiKey('k-1', T0 + 50);
        assert.equal((await p.identity.getApiKey('k-1'))?.lastUsedAt, T0 + 100, 'a late touch does not move it back');

        // The writer read the key before the touch: its write must not lose the touch.
        const disabled = bump(key, { disabled: true });
        await p.identity.commit({ writes: [updated(key, disabled)] });
        assert.deepEqual(await p.identity.getApiKey('k-1'), { ...disabled, lastUsedAt: T0 + 100 });
        const later = bump(disabled, { lastUsedAt: T0 + 200 });
        await p.identity.commit({ writes: [updated(disabled, later)] });
        assert.equal((await p.identity.getApiKey('k-1'))?.lastUsedAt, T0 + 200);

        await rejection(p.identity.touchApiKey('k-1', T0 + 300.5), InvalidArgumentError);
        await p.identity.touchApiKey('k-missing', T0);
        assert.equal(await p.identity.getApiKey('k-missing'), undefined);
      });
    });

    describe('concurrency', () => {
      test('10 commits racing on one row with the version they all read: one wins, the others write nothing', async (p) => {
        const acct = account('acct1');
        await p.identity.commit({ writes: [created(acct)] });
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            p.identity.commit({
              writes: [updated(acct, bump(acct, { stateReason: `writer ${i}` }))],
              audit: audit(`audit-${i}`, 'acct1', T0 + i),
            }),
          ),
        );
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        assert.equal(winners.length, 1, `exactly one commit succeeds, got ${winners.length}`);
        for (const r of results) {
          if (r.status === 'rejected') assert.ok(r.reason instanceof ConditionFailedError, String(r.reason));
        }
        assert.equal((await p.identity.getAccount('acct1'))?.stateReason, `writer ${winners[0]}`);
        assert.deepEqual((await p.identity.listAudit('acct1', EVER, { pageSize: 100 })).items.map((r) => r.id), [`audit-${winners[0]}`]);
      });

      test('10 creations racing for one email: one user is created', async (p) => {
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => p.identity.commit({ writes: [created(user('acct1', `u-${i}`, i % 2 ? 'RACE@example.com' : 'race@example.com'))] })),
        );
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        assert.equal(winners.length, 1, `exactly one creation succeeds, got ${winners.length}`);
        for (const r of results) {
          // A lost deadlock between two inserts of one key is a ConditionFailedError (retry from a fresh read).
          if (r.status === 'rejected') assert.ok(r.reason instanceof AlreadyExistsError || r.reason instanceof ConditionFailedError, String(r.reason));
        }
        assert.deepEqual(await pageIds((page) => p.identity.listUsers('acct1', page), 100), [[`u-${winners[0]}`]]);
      });
    });
  });
}

/** The ids of every page of a list, following its tokens. */
async function pageIds<T extends { id: string }>(list: (page: IdentityPage) => Promise<ListPage<T>>, pageSize: number): Promise<string[][]> {
  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const page = await list({ pageSize, ...(token ? { nextPageToken: token } : {}) });
    pages.push(page.items.map((item) => item.id));
    token = page.nextPageToken;
    if (pages.length > 100) assert.fail('the list does not end');
  } while (token);
  return pages;
}

/** Awaits a rejection of the given type and returns the error for further checks. */
async function rejection<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E, what = ''): Promise<E> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof type, `${what}: expected ${type.name}, got ${String(err)}`);
    return err;
  }
  return assert.fail(`${what}: expected ${type.name}, but the call succeeded`);
}
