// What Hourglass does not serve, it says so cleanly: UNIMPLEMENTED naming the method, Nexus absent
// in GetSystemInfo, a worker that registers a Nexus service keeps running (its Nexus polls are held
// and answered empty), and a workflow that schedules a Nexus operation fails its workflow task with
// FEATURE_DISABLED at a paced rate instead of spinning.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { temporal } from '@temporalio/proto';
import * as nexus from 'nexus-rpc';
import { EventType, conformanceFile, eventsOfType, rejectionOf, uniqueName } from '../harness';
import { callNexusEcho, echoService, greetAndAdd } from '../workflows';

// Short long polls, so that a few seconds see several Nexus polls come back empty.
const file = conformanceFile({
  name: 'api-surface',
  server: { settings: { 'matching.longPollExpirationInterval': [{ value: '1s' }] } },
  workerOptions: { nexusServices: [nexus.serviceHandler(echoService, { echo: async (_ctx, input: string) => input })] },
});

file.test('methods not served answer UNIMPLEMENTED naming themselves, OperatorService too', async (_t, env) => {
  const ws = await rejectionOf(env.connection.workflowService.listWorkflowRules({ namespace: 'default' }), 'ListWorkflowRules');
  assert.equal((ws as { code?: number }).code, status.UNIMPLEMENTED);
  assert.match(String((ws as Error).message), /WorkflowService\/ListWorkflowRules is not implemented by Hourglass/);
  const op = await rejectionOf(env.connection.operatorService.listClusters({}), 'ListClusters');
  assert.equal((op as { code?: number }).code, status.UNIMPLEMENTED);
  assert.match(String((op as Error).message), /OperatorService\/ListClusters is not implemented by Hourglass/);
});

file.test('a worker asking for build-id versioning is refused with a reason, not served as an unversioned one', async (_t, env) => {
  const poll = await rejectionOf(
    env.connection.workflowService.pollWorkflowTaskQueue({
      namespace: 'default',
      taskQueue: { name: env.taskQueue },
      identity: 'build-id-worker',
      workerVersionCapabilities: { buildId: 'v1', useVersioning: true },
    }),
    'a build-id versioned poll',
  );
  assert.equal((poll as { code?: number }).code, status.FAILED_PRECONDITION);
  assert.match(String((poll as Error).message), /build-id based worker versioning is not supported by Hourglass/);
  // A deployment-versioned poll must name its version (served otherwise: see worker-versioning).
  const unnamed = await rejectionOf(
    env.connection.workflowService.pollWorkflowTaskQueue({
      namespace: 'default',
      taskQueue: { name: env.taskQueue },
      identity: 'versioned-worker',
      deploymentOptions: { deploymentName: 'orders', workerVersioningMode: temporal.api.enums.v1.WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED },
    }),
    'a versioned poll without a build id',
  );
  assert.equal((unnamed as { code?: number }).code, status.INVALID_ARGUMENT);
  assert.match(String((unnamed as Error).message), /deploymentOptions\.buildId/);
  const dotted = await rejectionOf(
    env.connection.workflowService.pollWorkflowTaskQueue({
      namespace: 'default',
      taskQueue: { name: env.taskQueue },
      identity: 'versioned-worker',
      deploymentOptions: { deploymentName: 'orders.eu', buildId: 'v1', workerVersioningMode: temporal.api.enums.v1.WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED },
    }),
    'a versioned poll with a dotted deployment name',
  );
  assert.equal((dotted as { code?: number }).code, status.INVALID_ARGUMENT);
  assert.match(String((dotted as Error).message), /must not contain '\.'/);
});

file.test('GetSystemInfo says Nexus is absent; a worker with a Nexus service outlives many empty Nexus polls', async (_t, env) => {
  const info = await env.connection.workflowService.getSystemInfo({});
  assert.equal(info.capabilities?.nexus ?? false, false);
  assert.equal(info.capabilities?.sdkMetadata, true);
  // Each Nexus poll is held ~1 s and answered empty; the worker keeps polling and keeps working.
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  assert.equal(env.worker?.worker.getState(), 'RUNNING', `worker state ${env.worker?.worker.getState()}, failure ${String(env.worker?.failure)}`);
  const result = await env.client.workflow.execute(greetAndAdd, { taskQueue: env.taskQueue, workflowId: uniqueName('after-nexus-polls'), args: ['nexus', 1, 2] });
  assert.match(result, /1\+2=3/);
});

file.test('a ScheduleNexusOperation command fails its workflow task with FEATURE_DISABLED, attempts paced, not spinning', async (_t, env) => {
  const handle = await env.client.workflow.start(callNexusEcho, { taskQueue: env.taskQueue, workflowId: uniqueName('nexus-call'), args: ['no-such-endpoint', 'hi'] });
  const watchMs = 6_000;
  await new Promise((resolve) => setTimeout(resolve, watchMs));
  const events = (await handle.fetchHistory()).events ?? [];
  const failed = eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
  assert.ok(failed.length >= 2, `the command was refused (${failed.length} failed workflow tasks)`);
  const cause = failed[0]?.workflowTaskFailedEventAttributes?.cause;
  assert.equal(cause, temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FEATURE_DISABLED);
  assert.match(String(failed[0]?.workflowTaskFailedEventAttributes?.failure?.message), /Nexus operations are not supported by Hourglass/);
  // Immediate retry, then 1 s, 2 s, 4 s...: at most ~5 attempts in 6 s (unpaced it was ~35 a second).
  assert.ok(failed.length <= 6, `${failed.length} failed workflow tasks in ${watchMs} ms: attempts are not paced`);
  const description = await handle.describe();
  assert.equal(description.status.name, 'RUNNING');
  await handle.terminate('test over');
});
