import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { decodeTypedSearchAttributes, encodeUnifiedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import type { SearchAttributeType as Type } from './attributes';
import { SearchAttributeValueError, decodeSearchAttributeValue, encodeSearchAttributeValue, type Payload } from './payloads';

const T0 = Date.UTC(2024, 0, 31, 15, 4, 5, 123);
const SDK_TYPES: Record<Type, SearchAttributeType> = {
  Keyword: SearchAttributeType.KEYWORD,
  Text: SearchAttributeType.TEXT,
  Int: SearchAttributeType.INT,
  Double: SearchAttributeType.DOUBLE,
  Bool: SearchAttributeType.BOOL,
  Datetime: SearchAttributeType.DATETIME,
  KeywordList: SearchAttributeType.KEYWORD_LIST,
};

/** [type, the SDK's value, the stored value] */
const VALUES: [Type, unknown, unknown][] = [
  ['Keyword', 'c-1', 'c-1'],
  ['Keyword', 'é😀', 'é😀'],
  ['Text', 'Hello, World', 'Hello, World'],
  ['Int', 42, 42],
  ['Int', -7, -7],
  ['Double', 1.25, 1.25],
  ['Double', 3, 3],
  ['Bool', true, true],
  ['Bool', false, false],
  ['Datetime', new Date(T0), T0],
  ['KeywordList', ['a', 'b'], ['a', 'b']],
  ['KeywordList', ['only'], ['only']],
];

function json(data: unknown, type?: string): Payload {
  return { metadata: { encoding: Buffer.from('json/plain'), ...(type ? { type: Buffer.from(type) } : {}) }, data: Buffer.from(JSON.stringify(data)) };
}

describe('search attribute payloads', () => {
  it('decodes what @temporalio/common writes for typed search attributes, and the SDK reads what we encode', () => {
    for (const [type, sdkValue, stored] of VALUES) {
      const key = defineSearchAttributeKey('Attr', SDK_TYPES[type]);
      const payloads = encodeUnifiedSearchAttributes(undefined, [{ key, value: sdkValue } as never]);
      assert.equal(Buffer.from(payloads.Attr!.metadata!.type!).toString(), type);
      assert.deepEqual(decodeSearchAttributeValue(payloads.Attr!, type, 'Attr'), stored, `${type} ${String(sdkValue)}`);
      const back = decodeTypedSearchAttributes({ Attr: encodeSearchAttributeValue(stored as never, type) });
      assert.deepEqual(back.get(key), sdkValue, `${type} round trip through the SDK`);
    }
  });

  it("decodes the SDK's legacy untyped search attributes (every value a list, no type metadata)", () => {
    const payloads = encodeUnifiedSearchAttributes({ K: ['c-1'], N: [5], D: [new Date(T0)], L: ['a', 'b'], B: [true] });
    assert.equal(decodeSearchAttributeValue(payloads.K!, 'Keyword'), 'c-1');
    assert.equal(decodeSearchAttributeValue(payloads.N!, 'Int'), 5);
    assert.equal(decodeSearchAttributeValue(payloads.N!, 'Double'), 5);
    assert.equal(decodeSearchAttributeValue(payloads.D!, 'Datetime'), T0);
    assert.deepEqual(decodeSearchAttributeValue(payloads.L!, 'KeywordList'), ['a', 'b']);
    assert.equal(decodeSearchAttributeValue(payloads.B!, 'Bool'), true);
  });

  it('reads null, an empty list and binary/null as "unset"', () => {
    const unset = encodeUnifiedSearchAttributes(undefined, [{ key: defineSearchAttributeKey('X', SearchAttributeType.KEYWORD), value: null }]);
    assert.equal(decodeSearchAttributeValue(unset.X!, 'Keyword'), null);
    assert.equal(decodeSearchAttributeValue(json([]), 'KeywordList'), null);
    assert.equal(decodeSearchAttributeValue(json([]), 'Int'), null);
    assert.equal(decodeSearchAttributeValue({ metadata: { encoding: Buffer.from('binary/null') } }, 'Bool'), null);
  });

  it('a KeywordList may come as one string; the registered type wins over the metadata type', () => {
    assert.deepEqual(decodeSearchAttributeValue(json('solo', 'Keyword'), 'KeywordList'), ['solo']);
    assert.equal(decodeSearchAttributeValue(json('12', 'Int'), 'Keyword'), '12');
    assert.equal(decodeSearchAttributeValue(json('2024-01-31T15:04:05.123456Z', 'Datetime'), 'Datetime'), T0);
  });

  /** [type, payload, reason] */
  const BAD: [Type, Payload, RegExp][] = [
    ['Int', json('12'), /an Int is an integer, not "12"/],
    ['Int', json(1.5), /an Int is an integer, not 1.5/],
    ['Int', json(2 ** 60), /beyond ±2\^53/],
    ['Double', json('1.5'), /a Double is a number, not "1.5"/],
    ['Bool', json('true'), /a Bool is true or false, not "true"/],
    ['Bool', json(1), /a Bool is true or false, not 1/],
    ['Keyword', json(5), /a Keyword is a string, not 5/],
    ['Text', json({ a: 1 }), /a Text is a string, not \{"a":1\}/],
    ['Keyword', json(['a', 'b']), /a Keyword holds one value, not a list of 2/],
    ['KeywordList', json(['a', 3]), /KeywordList items are strings; item 1 is 3/],
    ['Datetime', json('yesterday'), /a Datetime is an RFC 3339 string .* not "yesterday"/],
    ['Datetime', json(T0), /a Datetime is an RFC 3339 string, not \d+/],
    ['Keyword', { metadata: { encoding: Buffer.from('binary/encrypted') }, data: Buffer.from('zz') }, /encoding is "binary\/encrypted", not json\/plain/],
    ['Keyword', { metadata: {}, data: Buffer.from('"a"') }, /encoding is missing/],
    ['Keyword', { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{nope') }, /the payload is not JSON: "\{nope"/],
    ['Keyword', { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from([0x22, 0xff, 0x22]) }, /not valid UTF-8/],
  ];

  it(`refuses ${BAD.length} values that do not fit the type, saying why and quoting only a prefix`, () => {
    for (const [type, payload, reason] of BAD) {
      assert.throws(
        () => decodeSearchAttributeValue(payload, type, 'CustomerId'),
        (e: unknown) => e instanceof SearchAttributeValueError && e.code === 'INVALID_ARGUMENT' && reason.test(e.reason) && e.message.startsWith('invalid value for search attribute CustomerId: ') && e.message.length < 250,
        `${type} ${Buffer.from(payload.data ?? []).toString().slice(0, 40)}`,
      );
    }
    // A long string is a valid Keyword (size limits are the caller's): decoding keeps it whole.
    assert.equal((decodeSearchAttributeValue(json('x'.repeat(500)), 'Keyword') as string).length, 500);
    const long = decodeSearchAttributeValue.bind(null, json({ big: 'y'.repeat(10_000) }), 'Keyword', 'K');
    assert.throws(long, (e: SearchAttributeValueError) => e.message.length < 200 && /characters\)/.test(e.message));
  });

  it('refuses to encode a value of the wrong type', () => {
    assert.throws(() => encodeSearchAttributeValue('x', 'Int'), /is not a stored Int value/);
    assert.throws(() => encodeSearchAttributeValue(['a', 1] as never, 'KeywordList'), /is not a stored KeywordList value/);
    assert.deepEqual(JSON.parse(Buffer.from(encodeSearchAttributeValue(T0, 'Datetime').data!).toString()), '2024-01-31T15:04:05.123Z');
  });
});
