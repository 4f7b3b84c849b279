import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { NotFoundError, FailedPreconditionError, InvalidArgumentError, temporal } from '@hourglass/common';
import { versionedTaskQueueName } from '@hourglass/contracts';
import { createTestEngine, eventually, startTimer, type TestEngine } from '../testing/engine-fixture';
import { rampBucket } from './worker-deployments';

const Behavior = temporal.api.enums.v1.VersioningBehavior;
const VERSIONED = temporal.api.enums.v1.WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED;
const v1 = { deploymentName: 'orders', buildId: 'v1' };
const v2 = { deploymentName: 'orders', buildId: 'v2' };

describe('worker deployments', () => {
  let te: TestEngine;
  let commits: number;
  beforeEach(async () => {
    te = await createTestEngine();
    commits = 0;
    const store = te.persistence.executions;
    const commit = store.commit.bind(store);
    store.commit = (c) => {
      commits += 1;
      return commit(c);
    };
  });
  afterEach(() => te.close());

  const ns = () => te.namespace.id;
  const register = (version: typeof v1, type: 'workflow' | 'activity' = 'workflow') =>
    te.engine.registerWorkerDeploymentVersion({ namespaceId: ns(), version, taskQueue: { name: 'tq', type }, identity: 'worker-1' });
  const setCurrent = (buildId: string) =>
    te.engine.setWorkerDeploymentCurrentVersion({ namespaceId: ns(), request: { namespace: te.namespace.name, deploymentName: 'orders', buildId, identity: 'operator' } });
  const lastPushed = (workflowId: string) => [...te.matching.pushed].reverse().find((p) => p.workflowId === workflowId && p.kind === 'workflow');

  it('a poll registers once: later polls of the same version and queue write nothing', async () => {
    await register(v1);
    assert.equal(commits, 1);
    for (let i = 0; i < 20; i++) await register(v1);
    assert.equal(commits, 1, 'repeated polls are served from the cache');
    await register(v1, 'activity');
    assert.equal(commits, 2, 'a new queue type is a new registration');
    const d = await te.engine.describeWorkerDeploymentVersion({ namespaceId: ns(), request: { deploymentVersion: v1 } });
    assert.deepEqual(d.workerDeploymentVersionInfo?.taskQueueInfos?.map((q) => q.type).sort(), [
      temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    ]);
  });

  it('routes to the current version, keeps a pinned workflow on its own, and records its versioning info', async () => {
    await register(v1);
    const unversionedRun = await te.start('before-current');
    await eventually(() => lastPushed('before-current'));
    assert.equal(lastPushed('before-current')?.taskQueueName, 'tq', 'no current version: the unversioned queue');
    await te.engine.terminateWorkflowExecution({ namespaceId: ns(), request: { namespace: te.namespace.name, workflowExecution: { workflowId: 'before-current', runId: unversionedRun } } });

    await setCurrent('v1');
    const runId = await te.start('pinned');
    await eventually(() => lastPushed('pinned'));
    assert.equal(lastPushed('pinned')?.taskQueueName, versionedTaskQueueName('tq', v1));
    const first = await te.startWorkflowTask('pinned', runId);
    await te.complete(first.token, [startTimer('t', 60_000)], {
      versioningBehavior: Behavior.VERSIONING_BEHAVIOR_PINNED,
      deploymentOptions: { ...v1, workerVersioningMode: VERSIONED },
    });
    const described = await te.engine.describeWorkflowExecution({ namespaceId: ns(), request: { namespace: te.namespace.name, execution: { workflowId: 'pinned', runId } } });
    assert.equal(described.workflowExecutionInfo?.versioningInfo?.behavior, Behavior.VERSIONING_BEHAVIOR_PINNED);
    assert.deepEqual(described.workflowExecutionInfo?.versioningInfo?.deploymentVersion, v1);

    await register(v2);
    await setCurrent('v2');
    await te.engine.signalWorkflowExecution({ namespaceId: ns(), request: { namespace: te.namespace.name, workflowExecution: { workflowId: 'pinned', runId }, signalName: 's', identity: 'test' } });
    await eventually(() => te.matching.pushed.filter((p) => p.workflowId === 'pinned' && p.kind === 'workflow').length === 2);
    assert.equal(lastPushed('pinned')?.taskQueueName, versionedTaskQueueName('tq', v1), 'the pinned workflow stays on v1');

    await te.start('new');
    await eventually(() => lastPushed('new'));
    assert.equal(lastPushed('new')?.taskQueueName, versionedTaskQueueName('tq', v2), 'a new workflow goes to the current v2');
  });

  it('refuses bad input and unknown names without changing anything', async () => {
    await register(v1);
    const before = commits;
    await assert.rejects(setCurrent('nope'), NotFoundError);
    await assert.rejects(
      te.engine.setWorkerDeploymentRampingVersion({ namespaceId: ns(), request: { deploymentName: 'orders', buildId: 'v1', percentage: 120 } }),
      (err: unknown) => err instanceof InvalidArgumentError && /percentage 120/.test(err.message),
    );
    await setCurrent('v1');
    await assert.rejects(
      te.engine.setWorkerDeploymentRampingVersion({ namespaceId: ns(), request: { deploymentName: 'orders', buildId: 'v1', percentage: 10 } }),
      FailedPreconditionError,
    );
    await assert.rejects(te.engine.deleteWorkerDeploymentVersion({ namespaceId: ns(), request: { deploymentVersion: v1 } }), FailedPreconditionError);
    await assert.rejects(te.engine.describeWorkerDeployment({ namespaceId: ns(), request: { deploymentName: 'other' } }), NotFoundError);
    assert.equal(commits, before + 1, 'only setting the current version wrote');
  });

  it('with allowNoPollers, a routing change names a version no worker polled yet, and creates it', async () => {
    await register(v1);
    await assert.rejects(
      te.engine.setWorkerDeploymentRampingVersion({ namespaceId: ns(), request: { deploymentName: 'orders', buildId: 'v9', percentage: 5 } }),
      (err: unknown) => err instanceof NotFoundError && /orders\.v9/.test(err.message),
    );
    const res = await te.engine.setWorkerDeploymentRampingVersion({ namespaceId: ns(), request: { deploymentName: 'orders', buildId: 'v9', percentage: 5, allowNoPollers: true } });
    assert.equal(res.previousVersion, '', 'no ramp before');
    const d = await te.engine.describeWorkerDeployment({ namespaceId: ns(), request: { deploymentName: 'orders' } });
    assert.deepEqual(d.workerDeploymentInfo?.versionSummaries?.map((v) => v.deploymentVersion?.buildId), ['v1', 'v9']);
    assert.equal(d.workerDeploymentInfo?.routingConfig?.rampingVersionPercentage, 5);
    assert.deepEqual(Buffer.from(d.conflictToken ?? []), Buffer.from(res.conflictToken ?? []));
  });

  it('lists deployments in pages, and unsetting the current version routes to unversioned workers again', async () => {
    for (const name of ['a', 'b', 'c']) {
      await te.engine.registerWorkerDeploymentVersion({ namespaceId: ns(), version: { deploymentName: name, buildId: 'v1' }, taskQueue: { name: `tq-${name}`, type: 'workflow' }, identity: 'w' });
    }
    const first = await te.engine.listWorkerDeployments({ namespaceId: ns(), request: { pageSize: 2 } });
    assert.deepEqual(first.workerDeployments?.map((d) => d.name), ['a', 'b']);
    const rest = await te.engine.listWorkerDeployments({ namespaceId: ns(), request: { pageSize: 2, nextPageToken: first.nextPageToken ?? null } });
    assert.deepEqual(rest.workerDeployments?.map((d) => d.name), ['c']);
    assert.equal(rest.nextPageToken?.length ?? 0, 0);
    await assert.rejects(te.engine.listWorkerDeployments({ namespaceId: ns(), request: { nextPageToken: Buffer.from('x') } }), InvalidArgumentError);

    await te.engine.setWorkerDeploymentCurrentVersion({ namespaceId: ns(), request: { deploymentName: 'a', buildId: 'v1' } });
    await te.start('on-v1', { taskQueue: { name: 'tq-a' } });
    await eventually(() => lastPushed('on-v1'));
    assert.equal(lastPushed('on-v1')?.taskQueueName, versionedTaskQueueName('tq-a', { deploymentName: 'a', buildId: 'v1' }));
    const unset = await te.engine.setWorkerDeploymentCurrentVersion({ namespaceId: ns(), request: { deploymentName: 'a', version: '__unversioned__' } });
    assert.equal(unset.previousVersion, 'a.v1');
    await te.start('unversioned', { taskQueue: { name: 'tq-a' } });
    await eventually(() => lastPushed('unversioned'));
    assert.equal(lastPushed('unversioned')?.taskQueueName, 'tq-a');
  });

  it('a pinned run continues as new pinned to its version, and a start override pins a run whatever its worker declares', async () => {
    await register(v1);
    await register(v2);
    await setCurrent('v1');
    const runId = await te.start('chain');
    const first = await te.startWorkflowTask('chain', runId);
    await setCurrent('v2');
    await te.complete(
      first.token,
      [{ commandType: temporal.api.enums.v1.CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION, continueAsNewWorkflowExecutionCommandAttributes: { workflowType: { name: 'TestWorkflow' } } }],
      { versioningBehavior: Behavior.VERSIONING_BEHAVIOR_PINNED, deploymentOptions: { ...v1, workerVersioningMode: VERSIONED } },
    );
    const next = await te.engine.describeWorkflowExecution({ namespaceId: ns(), request: { execution: { workflowId: 'chain' } } });
    const nextRunId = next.workflowExecutionInfo?.execution?.runId as string;
    assert.notEqual(nextRunId, runId);
    assert.equal(next.workflowExecutionInfo?.versioningInfo?.behavior, Behavior.VERSIONING_BEHAVIOR_PINNED);
    assert.deepEqual(next.workflowExecutionInfo?.versioningInfo?.deploymentVersion, v1);
    await eventually(() => te.matching.pushed.some((p) => p.runId === nextRunId));
    assert.equal(te.matching.pushed.find((p) => p.runId === nextRunId)?.taskQueueName, versionedTaskQueueName('tq', v1), 'the continued run starts on v1, not the current v2');

    const overridden = await te.start('overridden', { versioningOverride: { pinned: { version: v1 } } });
    await eventually(() => te.matching.pushed.some((p) => p.runId === overridden));
    assert.equal(te.matching.pushed.find((p) => p.runId === overridden)?.taskQueueName, versionedTaskQueueName('tq', v1));
    const task = await te.startWorkflowTask('overridden', overridden);
    await te.complete(task.token, [startTimer('t', 60_000)], { versioningBehavior: Behavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE, deploymentOptions: { ...v1, workerVersioningMode: VERSIONED } });
    const d = await te.engine.describeWorkflowExecution({ namespaceId: ns(), request: { execution: { workflowId: 'overridden' } } });
    assert.equal(d.workflowExecutionInfo?.versioningInfo?.behavior, Behavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE);
    assert.deepEqual(d.workflowExecutionInfo?.versioningInfo?.versioningOverride?.pinned?.version, v1);
    await assert.rejects(te.start('bad-override', { versioningOverride: { oneTime: { targetDeploymentVersion: v1 } } }), InvalidArgumentError);
  });

  it('splits a ramp by a stable bucket of the workflow id', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `wf-${i}`);
    const below30 = ids.filter((id) => rampBucket(id) < 30).length;
    assert.ok(below30 > 2_800 && below30 < 3_200, `${below30} of 10000 ids below 30`);
    assert.deepEqual(ids.slice(0, 50).map(rampBucket), ids.slice(0, 50).map(rampBucket));
  });
});
