import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SETTINGS, ManualClock, silentLogger } from '@hourglass/common';
import { openSqlitePersistence, type AuditRecord } from '@hourglass/persistence';
import { AUDIT_PRUNE_BATCH, AuditRetention } from './audit-retention';

const DAY = 86_400_000;

test('audit records older than 30 days are deleted, in batches, and newer ones kept', async () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 6));
  const persistence = openSqlitePersistence({ path: ':memory:', clock });
  try {
    const record = (i: number, time: number): AuditRecord => ({
      id: `a-${String(i).padStart(6, '0')}`,
      accountId: 'acme1',
      time,
      operation: 'CreateUser',
      principal: { type: 'user', id: 'u', name: 'u@acme.test', apiKeyId: 'k' },
      status: 'OK',
      details: '{}',
      xForwardedFor: '',
      asyncOperationId: '',
    });
    const old = AUDIT_PRUNE_BATCH + 5;
    for (let i = 0; i < old; i++) await persistence.identity.commit({ writes: [], audit: record(i, clock.now() - 31 * DAY + i) });
    for (let i = 0; i < 3; i++) await persistence.identity.commit({ writes: [], audit: record(old + i, clock.now() - 29 * DAY) });
    const retention = new AuditRetention({ store: persistence.identity, clock, settings: DEFAULT_SETTINGS, logger: silentLogger() });
    assert.equal(await retention.pruneOnce(), old, 'every expired record, over more than one batch');
    const left = await persistence.identity.listAudit('acme1', { from: 0, to: clock.now() + 1 }, { pageSize: 1000 });
    assert.deepEqual(left.items.map((r) => r.id), ['a-001005', 'a-001006', 'a-001007']);
    assert.equal(await retention.pruneOnce(), 0);
  } finally {
    await persistence.close();
  }
});
