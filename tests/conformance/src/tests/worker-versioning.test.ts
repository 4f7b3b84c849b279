// Worker deployments and versioning with the official worker's `workerDeploymentOptions`, driven as
// Temporal's worker-versioning sample drives it: a v1 worker registers its version by polling,
// DescribeWorkerDeployment shows it, SetWorkerDeploymentCurrentVersion makes it current; a PINNED
// workflow stays on v1 after v2 becomes current while an AUTO_UPGRADE one moves to v2, and new
// workflows start on v2 (a pinned workflow's child and continued run stay on v1, and so does one
// started with a pinned versioning override); a ramping v3 takes the ramp's share of workflow ids, the same ids each
// time; a version is not deleted while current, ramping, polled or running pinned workflows, and is
// once its workers stopped and its pinned workflows closed.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { WorkflowService } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { toCanonicalString } from '@temporalio/common';
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import { NAMESPACE, conformanceFile, eventually, rejectionOf, uniqueName, type ConformanceEnv, type RunningWorker } from '../harness';
import { autoUpgradeBuilds, oneBuild, pinnedBuilds, pinnedFamily, proceedSignal } from '../workflows';

const file = conformanceFile({ name: 'worker-versioning', worker: false });

const Behavior = temporal.api.enums.v1.VersioningBehavior;
const VersionStatus = temporal.api.enums.v1.WorkerDeploymentVersionStatus;
const TaskQueueType = temporal.api.enums.v1.TaskQueueType;

function deploymentOptions(deploymentName: string, buildId: string): WorkerDeploymentOptions {
  return { useWorkerVersioning: true, version: { deploymentName, buildId }, defaultVersioningBehavior: 'AUTO_UPGRADE' };
}

/** A worker of one build on the test's own task queue: its `whichBuild` activity answers the build id. */
function startVersionWorker(env: ConformanceEnv, taskQueue: string, deploymentName: string, buildId: string): Promise<RunningWorker> {
  return env.startExtraWorker({ taskQueue, workerDeploymentOptions: deploymentOptions(deploymentName, buildId), activities: { whichBuild: async () => buildId } });
}

/** Waits until the deployment lists the version (its worker's first poll registers it), as the sample's driver does. */
async function waitForVersion(ws: WorkflowService, deploymentName: string, buildId: string): Promise<temporal.api.workflowservice.v1.DescribeWorkerDeploymentResponse> {
  return eventually(
    async () => {
      const d = await ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName });
      return d.workerDeploymentInfo?.versionSummaries?.some((v) => v.deploymentVersion?.buildId === buildId) ? d : undefined;
    },
    { timeoutMs: 15_000, description: `version ${buildId} of ${deploymentName} registered` },
  );
}

async function setCurrent(ws: WorkflowService, deploymentName: string, buildId: string): Promise<void> {
  const described = await waitForVersion(ws, deploymentName, buildId);
  await ws.setWorkerDeploymentCurrentVersion({ namespace: NAMESPACE, deploymentName, buildId, conflictToken: described.conflictToken, identity: 'versioning-test' });
}

async function versioningOf(env: ConformanceEnv, workflowId: string) {
  return (await env.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.versioningInfo ?? undefined;
}

function codeOf(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

file.test(
  'a deployment with two versions: a pinned workflow stays on v1 while new and auto-upgrade ones go to the current v2; v3 ramps by workflow id; deletion is guarded',
  async (_t, env) => {
    const ws = env.client.workflowService;
    const deploymentName = uniqueName('orders');
    const taskQueue = uniqueName('versioned');
    const v1 = await startVersionWorker(env, taskQueue, deploymentName, 'v1');

    // Registered from polls: the version, with both task queue types of the worker.
    await waitForVersion(ws, deploymentName, 'v1');
    const version = await eventually(async () => {
      const v = await ws.describeWorkerDeploymentVersion({ namespace: NAMESPACE, deploymentVersion: { deploymentName, buildId: 'v1' } });
      return (v.versionTaskQueues ?? []).length === 2 ? v : undefined;
    });
    assert.deepEqual(
      (version.versionTaskQueues ?? []).map((q) => [q.name, q.type]).sort(),
      [
        [taskQueue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
        [taskQueue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
      ].sort(),
    );
    assert.equal(version.workerDeploymentVersionInfo?.status, VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE);
    const withStats = await ws.describeWorkerDeploymentVersion({ namespace: NAMESPACE, deploymentVersion: { deploymentName, buildId: 'v1' }, reportTaskQueueStats: true });
    assert.ok((withStats.versionTaskQueues ?? []).every((q) => q.stats && Number(q.stats.approximateBacklogCount) === 0), 'stats of each queue of the version');
    // DescribeTaskQueue lists the versioned pollers with their deployment options.
    const described = await eventually(async () => {
      const d = await ws.describeTaskQueue({ namespace: NAMESPACE, taskQueue: { name: taskQueue }, taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW });
      return (d.pollers ?? []).length > 0 ? d : undefined;
    });
    assert.deepEqual(
      (described.pollers ?? []).map((p) => [p.deploymentOptions?.deploymentName, p.deploymentOptions?.buildId]),
      [[deploymentName, 'v1']],
    );

    // A stale conflict token changes nothing.
    const before = await ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName });
    await setCurrent(ws, deploymentName, 'v1');
    const stale = await rejectionOf(ws.setWorkerDeploymentRampingVersion({ namespace: NAMESPACE, deploymentName, buildId: 'v1', percentage: 10, conflictToken: before.conflictToken }), 'a stale token');
    assert.equal(codeOf(stale), status.FAILED_PRECONDITION);
    const afterCurrent = await ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName });
    assert.equal(afterCurrent.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId, 'v1');
    assert.equal(afterCurrent.workerDeploymentInfo?.routingConfig?.rampingDeploymentVersion ?? undefined, undefined);
    assert.equal(afterCurrent.workerDeploymentInfo?.lastModifierIdentity, 'versioning-test');

    // Both start on v1 and wait for the signal.
    const pinned = await env.client.workflow.start(pinnedBuilds, { taskQueue, workflowId: uniqueName('pinned') });
    const auto = await env.client.workflow.start(autoUpgradeBuilds, { taskQueue, workflowId: uniqueName('auto') });
    const family = await env.client.workflow.start(pinnedFamily, { taskQueue, workflowId: uniqueName('family'), args: [] });
    // Pinned to v1 by its code, moved to v2 by an operator's override.
    const moved = await env.client.workflow.start(pinnedBuilds, { taskQueue, workflowId: uniqueName('moved') });
    // Never signalled: keeps v1 draining until it is terminated.
    const lingering = await env.client.workflow.start(pinnedBuilds, { taskQueue, workflowId: uniqueName('lingering') });
    const pinnedInfo = await eventually(async () => {
      const info = await versioningOf(env, pinned.workflowId);
      return info?.behavior === Behavior.VERSIONING_BEHAVIOR_PINNED ? info : undefined;
    });
    assert.equal(pinnedInfo.deploymentVersion?.buildId, 'v1');
    assert.equal(pinnedInfo.deploymentVersion?.deploymentName, deploymentName);
    const autoInfo = await eventually(async () => {
      const info = await versioningOf(env, auto.workflowId);
      return info?.behavior === Behavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE ? info : undefined;
    });
    assert.equal(autoInfo.deploymentVersion?.buildId, 'v1');

    // v2 becomes current.
    await startVersionWorker(env, taskQueue, deploymentName, 'v2');
    await setCurrent(ws, deploymentName, 'v2');

    await pinned.signal(proceedSignal);
    await auto.signal(proceedSignal);
    assert.deepEqual(await pinned.result(), ['v1', 'v1'], 'the pinned workflow stayed on v1');
    assert.deepEqual(await auto.result(), ['v1', 'v2'], 'the auto-upgrade workflow moved to v2');
    await eventually(async () => (await versioningOf(env, family.workflowId))?.behavior === Behavior.VERSIONING_BEHAVIOR_PINNED);
    await family.signal(proceedSignal);
    assert.deepEqual(await family.result(), ['v1', 'v1'], 'the child of a pinned workflow and its continued run inherit v1');
    await eventually(async () => (await versioningOf(env, moved.workflowId))?.behavior === Behavior.VERSIONING_BEHAVIOR_PINNED);
    const updated = await ws.updateWorkflowExecutionOptions({
      namespace: NAMESPACE,
      workflowExecution: { workflowId: moved.workflowId },
      workflowExecutionOptions: { versioningOverride: { pinned: { version: { deploymentName, buildId: 'v2' } } } },
      updateMask: { paths: ['versioning_override'] },
      identity: 'versioning-test',
    });
    assert.equal(updated.workflowExecutionOptions?.versioningOverride?.pinned?.version?.buildId, 'v2');
    await moved.signal(proceedSignal);
    assert.deepEqual(await moved.result(), ['v1', 'v2'], 'the override moved the pinned workflow to v2');
    const badMask = await rejectionOf(
      ws.updateWorkflowExecutionOptions({ namespace: NAMESPACE, workflowExecution: { workflowId: moved.workflowId }, workflowExecutionOptions: {}, updateMask: { paths: ['priority'] } }),
      'an unsupported option',
    );
    assert.equal(codeOf(badMask), status.INVALID_ARGUMENT);
    assert.equal((await versioningOf(env, auto.workflowId))?.deploymentVersion?.buildId, 'v2');
    assert.equal((await versioningOf(env, pinned.workflowId))?.deploymentVersion?.buildId, 'v1');
    assert.equal(await env.client.workflow.execute(oneBuild, { taskQueue, workflowId: uniqueName('new') }), 'v2', 'a new workflow starts on v2');
    // A start's override pins a workflow to v1 whatever its code declares.
    const overridden = await env.client.workflow.start(oneBuild, { taskQueue, workflowId: uniqueName('override'), versioningOverride: { pinnedTo: { deploymentName, buildId: 'v1' } } });
    assert.equal(await overridden.result(), 'v1');
    const overrideInfo = await versioningOf(env, overridden.workflowId);
    assert.deepEqual({ ...overrideInfo?.versioningOverride?.pinned?.version }, { deploymentName, buildId: 'v1' });
    assert.equal(overrideInfo?.behavior, Behavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE, 'what its code declared');
    const badOverride = await rejectionOf(
      env.client.workflow.start(oneBuild, { taskQueue, workflowId: uniqueName('bad-override'), versioningOverride: { pinnedTo: { deploymentName: '', buildId: 'v1' } } }),
      'an override without a deployment',
    );
    const cause = (badOverride as Error).cause as { code?: number; message?: string } | undefined;
    assert.equal(cause?.code, status.INVALID_ARGUMENT);
    assert.match(String(cause?.message), /versioningOverride\.pinned\.version\.deploymentName must not be empty/);

    // v3 ramps at 30%: a share of the ids near 30% go to v3, the same ids on a second run.
    await startVersionWorker(env, taskQueue, deploymentName, 'v3');
    const withV3 = await waitForVersion(ws, deploymentName, 'v3');
    await ws.setWorkerDeploymentRampingVersion({ namespace: NAMESPACE, deploymentName, buildId: 'v3', percentage: 30, conflictToken: withV3.conflictToken, identity: 'versioning-test' });
    const ramped = await ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName });
    assert.equal(ramped.workerDeploymentInfo?.routingConfig?.rampingDeploymentVersion?.buildId, 'v3');
    assert.equal(ramped.workerDeploymentInfo?.routingConfig?.rampingVersionPercentage, 30);
    // Fixed ids (the server is this file's own): the split is the same on every run of the test.
    const ids = Array.from({ length: 60 }, (_, i) => `versioning-ramp-${i}`);
    const runAll = () => Promise.all(ids.map((workflowId) => env.client.workflow.execute(oneBuild, { taskQueue, workflowId })));
    const first = await runAll();
    const onV3 = first.filter((b) => b === 'v3').length;
    assert.deepEqual([...new Set(first)].sort(), ['v2', 'v3'], `only the current and the ramping version ran them: ${first.join(',')}`);
    assert.ok(onV3 >= 8 && onV3 <= 30, `about 30% of 60 workflows on v3, got ${onV3}`);
    assert.deepEqual(await runAll(), first, 'each workflow id lands on the same version again');

    // Deletion: refused for the current and the ramping version and while v1 has pollers.
    for (const buildId of ['v2', 'v3', 'v1']) {
      const refused = await rejectionOf(ws.deleteWorkerDeploymentVersion({ namespace: NAMESPACE, deploymentVersion: { deploymentName, buildId } }), `deleting ${buildId}`);
      assert.equal(codeOf(refused), status.FAILED_PRECONDITION, `deleting ${buildId}: ${String(refused)}`);
    }
    const refusedDeployment = await rejectionOf(ws.deleteWorkerDeployment({ namespace: NAMESPACE, deploymentName }), 'deleting a deployment with versions');
    assert.equal(codeOf(refusedDeployment), status.FAILED_PRECONDITION);
    // Search finds the runs pinned to v1 by Temporal's attributes.
    const pinnedToV1 = await eventually(async () => {
      const ids: string[] = [];
      for await (const w of env.client.workflow.list({ query: `TemporalWorkerDeploymentVersion = '${deploymentName}:v1' AND TemporalWorkflowVersioningBehavior = 'Pinned' AND WorkflowType = 'pinnedBuilds'` })) ids.push(w.workflowId);
      return ids.length === 2 ? ids.sort() : undefined;
    });
    assert.deepEqual(pinnedToV1, [lingering.workflowId, pinned.workflowId].sort());
    const polled = await rejectionOf(ws.deleteWorkerDeploymentVersion({ namespace: NAMESPACE, deploymentVersion: { deploymentName, buildId: 'v1' }, skipDrainage: true }), 'deleting a polled v1');
    assert.equal(codeOf(polled), status.FAILED_PRECONDITION);
    assert.match(String((polled as Error).message), /active pollers/);
    await v1.shutdown();
    // Its pollers gone, v1 still runs a pinned workflow: it is draining.
    const draining = await eventually(
      async () => {
        // Named by its canonical string (the deprecated field) this time.
        const err = await rejectionOf(ws.deleteWorkerDeploymentVersion({ namespace: NAMESPACE, version: toCanonicalString({ deploymentName, buildId: 'v1' }) }), 'deleting a draining v1');
        return /draining/.test(String((err as Error).message)) ? err : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000, description: 'v1 refused as draining once its pollers are gone' },
    );
    assert.equal(codeOf(draining), status.FAILED_PRECONDITION);
    const v1Info = (await ws.describeWorkerDeploymentVersion({ namespace: NAMESPACE, deploymentVersion: { deploymentName, buildId: 'v1' } })).workerDeploymentVersionInfo;
    assert.equal(v1Info?.status, VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING);
    assert.equal(v1Info?.drainageInfo?.status, temporal.api.enums.v1.VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING);
    await lingering.terminate('drained by the test');
    await eventually(async () => {
      const d = await ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName });
      const v = d.workerDeploymentInfo?.versionSummaries?.find((x) => x.deploymentVersion?.buildId === 'v1');
      return v?.status === VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED && v.drainageStatus === temporal.api.enums.v1.VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED;
    }, { description: 'v1 drained once its last pinned workflow closed' });
    await eventually(() => ws.deleteWorkerDeploymentVersion({ namespace: NAMESPACE, deploymentVersion: { deploymentName, buildId: 'v1' }, identity: 'versioning-test' }), {
      timeoutMs: 15_000,
      intervalMs: 500,
      description: 'v1 deleted once drained and without pollers',
    });
    const gone = await rejectionOf(ws.describeWorkerDeploymentVersion({ namespace: NAMESPACE, deploymentVersion: { deploymentName, buildId: 'v1' } }), 'describing a deleted version');
    assert.equal(codeOf(gone), status.NOT_FOUND);
    const listed = await ws.listWorkerDeployments({ namespace: NAMESPACE });
    const summary = (listed.workerDeployments ?? []).find((d) => d.name === deploymentName);
    assert.equal(summary?.routingConfig?.currentDeploymentVersion?.buildId, 'v2');
    assert.equal(summary?.currentVersionSummary?.deploymentVersion?.buildId, 'v2');
    assert.equal(summary?.rampingVersionSummary?.deploymentVersion?.buildId, 'v3');
    assert.deepEqual(
      (await ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName })).workerDeploymentInfo?.versionSummaries?.map((v) => v.deploymentVersion?.buildId).sort(),
      ['v2', 'v3'],
    );
  },
  { timeoutMs: 180_000 },
);

file.test('unknown deployments and versions are NOT_FOUND, bad input INVALID_ARGUMENT, and nothing changes', async (_t, env) => {
  const ws = env.client.workflowService;
  const missing = uniqueName('missing');
  // One call at a time: a rejection nobody awaits yet would be reported as unhandled.
  for (const [what, call] of [
    ['describe', () => ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName: missing })],
    ['set current', () => ws.setWorkerDeploymentCurrentVersion({ namespace: NAMESPACE, deploymentName: missing, buildId: 'v1' })],
    ['describe version', () => ws.describeWorkerDeploymentVersion({ namespace: NAMESPACE, deploymentVersion: { deploymentName: missing, buildId: 'v1' } })],
    ['delete', () => ws.deleteWorkerDeployment({ namespace: NAMESPACE, deploymentName: missing })],
  ] as const) {
    const err = await rejectionOf(call(), what);
    assert.equal(codeOf(err), status.NOT_FOUND, `${what}: ${String(err)}`);
    assert.match(String((err as Error).message), /not found/);
  }

  const deploymentName = uniqueName('checked');
  const taskQueue = uniqueName('versioned');
  const worker = await startVersionWorker(env, taskQueue, deploymentName, 'b1');
  const described = await waitForVersion(ws, deploymentName, 'b1');
  const unknownVersion = await rejectionOf(ws.setWorkerDeploymentCurrentVersion({ namespace: NAMESPACE, deploymentName, buildId: 'nope' }), 'an unknown build id');
  assert.equal(codeOf(unknownVersion), status.NOT_FOUND);
  for (const percentage of [-1, 101]) {
    const bad = await rejectionOf(ws.setWorkerDeploymentRampingVersion({ namespace: NAMESPACE, deploymentName, buildId: 'b1', percentage }), `percentage ${percentage}`);
    assert.equal(codeOf(bad), status.INVALID_ARGUMENT);
    assert.match(String((bad as Error).message), /percentage/);
  }
  const noName = await rejectionOf(ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName: '' }), 'an empty deployment name');
  assert.equal(codeOf(noName), status.INVALID_ARGUMENT);
  const after = await ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName });
  assert.deepEqual(Buffer.from(after.conflictToken), Buffer.from(described.conflictToken), 'refused changes changed nothing');
  assert.equal(after.workerDeploymentInfo?.routingConfig?.rampingDeploymentVersion ?? undefined, undefined);
  await worker.shutdown();
});

file.test('SIGKILL: the deployment, its current version and a pinned workflow’s version survive a restart', async (_t, env) => {
  const ws = env.client.workflowService;
  const deploymentName = uniqueName('durable');
  const taskQueue = uniqueName('versioned');
  await startVersionWorker(env, taskQueue, deploymentName, 'd1');
  await setCurrent(ws, deploymentName, 'd1');
  const pinned = await env.client.workflow.start(pinnedBuilds, { taskQueue, workflowId: uniqueName('durable-pinned') });
  await eventually(async () => (await versioningOf(env, pinned.workflowId))?.behavior === Behavior.VERSIONING_BEHAVIOR_PINNED);
  await startVersionWorker(env, taskQueue, deploymentName, 'd2');
  await setCurrent(ws, deploymentName, 'd2');
  const before = await ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName });

  await env.server.kill();
  await env.server.restart();

  const after = await eventually(() => ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName }), { timeoutMs: 20_000, description: 'the deployment after the restart' });
  assert.deepEqual(Buffer.from(after.conflictToken), Buffer.from(before.conflictToken));
  assert.equal(after.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId, 'd2');
  assert.deepEqual(after.workerDeploymentInfo?.versionSummaries?.map((v) => v.deploymentVersion?.buildId).sort(), ['d1', 'd2']);
  await pinned.signal(proceedSignal);
  assert.deepEqual(await pinned.result(), ['d1', 'd1'], 'still pinned to d1 after the restart');
  assert.equal(await env.client.workflow.execute(oneBuild, { taskQueue, workflowId: uniqueName('durable-new') }), 'd2');
}, { timeoutMs: 120_000 });

file.test('tasks waiting for a current version, or on a version no longer current, run on the new current version', async (_t, env) => {
  const ws = env.client.workflowService;
  const deploymentName = uniqueName('late');
  const taskQueue = uniqueName('versioned');
  const l1 = await startVersionWorker(env, taskQueue, deploymentName, 'l1');
  await waitForVersion(ws, deploymentName, 'l1');
  // No current version yet: the task waits for unversioned workers, and there are none.
  const early = await env.client.workflow.start(oneBuild, { taskQueue, workflowId: uniqueName('early') });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal((await early.describe()).raw.pendingWorkflowTask?.state, temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED, 'not taken before a current version exists');
  await setCurrent(ws, deploymentName, 'l1');
  assert.equal(await early.result(), 'l1');

  // l1's workers stop with a task in its backlog; making 2.0 current moves it there.
  await l1.shutdown();
  const stranded = await env.client.workflow.start(oneBuild, { taskQueue, workflowId: uniqueName('stranded') });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await startVersionWorker(env, taskQueue, deploymentName, '2.0');
  // As Temporal's worker-versioning sample: the version named by its canonical string (the deprecated
  // fields), `<deployment>.<buildId>` with a build id that holds dots too.
  const l2 = { deploymentName, buildId: '2.0' };
  await eventually(async () => {
    const d = await ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName });
    return d.workerDeploymentInfo?.versionSummaries?.some((v) => v.version === toCanonicalString(l2));
  });
  await ws.setWorkerDeploymentCurrentVersion({ namespace: NAMESPACE, deploymentName, version: toCanonicalString(l2) });
  assert.equal(await stranded.result(), '2.0');
  const routing = (await ws.describeWorkerDeployment({ namespace: NAMESPACE, deploymentName })).workerDeploymentInfo?.routingConfig;
  assert.equal(routing?.currentVersion, toCanonicalString(l2));
  assert.deepEqual({ ...routing?.currentDeploymentVersion }, l2);
});
