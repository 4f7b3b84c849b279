/**
 * Protobuf values (as the domain services answer them) as GraphQL values: timestamps as ISO
 * strings, payloads decoded (JSON payloads as their value; others as { encoding, base64 }), enums
 * by name, int64 as numbers when safe.
 */
import { temporal } from '@hourglass/common';
import { badInput } from './errors';

type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

export function tsToMs(ts: Timestamp): number | undefined {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return undefined;
  return Number(String(ts.seconds)) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

export function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

export function tsToIso(ts: Timestamp): string | null {
  return iso(tsToMs(ts));
}

/** A DateTime argument as ms; BAD_USER_INPUT naming the argument otherwise. */
export function parseDateTime(value: unknown, name: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw badInput(`${name} must be an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z (got ${JSON.stringify(String(value).slice(0, 40))})`);
  return ms;
}

function bytesToString(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return typeof value === 'string' ? value : '';
}

function isPayload(value: object): value is { metadata?: Record<string, unknown> | null; data?: Uint8Array | null } {
  const v = value as { metadata?: unknown; data?: unknown };
  return v.metadata !== undefined && typeof v.metadata === 'object' && v.metadata !== null && 'encoding' in v.metadata && (v.data === undefined || v.data === null || v.data instanceof Uint8Array);
}

/** One payload decoded: JSON as its value, null for binary/null, anything else as its encoding and base64. */
export function decodePayload(payload: { metadata?: Record<string, unknown> | null; data?: Uint8Array | null }): unknown {
  const encoding = bytesToString(payload.metadata?.encoding);
  const data = payload.data ?? new Uint8Array();
  if (encoding === 'binary/null') return null;
  if (encoding === 'json/plain') {
    try {
      return JSON.parse(Buffer.from(data).toString('utf8')) as unknown;
    } catch {
      // Not JSON after all: shown as bytes below.
    }
  }
  return { encoding, base64: Buffer.from(data).toString('base64') };
}

/** Payloads inside any message, decoded; int64 (Long) as numbers (strings past 2^53); bytes as base64; maps kept. */
export function plain(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (isLong(value)) {
    const n = Number(String(value));
    return Number.isSafeInteger(n) ? n : String(value);
  }
  if (isPayload(value)) return decodePayload(value);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined || typeof v === 'function') continue;
    out[key] = key.endsWith('Time') && isTimestampShape(v) ? tsToIso(v) : plain(v);
  }
  return out;
}

function isLong(value: object): boolean {
  return typeof (value as { low?: unknown }).low === 'number' && typeof (value as { high?: unknown }).high === 'number' && typeof (value as { unsigned?: unknown }).unsigned === 'boolean';
}

/** Timestamps and durations share a shape: only fields named *Time are shown as instants (durations stay { seconds, nanos }). */
function isTimestampShape(value: unknown): value is Timestamp {
  return typeof value === 'object' && value !== null && 'seconds' in value && Object.keys(value).every((k) => k === 'seconds' || k === 'nanos');
}

/** A payload map (search attributes' indexedFields, memo's fields) decoded. */
export function decodeFields(fields: Record<string, { metadata?: Record<string, unknown> | null; data?: Uint8Array | null }> | null | undefined): Record<string, unknown> | null {
  if (!fields) return null;
  return Object.fromEntries(Object.entries(fields).map(([k, p]) => [k, decodePayload(p)]));
}

/** A JSON value as a json/plain payload. */
export function jsonPayload(value: unknown): temporal.api.common.v1.IPayload {
  return { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value ?? null)) };
}

const STATUS = temporal.api.enums.v1.WorkflowExecutionStatus;

/** WORKFLOW_EXECUTION_STATUS_RUNNING → Running, as the list filter language names statuses. */
export function statusName(status: number | null | undefined): string {
  const name = STATUS[status ?? 0] ?? 'WORKFLOW_EXECUTION_STATUS_UNSPECIFIED';
  const short = name.replace('WORKFLOW_EXECUTION_STATUS_', '');
  const special: Record<string, string> = { CONTINUED_AS_NEW: 'ContinuedAsNew', TIMED_OUT: 'TimedOut', UNSPECIFIED: 'Unspecified' };
  return special[short] ?? short.charAt(0) + short.slice(1).toLowerCase();
}

/** EVENT_TYPE_WORKFLOW_EXECUTION_STARTED → WorkflowExecutionStarted. */
export function eventTypeName(type: number | null | undefined): string {
  const name = temporal.api.enums.v1.EventType[type ?? 0] ?? 'EVENT_TYPE_UNSPECIFIED';
  return name
    .replace('EVENT_TYPE_', '')
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

export function indexedValueTypeName(type: number): string {
  const name = temporal.api.enums.v1.IndexedValueType[type] ?? 'INDEXED_VALUE_TYPE_UNSPECIFIED';
  const short = name.replace('INDEXED_VALUE_TYPE_', '');
  if (short === 'KEYWORD_LIST') return 'KeywordList';
  return short.charAt(0) + short.slice(1).toLowerCase();
}

export function indexedValueTypeOf(name: string): number {
  const key = `INDEXED_VALUE_TYPE_${name === 'KeywordList' ? 'KEYWORD_LIST' : name.toUpperCase()}`;
  const value = (temporal.api.enums.v1.IndexedValueType as unknown as Record<string, number>)[key];
  if (value === undefined || value === 0) throw badInput(`search attribute type ${JSON.stringify(name.slice(0, 40))} is not one of Keyword, Text, Int, Double, Bool, Datetime, KeywordList`);
  return value;
}
