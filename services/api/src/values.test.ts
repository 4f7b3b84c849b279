import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Long } from '@hourglass/common';
import { decodePayload, eventTypeName, indexedValueTypeName, indexedValueTypeOf, plain, statusName } from './values';

const payload = (encoding: string, data: string | Uint8Array) => ({ metadata: { encoding: Buffer.from(encoding) }, data: typeof data === 'string' ? Buffer.from(data) : data });

describe('protobuf values as GraphQL values', () => {
  it('decodes JSON payloads as JSON, binary/null as null, anything else as its encoding and base64', () => {
    assert.deepEqual(decodePayload(payload('json/plain', '{"a":[1,2]}')), { a: [1, 2] });
    assert.equal(decodePayload(payload('binary/null', '')), null);
    assert.deepEqual(decodePayload(payload('binary/plain', new Uint8Array([0, 255]))), { encoding: 'binary/plain', base64: 'AP8=' });
    assert.deepEqual(decodePayload(payload('json/plain', 'not json')), { encoding: 'json/plain', base64: Buffer.from('not json').toString('base64') });
  });

  it('walks messages: payloads decoded, int64 as numbers, *Time fields as instants, durations kept', () => {
    const value = plain({
      input: { payloads: [payload('json/plain', '"hi"')] },
      attempt: Long.fromNumber(3),
      big: Long.fromString('9007199254740993'),
      expirationTime: { seconds: Long.fromNumber(1_700_000_000), nanos: 5_000_000 },
      workflowRunTimeout: { seconds: Long.fromNumber(60) },
      header: null,
    });
    assert.deepEqual(value, { input: { payloads: ['hi'] }, attempt: 3, big: '9007199254740993', expirationTime: '2023-11-14T22:13:20.005Z', workflowRunTimeout: { seconds: 60 } });
  });

  it('names statuses, event types and search attribute types as users write them', () => {
    assert.equal(statusName(1), 'Running');
    assert.equal(statusName(6), 'ContinuedAsNew');
    assert.equal(statusName(7), 'TimedOut');
    assert.equal(eventTypeName(1), 'WorkflowExecutionStarted');
    assert.equal(indexedValueTypeName(indexedValueTypeOf('KeywordList')), 'KeywordList');
    assert.equal(indexedValueTypeName(indexedValueTypeOf('Keyword')), 'Keyword');
    assert.throws(() => indexedValueTypeOf('Banana'), /not one of Keyword/);
  });
});
