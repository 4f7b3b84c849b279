/**
 * The per-namespace rate limiter, driven through the rate-limit interceptor (so the method table's
 * rows are what classify each call) on a manual clock: buckets refill at their rate up to their
 * burst, worker progress is served before new work, poll places are given back, namespaces are
 * isolated, the namespace record's limits override the settings, and a refusal reaches the caller
 * as RESOURCE_EXHAUSTED with a ResourceExhaustedFailure the SDK decodes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { ManualClock, ResourceExhaustedError, SettingsRegistry, google, silentLogger, temporal, type SettingOverrides } from '@hourglass/common';
import type { NamespaceLimits, NamespaceRecord } from '@hourglass/persistence';
import { toServiceError } from '../grpc/errors';
import { WORKFLOW_SERVICE, methodSpec } from '../method-table';
import type { Call } from './chain';
import { rateLimitInterceptor } from './rate-limit';
import { NamespaceRateLimiter, SWEEP_INTERVAL_MS } from './rate-limiter';

const { ResourceExhaustedCause, ResourceExhaustedScope } = temporal.api.enums.v1;

function record(name: string, limits: NamespaceLimits): NamespaceRecord {
  return {
    id: `${name}-id`,
    name,
    accountId: '',
    resourceVersion: 1,
    limits,
    state: 'registered',
    description: '',
    ownerEmail: '',
    retentionMs: 86_400_000,
    data: {},
    createdAt: 0,
    updatedAt: 0,
  };
}

/** A call of `method` in `namespace` as the chain has it after namespace resolution. */
function callOf(method: string, namespace: string, limits: NamespaceLimits, request: unknown = {}): Call {
  const spec = methodSpec(WORKFLOW_SERVICE, method);
  assert.ok(spec, `${method} has a row`);
  const clusterScoped = spec.namespace.kind === 'none';
  return {
    service: WORKFLOW_SERVICE,
    method,
    fullMethod: `/${WORKFLOW_SERVICE}/${method}`,
    spec,
    request,
    context: { deadline: 0, signal: new AbortController().signal, metadata: new Metadata(), transport: 'plaintext' },
    logger: silentLogger(),
    namespaceName: clusterScoped ? '' : namespace,
    namespace: clusterScoped ? undefined : record(namespace, limits),
    principal: undefined,
    taskToken: undefined,
  };
}

class Harness {
  readonly clock = new ManualClock();
  readonly limiter: NamespaceRateLimiter;
  private readonly interceptor;

  constructor(overrides: SettingOverrides = {}) {
    this.limiter = new NamespaceRateLimiter(new SettingsRegistry(overrides), this.clock);
    this.interceptor = rateLimitInterceptor(this.limiter);
  }

  /** 'ok' when the call ran, else the error it was refused with. */
  async attempt(method: string, namespace = 'orders', limits: NamespaceLimits = {}): Promise<'ok' | ResourceExhaustedError> {
    try {
      await this.interceptor.intercept(callOf(method, namespace, limits), async () => 'ok');
      return 'ok';
    } catch (err) {
      if (err instanceof ResourceExhaustedError) return err;
      throw err;
    }
  }

  /** How many of `count` calls made now were admitted. */
  async admitted(count: number, method: string, namespace = 'orders', limits: NamespaceLimits = {}): Promise<number> {
    let n = 0;
    for (let i = 0; i < count; i++) if ((await this.attempt(method, namespace, limits)) === 'ok') n += 1;
    return n;
  }

  /** Starts a poll that stays open until `finish` (or `fail`) is called. */
  async openPoll(namespace = 'orders', limits: NamespaceLimits = {}): Promise<{ outcome: Promise<unknown>; finish: () => void; fail: () => void }> {
    let finish!: () => void;
    let fail!: () => void;
    const held = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = () => reject(new Error('the poll failed'));
    });
    let entered!: () => void;
    const handlerEntered = new Promise<void>((resolve) => (entered = resolve));
    const outcome = this.interceptor.intercept(callOf('PollWorkflowTaskQueue', namespace, limits), async () => {
      entered();
      await held;
      return {};
    });
    // A refused poll never reaches the handler: surface its refusal instead of waiting.
    await Promise.race([handlerEntered, outcome]);
    return { outcome, finish, fail };
  }
}

/** Only the buckets: no reserve for worker progress. */
const NO_RESERVE: SettingOverrides = { 'frontend.namespaceWorkerReservePercent': [{ value: 0 }] };

describe('per-namespace rate limiter', () => {
  it('refills a bucket at its rate, up to its burst', async () => {
    const h = new Harness({ ...NO_RESERVE, 'frontend.namespaceAPS': [{ value: 5 }] });
    // 5 actions per second, a burst of 2 seconds: 10 at once, then one every 200 ms.
    assert.equal(await h.admitted(15, 'StartWorkflowExecution'), 10);
    h.clock.advance(199);
    assert.equal(await h.admitted(1, 'StartWorkflowExecution'), 0, 'not a whole token yet');
    h.clock.advance(1);
    assert.equal(await h.admitted(3, 'StartWorkflowExecution'), 1);
    h.clock.advance(60_000);
    assert.equal(await h.admitted(15, 'StartWorkflowExecution'), 10, 'a long pause refills the burst, no more');
  });

  it('counts every call against RPS and only billable calls against APS', async () => {
    const h = new Harness({ ...NO_RESERVE, 'frontend.namespaceRPS': [{ value: 10 }], 'frontend.namespaceAPS': [{ value: 1 }] });
    assert.equal(await h.admitted(2, 'StartWorkflowExecution'), 2, 'APS burst: 2');
    assert.equal(await h.admitted(5, 'SignalWorkflowExecution'), 0, 'over APS; a refused call takes no RPS token either');
    assert.equal(await h.admitted(30, 'DescribeWorkflowExecution'), 18, 'not billable: the rest of the RPS burst of 20');
    const refused = await h.attempt('DescribeWorkflowExecution');
    assert.ok(refused instanceof ResourceExhaustedError);
    assert.equal(refused.detail?.type === 'ResourceExhaustedFailure' && refused.detail.cause, ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT);
  });

  it('keeps the last part of a bucket for worker progress: polls, completions and heartbeats pass while starts are refused', async () => {
    const h = new Harness({ 'frontend.namespaceAPS': [{ value: 5 }], 'frontend.namespaceRPS': [{ value: 50 }] });
    // APS bucket of 10 with 20 % kept for workers: new work stops at 2 tokens left.
    assert.equal(await h.admitted(20, 'StartWorkflowExecution'), 8);
    const refused = await h.attempt('SignalWithStartWorkflowExecution');
    assert.ok(refused instanceof ResourceExhaustedError);
    assert.match(refused.message, /namespace orders is over its 5 actions per second \(frontend\.namespaceAPS\): SignalWithStartWorkflowExecution refused, retry later; the last 20% of its burst is kept for workers/);
    assert.equal(await h.admitted(5, 'RecordActivityTaskHeartbeat'), 2, 'a worker takes the reserve');
    // The RPS bucket (100, 20 kept) holds 90 after those 10 calls: reads stop at 20, worker calls go on.
    assert.equal(await h.admitted(80, 'DescribeWorkflowExecution'), 70);
    assert.equal(await h.admitted(8, 'RespondWorkflowTaskCompleted'), 8);
    assert.equal(await h.admitted(8, 'RespondActivityTaskFailed'), 8, 'a failure report is worker progress too, whatever its priority number');
    const poll = await h.openPoll();
    poll.finish();
    await poll.outcome;
    assert.equal(await h.admitted(5, 'DescribeNamespace'), 3, 'priority 0 (system) takes the last tokens too');
  });

  it('under a sustained flood of starts, every worker completion is served and starts get the rest of the rate', async () => {
    const h = new Harness({ 'frontend.namespaceRPS': [{ value: 100 }], 'frontend.namespaceAPS': [{ value: 0 }] });
    let completions = 0;
    let starts = 0;
    // 5 s in 10 ms steps: 1,000 starts/s offered, 50 completions/s.
    for (let step = 0; step < 500; step++) {
      h.clock.advance(10);
      if (step % 2 === 0) {
        assert.equal(await h.attempt('RespondWorkflowTaskCompleted'), 'ok', `completion at ${step * 10} ms`);
        completions += 1;
      }
      starts += await h.admitted(10, 'StartWorkflowExecution');
    }
    assert.equal(completions, 250);
    // The burst less the reserve (200 - 40), then what refill the completions leave (500 - 250).
    assert.ok(starts >= 400 && starts <= 412, `starts admitted: ${starts}`);
  });

  it('caps the polls a namespace holds open, and gives a place back when a poll returns or fails', async () => {
    const h = new Harness({ 'frontend.namespaceCount': [{ value: 2 }] });
    const first = await h.openPoll();
    const second = await h.openPoll();
    const third = await h.attempt('PollActivityTaskQueue');
    assert.ok(third instanceof ResourceExhaustedError);
    assert.equal(third.detail?.type === 'ResourceExhaustedFailure' && third.detail.cause, ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT);
    assert.match(third.message, /namespace orders is over its 2 concurrent long polls \(frontend\.namespaceCount\)/);
    assert.equal(await h.attempt('PollWorkflowTaskQueue', 'other'), 'ok', 'another namespace has places of its own');
    assert.equal(await h.attempt('DescribeWorkflowExecution'), 'ok', 'other calls are not capped');
    first.finish();
    await first.outcome;
    const replacement = await h.openPoll();
    assert.ok((await h.attempt('PollWorkflowTaskQueue')) instanceof ResourceExhaustedError, 'one place freed, one taken');
    second.fail();
    await assert.rejects(second.outcome, /the poll failed/);
    const another = await h.openPoll();
    for (const p of [replacement, another]) {
      p.finish();
      await p.outcome;
    }
    assert.equal(await h.attempt('PollWorkflowTaskQueue'), 'ok');
  });

  it('gives a poll place back once, however often its release is called', () => {
    const clock = new ManualClock();
    const limiter = new NamespaceRateLimiter(new SettingsRegistry({ 'frontend.namespaceCount': [{ value: 1 }] }), clock);
    const request = { bucket: 'execution', priority: 4, namespace: 'orders', method: 'PollWorkflowTaskQueue', caller: undefined, account: undefined, limits: {}, billable: false, poll: true, workerProgress: true } as const;
    const release = limiter.acquire(request);
    assert.ok(release);
    release();
    release();
    const again = limiter.acquire(request);
    assert.ok(again);
    assert.throws(() => limiter.acquire(request), ResourceExhaustedError);
    again();
  });

  it('isolates namespaces: one over its limits leaves another untouched', async () => {
    const h = new Harness({ 'frontend.namespaceAPS': [{ value: 5 }] });
    assert.equal(await h.admitted(100, 'StartWorkflowExecution', 'noisy'), 8);
    assert.equal(await h.admitted(8, 'StartWorkflowExecution', 'quiet'), 8);
  });

  it('takes limits from the namespace record over the settings, and namespace-scoped settings over global ones', async () => {
    const h = new Harness({
      ...NO_RESERVE,
      'frontend.namespaceAPS': [{ value: 100 }, { value: 3, constraints: { namespace: 'small' } }],
    });
    assert.equal(await h.admitted(20, 'StartWorkflowExecution', 'small'), 6, 'namespace-scoped setting: 3/s, burst 6');
    assert.equal(await h.admitted(20, 'StartWorkflowExecution', 'capped', { aps: 2 }), 4, 'limits.aps: 2/s, burst 4');
    const refused = await h.attempt('StartWorkflowExecution', 'capped', { aps: 2 });
    assert.ok(refused instanceof ResourceExhaustedError);
    assert.match(refused.message, /namespace capped is over its 2 actions per second \(the namespace's limits\.aps\)/);
    assert.equal(await h.admitted(20, 'StartWorkflowExecution', 'small', { aps: 0 }), 20, 'limits.aps 0 turns the limit off');
    assert.equal(await h.admitted(5, 'DescribeWorkflowExecution', 'rps', { rps: 1 }), 2, 'limits.rps');
    const one = await h.openPoll('polls', { maxConcurrentPolls: 1 });
    const refusedPoll = await h.attempt('PollWorkflowTaskQueue', 'polls', { maxConcurrentPolls: 1 });
    assert.ok(refusedPoll instanceof ResourceExhaustedError);
    assert.match(refusedPoll.message, /over its 1 concurrent long polls \(the namespace's limits\.maxConcurrentPolls\)/);
    one.finish();
    await one.outcome;
  });

  it('does not limit cluster-scoped calls', async () => {
    const h = new Harness({ 'frontend.namespaceRPS': [{ value: 1 }] });
    assert.equal(await h.admitted(50, 'GetSystemInfo'), 50);
    assert.equal(h.limiter.trackedNamespaces, 0);
  });

  it('refuses with RESOURCE_EXHAUSTED and a ResourceExhaustedFailure the SDK decodes (cause and namespace scope)', async () => {
    const h = new Harness({ ...NO_RESERVE, 'frontend.namespaceAPS': [{ value: 1 }] });
    await h.admitted(2, 'StartWorkflowExecution');
    const refused = await h.attempt('StartWorkflowExecution');
    const serviceError = toServiceError(refused, 'StartWorkflowExecution', silentLogger());
    assert.equal(serviceError.code, status.RESOURCE_EXHAUSTED);
    assert.match(serviceError.details ?? '', /^namespace orders is over its 1 actions per second/);
    const bin = serviceError.metadata?.get('grpc-status-details-bin')[0];
    assert.ok(bin instanceof Buffer);
    const statusProto = google.rpc.Status.decode(bin);
    assert.equal(statusProto.code, status.RESOURCE_EXHAUSTED);
    const [detail] = statusProto.details ?? [];
    assert.equal(detail?.type_url, 'type.googleapis.com/temporal.api.errordetails.v1.ResourceExhaustedFailure');
    const failure = temporal.api.errordetails.v1.ResourceExhaustedFailure.decode(detail.value as Uint8Array);
    assert.equal(failure.cause, ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_APS_LIMIT);
    assert.equal(failure.scope, ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  });

  it('drops the state of idle namespaces once their buckets have refilled, but not while they hold a poll', async () => {
    const h = new Harness({ 'frontend.namespaceAPS': [{ value: 5 }] });
    await h.admitted(8, 'StartWorkflowExecution', 'busy');
    await h.admitted(1, 'DescribeWorkflowExecution', 'idle');
    const poll = await h.openPoll('polling');
    assert.equal(h.limiter.trackedNamespaces, 3);
    h.clock.advance(SWEEP_INTERVAL_MS);
    await h.admitted(1, 'DescribeWorkflowExecution', 'busy');
    assert.equal(h.limiter.trackedNamespaces, 2, "idle's state is gone, polling's kept for its open poll");
    poll.finish();
    await poll.outcome;
    h.clock.advance(SWEEP_INTERVAL_MS);
    await h.admitted(1, 'DescribeWorkflowExecution', 'other');
    assert.equal(h.limiter.trackedNamespaces, 1);
    assert.equal(await h.admitted(20, 'StartWorkflowExecution', 'busy'), 8, 'a dropped state comes back full, as it was');
  });

  it('refills nothing when the clock steps back, and carries on from the new reading', async () => {
    const h = new Harness({ ...NO_RESERVE, 'frontend.namespaceAPS': [{ value: 5 }] });
    assert.equal(await h.admitted(10, 'StartWorkflowExecution'), 10);
    h.clock.set(h.clock.now() - 10_000);
    assert.equal(await h.admitted(1, 'StartWorkflowExecution'), 0);
    h.clock.advance(200);
    assert.equal(await h.admitted(2, 'StartWorkflowExecution'), 1);
  });

  it('serves new work from a full bucket whatever the reserve', async () => {
    const h = new Harness({ 'frontend.namespaceAPS': [{ value: 1 }], 'frontend.namespaceBurstRatio': [{ value: 1 }], 'frontend.namespaceWorkerReservePercent': [{ value: 100 }] });
    assert.equal(await h.admitted(3, 'StartWorkflowExecution'), 1);
    h.clock.advance(1000);
    assert.equal(await h.admitted(3, 'StartWorkflowExecution'), 1);
  });
});

describe('account API rate limit', () => {
  const control = (account: string | undefined, method = 'CreateUser') =>
    ({ bucket: 'control', priority: 2, namespace: '', method, caller: undefined, account, limits: undefined, billable: false, poll: false, workerProgress: false }) as const;

  it('gives each account, and the operator, a bucket of its own', () => {
    const clock = new ManualClock();
    const limiter = new NamespaceRateLimiter(new SettingsRegistry({ 'frontend.accountControlRPS': [{ value: 5 }], 'frontend.namespaceBurstRatio': [{ value: 1 }] }), clock);
    const admitted = (account: string): number => {
      let n = 0;
      for (let i = 0; i < 20; i++) {
        try {
          limiter.acquire(control(account));
          n += 1;
        } catch (err) {
          assert.ok(err instanceof ResourceExhaustedError);
          assert.match(err.message, account ? new RegExp(`^account ${account} is over its 5 account-API calls per second \\(frontend\\.accountControlRPS\\): CreateUser refused`) : /^the operator is over its 5/);
        }
      }
      return n;
    };
    assert.equal(admitted('acme1'), 5, 'the burst, then refused');
    assert.equal(admitted('other'), 5, "another account's bucket is untouched");
    assert.equal(admitted(''), 5, 'the operator has its own');
    clock.advance(1_000);
    assert.equal(admitted('acme1'), 5, 'refilled at its rate');
  });

  it('an unauthenticated call (refused by authentication anyway) and a limit of 0 take nothing', () => {
    const limiter = new NamespaceRateLimiter(new SettingsRegistry({ 'frontend.accountControlRPS': [{ value: 0 }] }), new ManualClock());
    for (let i = 0; i < 1000; i++) limiter.acquire(control('acme1'));
    const limited = new NamespaceRateLimiter(new SettingsRegistry({ 'frontend.accountControlRPS': [{ value: 1 }] }), new ManualClock());
    for (let i = 0; i < 10; i++) limited.acquire(control(undefined));
  });
});
