/**
 * Search attribute values in Temporal's payloads: `json/plain` encoding with a `type` metadata
 * entry naming the IndexedValueType, as the SDKs' search attribute payload converter writes them.
 */
import { InvalidArgumentError, type temporal } from '@hourglass/common';
import type { SearchAttributeType } from './attributes';

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
    super(`invalid value for search attribute ${attribute}: ${reason}`);
  }
}

/** The stored value of a payload for an attribute of `type`; null when the payload unsets it. */
export function decodeSearchAttributeValue(payload: Payload, type: SearchAttributeType, attribute = 'value'): SearchAttributeValue | null {
  void payload;
  void type;
  void attribute;
  throw new Error('not yet');
}

/** The payload of a stored value, as the SDKs write it. */
export function encodeSearchAttributeValue(value: SearchAttributeValue, type: SearchAttributeType): Payload {
  void value;
  void type;
  throw new Error('not yet');
}
