/**
 * Access to Temporal's public protobuf types, straight from the `@temporalio/proto` package
 * (never copied into this repository), plus conversions for the well-known types.
 */
import Long from 'long';
import { temporal, google } from '@temporalio/proto';

export { temporal, google, Long };

export type LongLike = Long | number | string | null | undefined;

/** int64 → JS number. Event ids, counts and times fit comfortably below 2^53. */
export function toNumber(value: LongLike): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  return value.toNumber();
}

export function msToTimestamp(ms: number): google.protobuf.ITimestamp {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1_000_000);
  return { seconds: Long.fromNumber(seconds), nanos };
}

export function timestampToMs(ts: google.protobuf.ITimestamp | null | undefined): number | undefined {
  if (!ts) return undefined;
  return toNumber(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1_000_000);
}

export function msToDuration(ms: number): google.protobuf.IDuration {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1_000_000);
  return { seconds: Long.fromNumber(seconds), nanos };
}

/**
 * Duration → ms; absent → undefined. A positive fraction of a millisecond rounds UP (a 500 µs timer
 * is 1 ms, never 0, and never fires early); negative durations stay negative for validation.
 */
export function durationToMs(d: google.protobuf.IDuration | null | undefined): number | undefined {
  if (!d) return undefined;
  const ms = toNumber(d.seconds) * 1000 + (d.nanos ?? 0) / 1_000_000;
  return ms > 0 ? Math.ceil(ms) : Math.floor(ms);
}


export const EventType = temporal.api.enums.v1.EventType;
export const WorkflowExecutionStatus = temporal.api.enums.v1.WorkflowExecutionStatus;
export const TaskQueueKind = temporal.api.enums.v1.TaskQueueKind;
export const TimeoutType = temporal.api.enums.v1.TimeoutType;
export const RetryState = temporal.api.enums.v1.RetryState;
export const CommandType = temporal.api.enums.v1.CommandType;
export const WorkflowTaskFailedCause = temporal.api.enums.v1.WorkflowTaskFailedCause;
export const WorkflowIdReusePolicy = temporal.api.enums.v1.WorkflowIdReusePolicy;
export const WorkflowIdConflictPolicy = temporal.api.enums.v1.WorkflowIdConflictPolicy;
export const HistoryEventFilterType = temporal.api.enums.v1.HistoryEventFilterType;
export const NamespaceState = temporal.api.enums.v1.NamespaceState;
export const PendingActivityState = temporal.api.enums.v1.PendingActivityState;

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
export type Payloads = temporal.api.common.v1.IPayloads;
export type Payload = temporal.api.common.v1.IPayload;
export type Failure = temporal.api.failure.v1.IFailure;

export const HistoryEventCodec = temporal.api.history.v1.HistoryEvent;

/** Encoded size in bytes of a Payloads message (what Temporal's blob size limit measures). */
export function payloadsSize(p: Payloads | null | undefined): number {
  if (!p) return 0;
  return temporal.api.common.v1.Payloads.encode(p).len;
}


/** number → int64 field value (the generated types want Long; ids and sizes fit below 2^53). */
export function int64(value: number): Long {
  return Long.fromNumber(value);
}
