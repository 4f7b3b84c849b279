/**
 * Retry policies as Temporal defines them: defaults per field, validation, and the
 * server-side retry decision for activities.
 */
import {
  InvalidArgumentError,
  RetryState,
  durationToMs,
  msToDuration,
  temporal,
  type Failure,
  quote,
} from '@hourglass/common';

export interface RetryPolicyMs {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** 0 = unlimited. */
  maximumAttempts: number;
  nonRetryableErrorTypes: string[];
}

export const DEFAULT_INITIAL_INTERVAL_MS = 1000;
export const DEFAULT_BACKOFF_COEFFICIENT = 2;
export const DEFAULT_MAXIMUM_INTERVAL_FACTOR = 100;

/** Fills defaults and validates; `what` names the field in error messages. */
export function normalizeRetryPolicy(policy: temporal.api.common.v1.IRetryPolicy | null | undefined, what: string): RetryPolicyMs {
  const p = policy ?? {};
  const initialIntervalMs = durationToMs(p.initialInterval) || DEFAULT_INITIAL_INTERVAL_MS;
  const backoffCoefficient = p.backoffCoefficient || DEFAULT_BACKOFF_COEFFICIENT;
  const maximumIntervalMs = durationToMs(p.maximumInterval) || initialIntervalMs * DEFAULT_MAXIMUM_INTERVAL_FACTOR;
  const maximumAttempts = p.maximumAttempts ?? 0;
  if (initialIntervalMs < 0) throw new InvalidArgumentError(`${what}.initialInterval must not be negative`);
  if (backoffCoefficient < 1) throw new InvalidArgumentError(`${what}.backoffCoefficient must be at least 1, got ${backoffCoefficient}`);
  if (maximumIntervalMs < 0) throw new InvalidArgumentError(`${what}.maximumInterval must not be negative`);
  if (maximumIntervalMs < initialIntervalMs) {
    throw new InvalidArgumentError(`${what}.maximumInterval (${maximumIntervalMs} ms) must not be less than initialInterval (${initialIntervalMs} ms)`);
  }
  if (maximumAttempts < 0) throw new InvalidArgumentError(`${what}.maximumAttempts must not be negative, got ${maximumAttempts}`);
  const nonRetryableErrorTypes = [...(p.nonRetryableErrorTypes ?? [])];
  for (const t of nonRetryableErrorTypes) {
    if (t.startsWith('TemporalTimeout:') && !/^TemporalTimeout:(StartToClose|Heartbeat|ScheduleToStart|ScheduleToClose)$/.test(t)) {
      throw new InvalidArgumentError(`${what}.nonRetryableErrorTypes has an unknown timeout type ${quote(t)}`);
    }
  }
  return { initialIntervalMs, backoffCoefficient, maximumIntervalMs, maximumAttempts, nonRetryableErrorTypes };
}

export function retryPolicyToProto(p: RetryPolicyMs): temporal.api.common.v1.IRetryPolicy {
  return {
    initialInterval: msToDuration(p.initialIntervalMs),
    backoffCoefficient: p.backoffCoefficient,
    maximumInterval: msToDuration(p.maximumIntervalMs),
    maximumAttempts: p.maximumAttempts,
    nonRetryableErrorTypes: p.nonRetryableErrorTypes,
  };
}

export type RetryDecision = { retry: true; backoffMs: number } | { retry: false; retryState: number };

const TIMEOUT_NAMES: Record<number, string> = {
  [temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE]: 'StartToClose',
  [temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START]: 'ScheduleToStart',
  [temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE]: 'ScheduleToClose',
  [temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT]: 'Heartbeat',
};

/** Whether a failure may be retried at all under this policy. */
export function isRetryableFailure(policy: RetryPolicyMs, failure: Failure | undefined): boolean {
  if (!failure) return true;
  if (failure.applicationFailureInfo) {
    if (failure.applicationFailureInfo.nonRetryable) return false;
    const type = failure.applicationFailureInfo.type ?? '';
    return !policy.nonRetryableErrorTypes.includes(type);
  }
  if (failure.timeoutFailureInfo) {
    const type = failure.timeoutFailureInfo.timeoutType ?? 0;
    const name = TIMEOUT_NAMES[type];
    if (name === 'ScheduleToStart' || name === 'ScheduleToClose') return false;
    return !policy.nonRetryableErrorTypes.includes(`TemporalTimeout:${name}`);
  }
  if (failure.canceledFailureInfo || failure.terminatedFailureInfo) return false;
  if (failure.serverFailureInfo) return !failure.serverFailureInfo.nonRetryable;
  return true;
}

/**
 * The retry algorithm (Temporal's order of checks): non-retryable → attempts exhausted →
 * interval (explicit next_retry_delay or exponential, capped) → past the deadline → retry.
 * `attempt` is the attempt that just failed; `deadline` is the schedule-to-close/expiration time (0 = none).
 */
export function decideRetry(args: {
  policy: RetryPolicyMs;
  attempt: number;
  failure: Failure | undefined;
  now: number;
  deadline: number;
}): RetryDecision {
  const { policy, attempt, failure, now, deadline } = args;
  if (!isRetryableFailure(policy, failure)) {
    return { retry: false, retryState: RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE };
  }
  if (policy.maximumAttempts > 0 && attempt >= policy.maximumAttempts) {
    return { retry: false, retryState: RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED };
  }
  const explicit = failure?.applicationFailureInfo?.nextRetryDelay;
  let backoffMs: number;
  if (explicit && (durationToMs(explicit) ?? 0) > 0) {
    backoffMs = durationToMs(explicit) ?? 0;
  } else {
    backoffMs = policy.initialIntervalMs * Math.pow(policy.backoffCoefficient, Math.max(0, attempt - 1));
    backoffMs = Math.min(backoffMs, policy.maximumIntervalMs);
  }
  backoffMs = Math.max(0, Math.round(backoffMs));
  if (deadline > 0 && now + backoffMs >= deadline) {
    return { retry: false, retryState: RetryState.RETRY_STATE_TIMEOUT };
  }
  return { retry: true, backoffMs };
}
