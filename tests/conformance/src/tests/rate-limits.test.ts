// Per-namespace rate limits on one server with two namespaces. Namespace FLOODED has a small APS
// (a namespace-scoped setting) and is offered starts far above it: the refused ones get
// RESOURCE_EXHAUSTED with a ResourceExhaustedFailure (APS_LIMIT, namespace scope) that a raw client
// decodes and the official client sees, and the official client's default retries back off and get
// through. Meanwhile every request of namespace STEADY succeeds: its official client has no retries
// (a single refusal would fail the test) and its official worker runs its workflows to completion.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { InterceptingCall, status, type Interceptor, type ServiceError } from '@grpc/grpc-js';
import { Client, Connection, defaultGrpcRetryOptions, isGrpcServiceError, makeGrpcRetryInterceptor } from '@temporalio/client';
import { google, temporal } from '@temporalio/proto';
import { conformanceFile, uniqueName } from '../harness';
import { rawWorkflowService, type RawWorkflowService } from '../harness/raw-grpc';
import { echoWorkflow, greetAndAdd } from '../workflows';

const FLOODED = 'rl-flooded';
const STEADY = 'rl-steady';
/** FLOODED's actions per second; the burst is twice that (frontend.namespaceBurstRatio 2). */
const APS = 5;
const BURST = 2 * APS;
const STEADY_WORKFLOWS = 20;
/** Starts FLOODED is offered at once, batch after batch, for as long as STEADY's workflows run. */
const FLOOD_BATCH = 50;

const file = conformanceFile({
  name: 'rate-limits',
  worker: false,
  server: {
    extraArgs: ['-n', FLOODED, STEADY],
    settings: { 'frontend.namespaceAPS': [{ value: APS, constraints: { namespace: FLOODED } }] },
  },
});

const { ResourceExhaustedCause, ResourceExhaustedScope } = temporal.api.enums.v1;

/** The ResourceExhaustedFailure of a refused call's grpc-status-details-bin. */
function resourceExhaustedFailure(err: ServiceError): temporal.api.errordetails.v1.ResourceExhaustedFailure {
  const bin = err.metadata?.get('grpc-status-details-bin')[0];
  assert.ok(bin instanceof Buffer, `the refusal carries grpc-status-details-bin: ${err.details}`);
  const [detail] = google.rpc.Status.decode(bin).details ?? [];
  assert.equal(detail?.type_url, 'type.googleapis.com/temporal.api.errordetails.v1.ResourceExhaustedFailure');
  return temporal.api.errordetails.v1.ResourceExhaustedFailure.decode(detail.value as Uint8Array);
}

function startInFlooded(raw: RawWorkflowService, taskQueue: string): Promise<'started' | ServiceError> {
  const workflowId = uniqueName('flood');
  return raw
    .call('StartWorkflowExecution', { namespace: FLOODED, workflowId, workflowType: { name: 'echoWorkflow' }, taskQueue: { name: taskQueue }, requestId: randomUUID() })
    .then(
      () => 'started' as const,
      (err: ServiceError) => err,
    );
}

/** Raw starts in FLOODED until one is refused; how many were admitted first. */
async function drainFlooded(raw: RawWorkflowService, taskQueue: string): Promise<number> {
  for (let admitted = 0; admitted < 10 * BURST; admitted++) {
    const outcome = await startInFlooded(raw, taskQueue);
    if (outcome !== 'started') return admitted;
  }
  throw new Error(`${10 * BURST} starts in a row were admitted in ${FLOODED}: its APS is not enforced`);
}

/** A connection whose client never retries: any refusal reaches the caller. */
async function connectWithoutRetries(address: string): Promise<Connection> {
  return Connection.connect({ address, interceptors: [] });
}

file.test(`a flood of starts in ${FLOODED} is refused over its ${APS} actions per second while every request of ${STEADY} succeeds`, async (_t, env) => {
  const raw = rawWorkflowService(env.server.address);
  const steadyConnection = await connectWithoutRetries(env.server.address);
  const floodedConnection = await connectWithoutRetries(env.server.address);
  try {
    await env.startExtraWorker({ namespace: STEADY });
    const steady = new Client({ connection: steadyConnection, namespace: STEADY });
    let steadyDone = false;
    const steadyRuns = (async () => {
      try {
        return await Promise.all(
          Array.from({ length: STEADY_WORKFLOWS }, (_, i) =>
            steady.workflow.execute(greetAndAdd, { taskQueue: env.taskQueue, workflowId: uniqueName('steady'), args: [`s${i}`, i, 1] }),
          ),
        );
      } finally {
        steadyDone = true;
      }
    })();

    const floodTaskQueue = uniqueName('flood-tq');
    const t0 = performance.now();
    let started = 0;
    const refusals: ServiceError[] = [];
    let officialRefusal: unknown;
    // At least a few batches, then for as long as STEADY's workflows run.
    for (let batch = 0; batch < 5 || !steadyDone; batch++) {
      const outcomes = await Promise.all(Array.from({ length: FLOOD_BATCH }, () => startInFlooded(raw, floodTaskQueue)));
      for (const outcome of outcomes) {
        if (outcome === 'started') started += 1;
        else refusals.push(outcome);
      }
      if (officialRefusal === undefined && batch < 10) {
        // The bucket is empty right after a batch: the official client, its retries off, sees the
        // refusal as it is. (On a slow store the bucket may refill a token before the call lands:
        // then that start is admitted, and the next batch empties the bucket again.)
        const flooded = new Client({ connection: floodedConnection, namespace: FLOODED });
        officialRefusal = await flooded.workflow.start(echoWorkflow, { taskQueue: floodTaskQueue, workflowId: uniqueName('official'), args: ['x'] }).then(
          () => {
            started += 1;
            return undefined;
          },
          (err: unknown) => err,
        );
      }
    }
    const seconds = (performance.now() - t0) / 1000;

    const results = await steadyRuns;
    assert.equal(results.length, STEADY_WORKFLOWS);
    assert.deepEqual(results.slice(0, 2), ['Hello, s0! 0+1=1 left/right', 'Hello, s1! 1+1=2 left/right']);

    assert.ok(refusals.length > 0, `${FLOODED} had starts refused (${started} admitted)`);
    // The burst, then the refill: never more than APS a second on average.
    assert.ok(started <= BURST + Math.ceil(APS * seconds) + 1, `${started} starts admitted in ${seconds.toFixed(1)} s at ${APS}/s with a burst of ${BURST}`);
    for (const refusal of refusals) {
      assert.equal(refusal.code, status.RESOURCE_EXHAUSTED, refusal.details);
      assert.match(refusal.details, new RegExp(`^namespace ${FLOODED} is over its ${APS} actions per second \\(frontend\\.namespaceAPS\\): StartWorkflowExecution refused`));
      const failure = resourceExhaustedFailure(refusal);
      assert.equal(failure.cause, ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_APS_LIMIT);
      assert.equal(failure.scope, ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
    }

    const grpcError = (officialRefusal as { cause?: unknown } | undefined)?.cause;
    assert.ok(isGrpcServiceError(grpcError), `the official client's start failed with a gRPC error as its cause: ${String(officialRefusal)}`);
    assert.equal(grpcError.code, status.RESOURCE_EXHAUSTED);
    assert.match(grpcError.details, new RegExp(`namespace ${FLOODED} is over its ${APS} actions per second`));
  } finally {
    raw.close();
    await steadyConnection.close();
    await floodedConnection.close();
  }
}, { timeoutMs: 120_000 });

file.test(`the official client's default retries back off on ${FLOODED}'s refusals and get its starts through`, async (_t, env) => {
  const raw = rawWorkflowService(env.server.address);
  // Every attempt's status, seen inside the SDK's retry interceptor.
  const attempts: status[] = [];
  const recordAttempts: Interceptor = (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        next(metadata, {
          onReceiveStatus(received, nextStatus) {
            attempts.push(received.code);
            nextStatus(received);
          },
        });
      },
    });
  const connection = await Connection.connect({ address: env.server.address, interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), recordAttempts] });
  try {
    const taskQueue = uniqueName('flood-tq');
    await drainFlooded(raw, taskQueue);
    attempts.length = 0; // not the connection's own GetSystemInfo
    // A drained bucket admits one start per 200 ms: most of these are refused at first and admitted on a retry.
    const client = new Client({ connection, namespace: FLOODED });
    const handles = await Promise.all(
      Array.from({ length: BURST }, () => client.workflow.start(echoWorkflow, { taskQueue, workflowId: uniqueName('backed-off'), args: ['x'] })),
    );
    assert.equal(handles.length, BURST);
    assert.ok(attempts.includes(status.RESOURCE_EXHAUSTED), `some attempts were refused: ${attempts.join(',')}`);
    assert.equal(attempts.filter((code) => code === status.OK).length, BURST, 'each start admitted once');
  } finally {
    raw.close();
    await connection.close();
  }
}, { timeoutMs: 90_000 });
