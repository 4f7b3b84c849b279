/**
 * Search attribute values in Temporal's payloads: `json/plain` encoding with a `type` metadata
 * entry naming the IndexedValueType ('Keyword', 'Int', ...), as the SDKs' search attribute payload
 * converters write them. Decoding follows Temporal's server: a value may also come wrapped in a
 * one-element list (older SDKs send every value as a list), `null` or an empty list unsets the
 * attribute, and the attribute's registered type decides (the metadata type is informative).
 */
import { InvalidArgumentError, quote, type temporal } from '@hourglass/common';
import type { SearchAttributeType } from './attributes';
import { parseRfc3339 } from './query/checker';

export type Payload = temporal.api.common.v1.IPayload;

/**
 * A value as stored: Keyword/Text a string, Int/Double a number, Bool a boolean, Datetime epoch
 * milliseconds, KeywordList an array of strings.
 */
export type SearchAttributeValue = string | number | boolean | string[];

/** A value that does not fit its attribute's type (INVALID_ARGUMENT). */
export class SearchAttributeValueError extends InvalidArgumentError {
  constructor(
    readonly attribute: string,
    readonly reason: string,
  ) {
    super(`invalid value for search attribute ${attribute.length <= 64 ? attribute : quote(attribute, 64)}: ${reason}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function metadataText(payload: Payload, key: string): string | undefined {
  const raw = payload.metadata?.[key];
  if (raw === undefined || raw === null) return undefined;
  try {
    return utf8.decode(raw);
  } catch {
    return undefined;
  }
}

/** Quotes a JSON text for a message: at most a short prefix. */
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 60 ? text : `${text.slice(0, 60)}… (${text.length} characters)`;
}

/**
 * The stored value of a payload for an attribute of `type`; null when the payload unsets it
 * (JSON null, an empty list, binary/null). Throws SearchAttributeValueError saying what is wrong.
 */
export function decodeSearchAttributeValue(payload: Payload, type: SearchAttributeType, attribute = 'value'): SearchAttributeValue | null {
  const fail = (reason: string): SearchAttributeValueError => new SearchAttributeValueError(attribute, reason);
  const encoding = metadataText(payload, 'encoding');
  if (encoding === 'binary/null') return null;
  if (encoding !== 'json/plain') {
    throw fail(`the payload's encoding is ${encoding === undefined ? 'missing' : quote(encoding, 40)}, not json/plain (search attributes are not passed through a payload codec)`);
  }
  let text: string;
  try {
    text = utf8.decode(payload.data ?? new Uint8Array());
  } catch {
    throw fail('the payload is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw fail(`the payload is not JSON: ${quote(text, 40)}`);
  }
  if (json === null) return null;
  if (type === 'KeywordList') {
    const list = Array.isArray(json) ? json : [json];
    if (list.length === 0) return null;
    list.forEach((item, i) => {
      if (typeof item !== 'string') throw fail(`KeywordList items are strings; item ${i} is ${shortJson(item)}`);
    });
    return list as string[];
  }
  if (Array.isArray(json)) {
    if (json.length === 0) return null;
    if (json.length > 1) throw fail(`a ${type} holds one value, not a list of ${json.length}`);
    json = json[0];
  }
  switch (type) {
    case 'Keyword':
    case 'Text':
      if (typeof json !== 'string') throw fail(`a ${type} is a string, not ${shortJson(json)}`);
      return json;
    case 'Int':
      if (typeof json !== 'number' || !Number.isInteger(json)) throw fail(`an Int is an integer, not ${shortJson(json)}`);
      if (!Number.isSafeInteger(json)) throw fail(`Int ${shortJson(json)} is beyond ±2^53, which is not stored exactly`);
      return json;
    case 'Double':
      if (typeof json !== 'number') throw fail(`a Double is a number, not ${shortJson(json)}`);
      return json;
    case 'Bool':
      if (typeof json !== 'boolean') throw fail(`a Bool is true or false, not ${shortJson(json)}`);
      return json;
    case 'Datetime': {
      if (typeof json !== 'string') throw fail(`a Datetime is an RFC 3339 string, not ${shortJson(json)}`);
      const ms = parseRfc3339(json);
      if (ms === undefined) throw fail(`a Datetime is an RFC 3339 string (e.g. "2024-01-31T15:04:05Z"), not ${shortJson(json)}`);
      return Math.floor(ms);
    }
  }
}

/** Whether `value` is a stored value of `type` (see SearchAttributeValue). */
export function isSearchAttributeValueOfType(value: unknown, type: SearchAttributeType): value is SearchAttributeValue {
  switch (type) {
    case 'Keyword':
    case 'Text':
      return typeof value === 'string';
    case 'KeywordList':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
    case 'Int':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'Double':
      return typeof value === 'number' && Number.isFinite(value);
    case 'Bool':
      return typeof value === 'boolean';
    case 'Datetime':
      return typeof value === 'number' && Number.isFinite(value);
  }
}

/** The payload of a stored value, as the SDKs write it (a Datetime as an RFC 3339 string). */
export function encodeSearchAttributeValue(value: SearchAttributeValue, type: SearchAttributeType): Payload {
  if (!isSearchAttributeValueOfType(value, type)) throw new SearchAttributeValueError('value', `${shortJson(value)} is not a stored ${type} value`);
  const json = type === 'Datetime' ? new Date(value as number).toISOString() : value;
  return {
    metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from(type) },
    data: Buffer.from(JSON.stringify(json)),
  };
}
