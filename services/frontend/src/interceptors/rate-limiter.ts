/**
 * Per-namespace rate limits, the frontend's default RateLimiter. Each namespace has:
 *  - an RPS token bucket: every call of the namespace takes a token (`frontend.namespaceRPS`, as
 *    Temporal's; the method table's execution, visibility and replication buckets all count here);
 *  - an APS token bucket: billable calls (the row's `billable`: Temporal Cloud's Actions) take a
 *    token from it too (`frontend.namespaceAPS`, 500 as on Temporal Cloud);
 *  - a cap on the polls it holds open at once (rows with polling `always`: task-queue and update
 *    polls; `frontend.namespaceCount`), each place given back when its poll returns.
 * A bucket holds `frontend.namespaceBurstRatio` seconds of its rate. The namespace record's
 * `limits` (rps, aps, maxConcurrentPolls), when an operator set them, override the settings; 0 turns
 * a limit off. A call over a limit is refused with RESOURCE_EXHAUSTED and ResourceExhaustedFailure
 * (cause RPS_LIMIT, APS_LIMIT or CONCURRENT_LIMIT; scope NAMESPACE), which the SDKs back off on, and
 * takes nothing: a refused call costs the namespace no token and no place.
 *
 * Priority rule: worker progress comes before new work. Calls a worker makes (rows whose permission
 * is `worker`: polls, task completions and failures, heartbeats) and the table's priority-0 system
 * calls (DescribeNamespace, which workers call when they start) may take a bucket's last token.
 * Every other call — new work (StartWorkflowExecution, SignalWithStart, ExecuteMultiOperation,
 * signals, updates), state changes and reads — must leave `frontend.namespaceWorkerReservePercent`
 * of the bucket (20 %) untouched. Under a flood of starts the bucket therefore hovers at the reserve,
 * which the namespace's workers draw on and its refill tops up: its running workflows keep
 * completing, and starts get what refill the workers leave. (The method table's priorities 1–5 do
 * not separate a start from a task completion, both 1 in Temporal's table, so the rule keys on the
 * row's permission; the reserve never exceeds the bucket less one token, so a full bucket always
 * serves new work.)
 *
 * Cluster-scoped calls (no namespace: GetSystemInfo, GetClusterInfo, ListNamespaces…) are not
 * limited here: they belong to no tenant, every SDK connection makes them before anything else, and
 * they are few and cheap; the server-wide bound on them is fair admission (frontend.maxConcurrentCalls).
 *
 * Time comes from the injected clock, so tests are deterministic. A call costs a map lookup and a
 * few settings lookups (O(1)); a namespace's state is dropped once its buckets have refilled and it
 * holds no poll (then it equals a fresh one), found by a sweep at most once a minute.
 */
import { FrontendSettings, QUOTE_LIMIT, ResourceExhaustedError, quote, temporal, type Clock, type SettingDefinition, type Settings } from '@hourglass/common';
import type { NamespaceLimits } from '@hourglass/persistence';
import type { RateLimitRelease, RateLimitRequest, RateLimiter } from './rate-limit';

const Cause = temporal.api.enums.v1.ResourceExhaustedCause;
const Scope = temporal.api.enums.v1.ResourceExhaustedScope;

/** Clock ms between sweeps for idle namespaces' state. */
export const SWEEP_INTERVAL_MS = 60_000;

/** Absorbs float error in refills (0.1 + 0.2 tokens), so a token due is never refused by 1e-16. */
const EPSILON = 1e-9;

interface Bucket {
  /** Infinity until first used: full, whatever the capacity then. */
  tokens: number;
  /** Clock ms of the last refill. */
  at: number;
}

interface NamespaceState {
  readonly rps: Bucket;
  readonly aps: Bucket;
  /** Polls holding a place now. */
  polls: number;
  /** When both buckets are full again if nothing more is taken; from then on the state equals a fresh one. */
  fullAt: number;
}

type LimitKind = 'rps' | 'aps' | 'maxConcurrentPolls';

const SETTING_OF: Record<LimitKind, SettingDefinition<number>> = {
  rps: FrontendSettings.namespaceRps,
  aps: FrontendSettings.namespaceAps,
  maxConcurrentPolls: FrontendSettings.namespaceMaxConcurrentPolls,
};

const UNIT_OF: Record<LimitKind, string> = {
  rps: 'requests per second',
  aps: 'actions per second',
  maxConcurrentPolls: 'concurrent long polls',
};

const CAUSE_OF: Record<LimitKind, number> = {
  rps: Cause.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT,
  aps: Cause.RESOURCE_EXHAUSTED_CAUSE_APS_LIMIT,
  maxConcurrentPolls: Cause.RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT,
};

function operatorLimit(limits: NamespaceLimits | undefined, kind: LimitKind): number | undefined {
  const value = limits?.[kind];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * The limits a namespace gets: its operator-set ones, else the settings (0: that limit is off).
 * What CloudService's GetNamespace and the operator API report.
 */
export function effectiveNamespaceLimits(settings: Settings, ns: { name: string; limits: NamespaceLimits }): Required<NamespaceLimits> {
  const of = (kind: LimitKind): number => operatorLimit(ns.limits, kind) ?? settings.get(SETTING_OF[kind], { namespace: ns.name });
  return { rps: of('rps'), aps: of('aps'), maxConcurrentPolls: of('maxConcurrentPolls') };
}

/** Tops the bucket up for the time since its last refill, at most to `capacity`. */
function refill(bucket: Bucket, rate: number, capacity: number, now: number): void {
  const elapsed = now - bucket.at;
  bucket.at = now;
  // A clock stepped back refills nothing; the next refill counts from the new reading.
  if (elapsed > 0) bucket.tokens += (elapsed * rate) / 1000;
  if (bucket.tokens > capacity) bucket.tokens = capacity;
}

export class NamespaceRateLimiter implements RateLimiter {
  private readonly states = new Map<string, NamespaceState>();
  /** The account APIs' buckets, by account. */
  private readonly control = new Map<string, Bucket>();
  private nextSweepAt: number;

  constructor(
    private readonly settings: Settings,
    private readonly clock: Clock,
  ) {
    this.nextSweepAt = clock.now() + SWEEP_INTERVAL_MS;
  }

  /** Namespaces whose state is kept (not yet swept as idle). */
  get trackedNamespaces(): number {
    return this.states.size;
  }

  acquire(request: RateLimitRequest): RateLimitRelease | undefined {
    const now = this.clock.now();
    if (now >= this.nextSweepAt) this.sweep(now);
    if (request.bucket === 'control') {
      this.acquireControl(request, now);
      return undefined;
    }
    const { namespace } = request;
    if (!namespace) return undefined;
    const scope = { namespace };
    const burst = this.settings.get(FrontendSettings.namespaceBurstRatio, scope);
    const rps = this.limit(request, 'rps');
    const aps = request.billable ? this.limit(request, 'aps') : 0;
    const rpsCapacity = Math.max(1, rps * burst);
    const apsCapacity = Math.max(1, aps * burst);

    let state = this.states.get(namespace);
    if (!state) {
      // Full: the first refill clamps Infinity to the capacity the limits then give.
      state = { rps: { tokens: Number.POSITIVE_INFINITY, at: now }, aps: { tokens: Number.POSITIVE_INFINITY, at: now }, polls: 0, fullAt: now };
      this.states.set(namespace, state);
    }

    if (request.poll) {
      const maxPolls = this.limit(request, 'maxConcurrentPolls');
      if (maxPolls > 0 && state.polls >= maxPolls) throw this.refusal(request, 'maxConcurrentPolls', maxPolls, undefined);
    }
    const servedFirst = request.workerProgress || request.priority === 0;
    const reservePercent = servedFirst ? 0 : this.settings.get(FrontendSettings.namespaceWorkerReservePercent, scope);
    if (rps > 0) {
      refill(state.rps, rps, rpsCapacity, now);
      this.check(request, state.rps, 'rps', rps, rpsCapacity, reservePercent);
    }
    if (aps > 0) {
      refill(state.aps, aps, apsCapacity, now);
      this.check(request, state.aps, 'aps', aps, apsCapacity, reservePercent);
    }

    // Admitted: take from every bucket at once (a call refused by one took nothing from the other).
    let fullIn = 0;
    if (rps > 0) {
      state.rps.tokens -= 1;
      fullIn = ((rpsCapacity - state.rps.tokens) * 1000) / rps;
    }
    if (aps > 0) {
      state.aps.tokens -= 1;
      fullIn = Math.max(fullIn, ((apsCapacity - state.aps.tokens) * 1000) / aps);
    }
    state.fullAt = Math.max(state.fullAt, now + fullIn);
    if (!request.poll) return undefined;
    state.polls += 1;
    const held = state;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held.polls -= 1;
    };
  }

  /**
   * The account APIs (CloudService) and the operator API: one RPS bucket per account (and one for
   * the operator), so one tenant's automation cannot crowd out another's, nor the control plane.
   */
  private acquireControl(request: RateLimitRequest, now: number): void {
    const rps = this.settings.get(FrontendSettings.accountControlRps);
    if (rps <= 0 || request.account === undefined) return;
    const key = request.account === '' ? 'the operator' : `account ${request.account}`;
    const capacity = Math.max(1, rps * this.settings.get(FrontendSettings.namespaceBurstRatio));
    let bucket = this.control.get(key);
    if (!bucket) {
      bucket = { tokens: Number.POSITIVE_INFINITY, at: now };
      this.control.set(key, bucket);
    }
    refill(bucket, rps, capacity, now);
    if (bucket.tokens + EPSILON < 1) {
      throw new ResourceExhaustedError(`${key} is over its ${rps} account-API calls per second (${FrontendSettings.accountControlRps.key}): ${request.method} refused, retry later`, {
        type: 'ResourceExhaustedFailure',
        cause: Cause.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT,
        scope: Scope.RESOURCE_EXHAUSTED_SCOPE_SYSTEM,
      });
    }
    bucket.tokens -= 1;
  }

  /** The namespace's limit of this kind: the record's operator-set value, else the setting. */
  private limit(request: RateLimitRequest, kind: LimitKind): number {
    return operatorLimit(request.limits, kind) ?? this.settings.get(SETTING_OF[kind], { namespace: request.namespace });
  }

  /** Throws unless the bucket has a token for this call above the reserve the call must leave. */
  private check(request: RateLimitRequest, bucket: Bucket, kind: LimitKind, rate: number, capacity: number, reservePercent: number): void {
    const reserve = Math.min((capacity * reservePercent) / 100, capacity - 1);
    if (bucket.tokens + EPSILON >= 1 + reserve) return;
    throw this.refusal(request, kind, rate, bucket.tokens + EPSILON >= 1 ? reservePercent : undefined);
  }

  /** `reservedPercent`: set when only the workers' reserve was left. */
  private refusal(request: RateLimitRequest, kind: LimitKind, limit: number, reservedPercent: number | undefined): ResourceExhaustedError {
    const name = request.namespace.length <= QUOTE_LIMIT ? request.namespace : quote(request.namespace);
    const source = operatorLimit(request.limits, kind) === undefined ? SETTING_OF[kind].key : `the namespace's limits.${kind}`;
    const reserved = reservedPercent === undefined ? '' : `; the last ${reservedPercent}% of its burst is kept for workers' polls, task completions and heartbeats`;
    // A refusal is an expected answer, sent hundreds of times a second to a flooding tenant, not a
    // bug: its stack would say nothing, and capturing one was a twentieth of a refusal's server CPU.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new ResourceExhaustedError(`namespace ${name} is over its ${limit} ${UNIT_OF[kind]} (${source}): ${request.method} refused, retry later${reserved}`, {
        type: 'ResourceExhaustedFailure',
        cause: CAUSE_OF[kind],
        scope: Scope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE,
      });
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  /** Drops the state of namespaces whose buckets are full again and that hold no poll. */
  private sweep(now: number): void {
    this.nextSweepAt = now + SWEEP_INTERVAL_MS;
    for (const [namespace, state] of this.states) {
      if (state.polls === 0 && state.fullAt <= now) this.states.delete(namespace);
    }
    // A control bucket untouched for a sweep interval is full again (its burst is seconds): as fresh.
    for (const [key, bucket] of this.control) {
      if (now - bucket.at >= SWEEP_INTERVAL_MS) this.control.delete(key);
    }
  }
}
