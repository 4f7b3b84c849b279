import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VisibilityChange, VisibilityRecord } from '../record';
import { VISIBILITY_MESSAGE_FORMAT, decodeVisibilityMessage, encodeVisibilityMessage } from './message';

const record: VisibilityRecord = {
  namespaceId: 'ns-1',
  workflowId: 'order/42',
  runId: 'run-1',
  workflowType: 'Order',
  status: 2,
  startTime: 1_700_000_000_000,
  executionTime: 1_700_000_000_005,
  closeTime: 1_700_000_060_000,
  executionDuration: 59_995_000_000,
  taskQueue: 'orders',
  historyLength: 11,
  historySizeBytes: 2048,
  stateTransitionCount: 7,
  parentWorkflowId: null,
  parentRunId: null,
  rootWorkflowId: 'order/42',
  rootRunId: 'run-1',
  memo: new Uint8Array([10, 4, 0, 255, 1, 2]),
  searchAttributes: { Tier: 'gold', Score: 5, Tags: ['a', 'b'], Flagged: true },
  searchAttributeTypes: { Tier: 'Keyword', Score: 'Int', Tags: 'KeywordList', Flagged: 'Bool' },
  version: 7,
};

describe('visibility messages on Kafka', () => {
  it('an upsert round-trips exactly, memo bytes included, keyed by namespace id and workflow id', () => {
    const change: VisibilityChange = { kind: 'upsert', record, committedAt: 1_700_000_060_001 };
    const message = encodeVisibilityMessage(change);
    assert.equal(message.key, 'ns-1/order/42');
    assert.equal(message.headers['hourglass-visibility-format'], String(VISIBILITY_MESSAGE_FORMAT));
    const json = JSON.parse(message.value.toString('utf8')) as Record<string, unknown>;
    assert.equal(json.kind, 'upsert');
    assert.equal((json.record as { memo: string }).memo, Buffer.from(record.memo as Uint8Array).toString('base64'));
    assert.deepEqual(decodeVisibilityMessage(message.value), change);
  });

  it('a deletion round-trips, keyed like the records of its workflow (same partition, in order)', () => {
    const change: VisibilityChange = { kind: 'delete', deletion: { namespaceId: 'ns-1', workflowId: 'order/42', runId: 'run-1', version: 8 }, committedAt: 5 };
    const message = encodeVisibilityMessage(change);
    assert.equal(message.key, encodeVisibilityMessage({ kind: 'upsert', record, committedAt: 1 }).key);
    assert.deepEqual(decodeVisibilityMessage(message.value), change);
  });

  it('a record without memo or attributes round-trips with nulls', () => {
    const bare: VisibilityRecord = { ...record, memo: null, searchAttributes: null, closeTime: null, executionDuration: null, status: 1 };
    delete bare.searchAttributeTypes;
    const change: VisibilityChange = { kind: 'upsert', record: bare, committedAt: 3 };
    assert.deepEqual(decodeVisibilityMessage(encodeVisibilityMessage(change).value), change);
  });

  it('refuses what it cannot read: no value, not JSON, another format, an incomplete change', () => {
    assert.throws(() => decodeVisibilityMessage(null), /without a value/);
    assert.throws(() => decodeVisibilityMessage(Buffer.from('{not json')), /not JSON/);
    assert.throws(() => decodeVisibilityMessage(Buffer.from(JSON.stringify({ format: 2, kind: 'upsert', committedAt: 1, record }))), /format 2 is not 1/);
    assert.throws(() => decodeVisibilityMessage(Buffer.from(JSON.stringify({ format: 1, kind: 'upsert', committedAt: 1, record: { runId: 'x' } }))), /incomplete/);
    assert.throws(() => decodeVisibilityMessage(Buffer.from(JSON.stringify({ format: 1, kind: 'delete', record }))), /no committedAt/);
  });
});
