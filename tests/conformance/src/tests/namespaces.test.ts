// Namespaces changed through WorkflowService: UpdateNamespace (description, owner email, data merged,
// retention in whole days), DeprecateNamespace (running workflows go on, nothing new starts), each
// refusing bad input without changing anything.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import Long from 'long';
import { conformanceFile, eventually, rejectionOf, uniqueName } from '../harness';
import { accountWorkflow, closeSignal, depositUpdate } from '../workflows';

const UPDATED = 'ns-updated';
const DEPRECATED = 'ns-deprecated';
const DELETED = 'ns-deleted';
// Info logs: the namespace deletion job reports what it deleted.
const file = conformanceFile({ name: 'namespaces', server: { extraArgs: ['-n', UPDATED, '-n', DEPRECATED, '-n', DELETED, '--log-level', 'info'] } });
const DAY_S = 86_400;
const days = (n: number) => ({ seconds: Long.fromNumber(n * DAY_S) });

file.test('UpdateNamespace changes description, owner email, retention and merges data; bad input changes nothing', async (_t, env) => {
  const ws = env.connection.workflowService;
  const namespace = UPDATED;
  const first = await ws.updateNamespace({
    namespace,
    updateInfo: { description: 'orders', ownerEmail: 'ops@example.com', data: { team: 'payments' } },
    config: { workflowExecutionRetentionTtl: days(3) },
  });
  assert.equal(first.namespaceInfo?.description, 'orders');
  assert.equal(Number(first.config?.workflowExecutionRetentionTtl?.seconds), 3 * DAY_S);
  await ws.updateNamespace({ namespace, updateInfo: { data: { tier: 'gold' } } });
  const described = await ws.describeNamespace({ namespace });
  assert.equal(described.namespaceInfo?.description, 'orders', 'an empty description leaves it unchanged');
  assert.equal(described.namespaceInfo?.ownerEmail, 'ops@example.com');
  assert.deepEqual({ ...described.namespaceInfo?.data }, { team: 'payments', tier: 'gold' }, 'data entries are merged');
  assert.equal(Number(described.config?.workflowExecutionRetentionTtl?.seconds), 3 * DAY_S);

  const partialDay = await rejectionOf(ws.updateNamespace({ namespace, updateInfo: { description: 'changed' }, config: { workflowExecutionRetentionTtl: days(1.5) } }), '36 hours');
  assert.equal((partialDay as { code?: number }).code, status.INVALID_ARGUMENT);
  assert.match(String((partialDay as Error).message), /whole number of days/);
  const tooLong = await rejectionOf(ws.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl: days(400) } }), '400 days');
  assert.equal((tooLong as { code?: number }).code, status.INVALID_ARGUMENT);
  const after = await ws.describeNamespace({ namespace });
  assert.equal(after.namespaceInfo?.description, 'orders', 'a refused update changed nothing');
  assert.equal(Number(after.config?.workflowExecutionRetentionTtl?.seconds), 3 * DAY_S);
  const unknown = await rejectionOf(ws.updateNamespace({ namespace: 'no-such-namespace', updateInfo: { description: 'x' } }), 'an unknown namespace');
  assert.equal((unknown as { code?: number }).code, status.NOT_FOUND);
});

file.test('DeprecateNamespace: running workflows go on, no new workflow starts', async (_t, env) => {
  const ws = env.connection.workflowService;
  const namespace = DEPRECATED;
  const client = new Client({ connection: env.connection, namespace });
  const worker = await env.startExtraWorker({ namespace, taskQueue: uniqueName('deprecated-tq') });
  try {
    const handle = await client.workflow.start(accountWorkflow, { taskQueue: worker.taskQueue, workflowId: uniqueName('running') });
    await ws.deprecateNamespace({ namespace });
    const described = await ws.describeNamespace({ namespace });
    assert.equal(described.namespaceInfo?.state, temporal.api.enums.v1.NamespaceState.NAMESPACE_STATE_DEPRECATED);
    const refused = await rejectionOf(client.workflow.start(accountWorkflow, { taskQueue: worker.taskQueue, workflowId: uniqueName('new') }), 'a start in a deprecated namespace');
    const grpcError = ((refused as { cause?: unknown }).cause ?? refused) as { code?: number; message?: string };
    assert.equal(grpcError.code, status.FAILED_PRECONDITION, String(refused));
    assert.match(String(grpcError.message), /is deprecated/);
    // The running workflow still takes updates and signals and completes.
    assert.equal(await handle.executeUpdate(depositUpdate, { args: [4] }), 4);
    await handle.signal(closeSignal);
    assert.equal(await handle.result(), 4);
  } finally {
    await worker.shutdown();
  }
});

file.test('OperatorService DeleteNamespace: the namespace is gone at once, its executions are terminated and deleted in the background', async (_t, env) => {
  const namespace = DELETED;
  const ws = env.connection.workflowService;
  const id = (await ws.describeNamespace({ namespace })).namespaceInfo?.id ?? '';
  assert.ok(id);
  const client = new Client({ connection: env.connection, namespace });
  const worker = await env.startExtraWorker({ namespace, taskQueue: uniqueName('deleted-tq') });
  let running: Awaited<ReturnType<typeof client.workflow.start<typeof accountWorkflow>>>;
  try {
    running = await client.workflow.start(accountWorkflow, { taskQueue: worker.taskQueue, workflowId: uniqueName('running') });
    await client.workflow.start(accountWorkflow, { taskQueue: worker.taskQueue, workflowId: uniqueName('running') });
    const done = await client.workflow.start(accountWorkflow, { taskQueue: worker.taskQueue, workflowId: uniqueName('done') });
    await done.signal(closeSignal);
    assert.equal(await done.result(), 0);
    assert.equal(await running.executeUpdate(depositUpdate, { args: [1] }), 1);
  } finally {
    await worker.shutdown();
  }
  const since = env.server.recentOutput().length;
  const answer = await env.connection.operatorService.deleteNamespace({ namespace });
  assert.equal(answer.deletedNamespace, namespace);

  const described = await rejectionOf(ws.describeNamespace({ namespace }), 'describe of a deleted namespace');
  assert.equal((described as { code?: number }).code, status.NOT_FOUND);
  const start = await rejectionOf(client.workflow.start(accountWorkflow, { taskQueue: 'any', workflowId: uniqueName('late') }), 'a start in a deleted namespace');
  assert.equal((start as Error).name, 'NamespaceNotFoundError', String(start));
  const again = await rejectionOf(env.connection.operatorService.deleteNamespace({ namespace }), 'deleting it again');
  assert.equal((again as { code?: number }).code, status.NOT_FOUND);

  // The background job reports the three runs (two of them running until then) deleted.
  const report = await eventually(() => {
    const lines = env.server.recentOutput().slice(since).split('\n').filter((l) => l.includes('its executions are deleted') && l.includes(id));
    return lines[0];
  }, { timeoutMs: 20_000, description: 'the deletion job to report' });
  assert.equal((JSON.parse(report.slice(report.indexOf('{'))) as { deleted?: number }).deleted, 3, report);
  // Other namespaces are untouched.
  assert.equal((await ws.describeNamespace({ namespace: UPDATED })).namespaceInfo?.name, UPDATED);
});
