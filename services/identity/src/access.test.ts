import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermissionDeniedError } from '@hourglass/common';
import type { AccountRecord, NamespacePermission, NamespaceRecord } from '@hourglass/persistence';
import { authorizeCall, namespaceLookupOutcome, type PermissionClass } from './access';
import { mayReadMetrics, mayReadNamespaceMetrics, type Principal } from './principal';

const ACCOUNT: AccountRecord = { id: 'acme1', name: 'Acme', state: 'active', stateReason: '', resourceVersion: 1, createdAt: 0, updatedAt: 0 };
const OTHER: AccountRecord = { ...ACCOUNT, id: 'other' };

function ns(name: string, accountId: string): NamespaceRecord {
  return { id: `id-${name}`, name, accountId, resourceVersion: 1, limits: {}, state: 'registered', description: '', ownerEmail: '', retentionMs: 1, data: {}, createdAt: 0, updatedAt: 0 };
}

const ORDERS = ns('orders.acme1', 'acme1');
const BILLING = ns('billing.acme1', 'acme1');
const FOREIGN = ns('secret.other', 'other');

function principal(overrides: Partial<Principal> & { grants?: Map<string, NamespacePermission> } = {}): Principal {
  return { type: 'user', id: 'u-1', name: 'dev@acme.test', accountId: 'acme1', account: ACCOUNT, role: 'developer', grants: new Map(), apiKeyId: 'k1', ...overrides };
}

function denied(fn: () => void): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    if (err instanceof PermissionDeniedError) return true;
    throw err;
  }
}

describe('authorizeCall', () => {
  const cases: Array<[string, Principal, PermissionClass, NamespaceRecord | undefined, boolean]> = [
    ['namespace read reads', principal({ grants: new Map([[ORDERS.id, 'read']]) }), 'read', ORDERS, true],
    ['namespace read may not write', principal({ grants: new Map([[ORDERS.id, 'read']]) }), 'write', ORDERS, false],
    ['namespace read may not poll', principal({ grants: new Map([[ORDERS.id, 'read']]) }), 'worker', ORDERS, false],
    ['namespace write polls', principal({ grants: new Map([[ORDERS.id, 'write']]) }), 'worker', ORDERS, true],
    ['namespace write may not administer', principal({ grants: new Map([[ORDERS.id, 'write']]) }), 'namespaceAdmin', ORDERS, false],
    ['a grant on one namespace is nothing on another', principal({ grants: new Map([[ORDERS.id, 'admin']]) }), 'read', BILLING, false],
    ['an account admin administers every namespace of the account', principal({ role: 'admin' }), 'namespaceAdmin', BILLING, true],
    ['an account owner cannot touch another account', principal({ role: 'owner' }), 'read', FOREIGN, false],
    ['a developer creates namespaces', principal(), 'developer', undefined, true],
    ['a read-only user does not', principal({ role: 'read' }), 'developer', undefined, false],
    ['finance admins read billing', principal({ role: 'financeAdmin' }), 'finance', undefined, true],
    ['developers do not', principal(), 'finance', undefined, false],
    ['account admin APIs need admin', principal(), 'accountAdmin', undefined, false],
    ['owners may', principal({ role: 'owner' }), 'accountAdmin', undefined, true],
    ['nobody administers the cluster', principal({ role: 'owner' }), 'system', undefined, false],
    ['an operator key calls the operator API', principal({ type: 'operator', accountId: '', account: undefined, role: undefined }), 'operator', undefined, true],
    ['an account owner does not', principal({ role: 'owner' }), 'operator', undefined, false],
    ['an operator key cannot run workflows', principal({ type: 'operator', accountId: '', account: undefined, role: undefined }), 'read', ORDERS, false],
    ['a suspended account may do nothing', principal({ role: 'owner', account: { ...ACCOUNT, state: 'suspended', stateReason: 'unpaid' } }), 'read', ORDERS, false],
    ['capability checks need nothing', principal({ account: { ...ACCOUNT, state: 'suspended' } }), 'none', undefined, true],
    ['the dev caller is limited to its namespaces', principal({ role: 'owner', restrictedToNamespaces: new Set(['orders.acme1']) }), 'read', BILLING, false],
    ['and may use those', principal({ role: 'owner', restrictedToNamespaces: new Set(['orders.acme1']) }), 'write', ORDERS, true],
  ];
  for (const [title, who, needed, namespace, allowed] of cases) {
    it(title, () => {
      assert.equal(!denied(() => authorizeCall(who, 'Method', needed, namespace)), allowed);
    });
  }

  it('says why a suspended account is refused', () => {
    assert.throws(() => authorizeCall(principal({ account: { ...ACCOUNT, state: 'suspended', stateReason: 'unpaid invoice' } }), 'StartWorkflowExecution', 'write', ORDERS), /account acme1 is suspended: unpaid invoice/);
  });
});

describe('namespaceLookupOutcome', () => {
  const me = principal({ grants: new Map([[ORDERS.id, 'write']]) });
  it('a namespace the caller may use is visible', () => {
    assert.equal(namespaceLookupOutcome(me, ORDERS.name, ORDERS, undefined), 'visible');
  });
  it("another account's namespace is denied whether it exists or not", () => {
    assert.equal(namespaceLookupOutcome(me, FOREIGN.name, FOREIGN, undefined), 'denied');
    assert.equal(namespaceLookupOutcome(me, 'nothing.other', undefined, undefined), 'denied');
    assert.equal(namespaceLookupOutcome(principal({ accountId: OTHER.id, account: OTHER, role: 'owner' }), ORDERS.name, ORDERS, undefined), 'denied');
  });
  it("a missing name in the caller's own account is not found", () => {
    assert.equal(namespaceLookupOutcome(me, 'ghost.acme1', undefined, undefined), 'notFound');
  });
  it('an existing namespace of its own account without a grant is denied, not hidden', () => {
    assert.equal(namespaceLookupOutcome(me, BILLING.name, BILLING, undefined), 'denied');
  });
  it('unsuffixed names belong to the development account', () => {
    const devOwner = principal({ role: 'owner', restrictedToNamespaces: new Set(['default']) });
    assert.equal(namespaceLookupOutcome(devOwner, 'nope', undefined, 'acme1'), 'notFound');
    assert.equal(namespaceLookupOutcome(devOwner, 'nope', undefined, 'other'), 'denied');
    assert.equal(namespaceLookupOutcome(devOwner, 'default', ns('default', 'acme1'), 'acme1'), 'visible');
    assert.equal(namespaceLookupOutcome(devOwner, 'extra', ns('extra', 'acme1'), 'acme1'), 'denied');
  });
});

describe('metrics access (the namespace-scoped metrics endpoint)', () => {
  it("metrics-read, admin and owner read their own account's namespaces' metrics; nobody reads another account's", () => {
    for (const role of ['metricsRead', 'admin', 'owner'] as const) {
      assert.ok(mayReadMetrics(principal({ role })), role);
      assert.ok(mayReadNamespaceMetrics(principal({ role }), ORDERS), `${role} on its own namespace`);
      assert.ok(!mayReadNamespaceMetrics(principal({ role }), FOREIGN), `${role} on another account's namespace`);
    }
    for (const role of ['developer', 'read', 'financeAdmin'] as const) {
      assert.ok(!mayReadMetrics(principal({ role })), role);
      assert.ok(!mayReadNamespaceMetrics(principal({ role, grants: new Map([[ORDERS.id, 'admin']]) }), ORDERS), `${role}, even as namespace admin`);
    }
    assert.ok(!mayReadNamespaceMetrics(principal({ role: 'metricsRead' }), { ...ORDERS, state: 'deleted' }), 'a deleted namespace');
    assert.ok(!mayReadNamespaceMetrics(principal({ role: 'owner', restrictedToNamespaces: new Set(['billing.acme1']) }), ORDERS), 'the key-less dev caller sees only its namespaces');
    assert.ok(!mayReadMetrics(principal({ type: 'operator', accountId: '', role: undefined, account: undefined })), 'operator keys are not tenants');
  });
});
