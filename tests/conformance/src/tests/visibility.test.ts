// Visibility with the official client: custom search attributes registered through the
// OperatorService, a few hundred executions listed, paged and counted exactly (the expected sets
// computed here from what was started), upserts and memo from workflow code, deletion, bad queries
// and unregistered attributes refused with INVALID_ARGUMENT naming them, and another namespace's
// executions never returned.
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import { isGrpcServiceError, type WorkflowExecutionInfo } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { EventType, NAMESPACE, SERVICES, conformanceFile, eventually, eventsOfType, fetchEvents, rawServiceClient, rejectionOf, uniqueName, type ConformanceEnv } from '../harness';
import { visibilityFinish, upsertsThenWaits, upsertsUnregistered } from '../workflows';

const OTHER_NAMESPACE = 'vis-other';
const file = conformanceFile({ name: 'visibility', server: { extraArgs: ['-n', OTHER_NAMESPACE] } });

const IVT = temporal.api.enums.v1.IndexedValueType;
const LOAD_TYPE = 'visibilityLoad';
const COUNT = 240;
const T0 = Date.UTC(2026, 5, 1);
const TIERS = ['gold', 'silver', 'bronze'] as const;

interface Started {
  i: number;
  workflowId: string;
  runId: string;
  tier: string;
  score: number;
  weight: number;
  flagged: boolean;
  due: Date;
  tags: string[];
  terminated: boolean;
}

let started: Started[] = [];

async function expectGrpcError(call: Promise<unknown>, code: status, pattern: RegExp): Promise<ServiceError> {
  const err = await rejectionOf(call, 'the request');
  const grpc = isGrpcServiceError(err) ? err : (err as { cause?: unknown }).cause;
  assert.ok(isGrpcServiceError(grpc), `expected a gRPC error, got ${String(err)}`);
  assert.equal(grpc.code, code, `expected ${status[code]}, got ${status[grpc.code]}: ${grpc.details}`);
  assert.match(grpc.details, pattern);
  return grpc;
}

async function listAll(env: ConformanceEnv, query: string, pageSize?: number): Promise<WorkflowExecutionInfo[]> {
  const out: WorkflowExecutionInfo[] = [];
  for await (const info of env.client.workflow.list({ query, ...(pageSize ? { pageSize } : {}) })) out.push(info);
  return out;
}

const ids = (infos: { workflowId: string }[]): string[] => infos.map((i) => i.workflowId);

file.test('custom search attributes are registered per namespace, within the caps', async (_t, env) => {
  const operator = env.connection.operatorService;
  await operator.addSearchAttributes({
    namespace: NAMESPACE,
    searchAttributes: {
      Tier: IVT.INDEXED_VALUE_TYPE_KEYWORD,
      Score: IVT.INDEXED_VALUE_TYPE_INT,
      Weight: IVT.INDEXED_VALUE_TYPE_DOUBLE,
      Flagged: IVT.INDEXED_VALUE_TYPE_BOOL,
      Due: IVT.INDEXED_VALUE_TYPE_DATETIME,
      Tags: IVT.INDEXED_VALUE_TYPE_KEYWORD_LIST,
      Notes: IVT.INDEXED_VALUE_TYPE_TEXT,
    },
  });
  const listed = await operator.listSearchAttributes({ namespace: NAMESPACE });
  assert.equal(listed.customAttributes.Tier, IVT.INDEXED_VALUE_TYPE_KEYWORD);
  assert.equal(listed.customAttributes.Tags, IVT.INDEXED_VALUE_TYPE_KEYWORD_LIST);
  assert.equal(listed.systemAttributes.WorkflowId, IVT.INDEXED_VALUE_TYPE_KEYWORD);
  assert.equal(listed.customAttributes.WorkflowId, undefined);

  // Text: two from start-dev's defaults and Notes; three more would make six, over the cap of five.
  await expectGrpcError(
    operator.addSearchAttributes({ namespace: NAMESPACE, searchAttributes: { T1: IVT.INDEXED_VALUE_TYPE_TEXT, T2: IVT.INDEXED_VALUE_TYPE_TEXT, T3: IVT.INDEXED_VALUE_TYPE_TEXT } }),
    status.INVALID_ARGUMENT,
    /6 custom Text search attributes, more than the 5 allowed/,
  );
  await expectGrpcError(operator.addSearchAttributes({ namespace: NAMESPACE, searchAttributes: { Tier: IVT.INDEXED_VALUE_TYPE_INT } }), status.INVALID_ARGUMENT, /Tier.*already exists with type Keyword/);
  await expectGrpcError(operator.addSearchAttributes({ namespace: NAMESPACE, searchAttributes: { WorkflowId: IVT.INDEXED_VALUE_TYPE_KEYWORD } }), status.INVALID_ARGUMENT, /WorkflowId.*system or reserved/);
  const after = await operator.listSearchAttributes({ namespace: NAMESPACE });
  assert.deepEqual(after.customAttributes, listed.customAttributes, 'refused additions changed nothing');

  await operator.addSearchAttributes({ namespace: NAMESPACE, searchAttributes: { Scratch: IVT.INDEXED_VALUE_TYPE_KEYWORD } });
  await operator.removeSearchAttributes({ namespace: NAMESPACE, searchAttributes: ['Scratch'] });
  assert.equal((await operator.listSearchAttributes({ namespace: NAMESPACE })).customAttributes.Scratch, undefined);
  await expectGrpcError(operator.removeSearchAttributes({ namespace: NAMESPACE, searchAttributes: ['Scratch'] }), status.INVALID_ARGUMENT, /Scratch.*not a custom search attribute/);
});

file.test(`${COUNT} executions with custom attributes: lists and counts give exactly the expected sets, ordered and paged`, async (_t, env) => {
  const idleQueue = `${env.taskQueue}-idle`;
  const specs = Array.from({ length: COUNT }, (_, i) => ({
    i,
    workflowId: `vis-${String(i).padStart(3, '0')}`,
    tier: TIERS[i % 3] as string,
    score: i,
    weight: i / 4,
    flagged: i % 2 === 0,
    due: new Date(T0 + i * 60_000),
    tags: [`t${i % 5}`, 'all'],
    terminated: i % 4 === 0,
  }));
  started = [];
  for (let k = 0; k < specs.length; k += 20) {
    const batch = await Promise.all(
      specs.slice(k, k + 20).map(async (s) => {
        const handle = await env.client.workflow.start(LOAD_TYPE, {
          taskQueue: idleQueue,
          workflowId: s.workflowId,
          searchAttributes: { Tier: [s.tier], Score: [s.score], Weight: [s.weight], Flagged: [s.flagged], Due: [s.due], Tags: s.tags },
          memo: { index: s.i },
        });
        return { ...s, runId: handle.firstExecutionRunId };
      }),
    );
    started.push(...batch);
  }
  for (const s of started.filter((x) => x.terminated)) await env.client.workflow.getHandle(s.workflowId, s.runId).terminate('visibility test');

  const all = `WorkflowType = '${LOAD_TYPE}'`;
  await eventually(async () => (await env.client.workflow.count(`${all} AND ExecutionStatus = 'Terminated'`)).count === COUNT / 4, {
    description: 'every start and termination is searchable',
    timeoutMs: 30_000,
  });

  // Custom Keyword and Int, ordered by Score, paged 7 at a time.
  const gold = await listAll(env, `${all} AND Tier = 'gold' AND Score >= 60 ORDER BY Score ASC`, 7);
  const expectedGold = started.filter((s) => s.tier === 'gold' && s.score >= 60).sort((a, b) => a.score - b.score);
  assert.deepEqual(ids(gold), ids(expectedGold));
  assert.deepEqual(gold.map((g) => g.runId), expectedGold.map((s) => s.runId));
  assert.deepEqual(gold[0]?.searchAttributes.Tier, ['gold']);
  assert.deepEqual(gold[0]?.searchAttributes.Tags, expectedGold[0]?.tags);
  assert.equal(gold[0]?.memo?.index, expectedGold[0]?.i);

  // Bool, status, KeywordList membership, Double, Datetime range, descending order.
  const flaggedTerminated = await listAll(env, `${all} AND ExecutionStatus = 'Terminated' AND Flagged = true ORDER BY Score DESC`, 13);
  assert.deepEqual(ids(flaggedTerminated), ids(started.filter((s) => s.terminated && s.flagged).sort((a, b) => b.score - a.score)));
  assert.ok(flaggedTerminated.every((info) => info.status.name === 'TERMINATED' && info.closeTime !== undefined));
  const tagged = await listAll(env, `${all} AND Tags = 't3' AND Weight < 20.5 ORDER BY Score ASC`);
  assert.deepEqual(ids(tagged), ids(started.filter((s) => s.tags.includes('t3') && s.weight < 20.5)));
  const from = new Date(T0 + 100 * 60_000).toISOString();
  const to = new Date(T0 + 130 * 60_000).toISOString();
  const due = await listAll(env, `${all} AND Due BETWEEN '${from}' AND '${to}' AND Tier IN ('silver', 'bronze') ORDER BY Due DESC`, 4);
  assert.deepEqual(ids(due), ids(started.filter((s) => s.i >= 100 && s.i <= 130 && s.tier !== 'gold').sort((a, b) => b.i - a.i)));

  // Default order: open runs first, then by close time, newest first; every run exactly once over the pages.
  const everything = await listAll(env, all, 50);
  assert.equal(everything.length, COUNT);
  assert.equal(new Set(everything.map((e) => e.runId)).size, COUNT);
  const firstClosed = everything.findIndex((e) => e.status.name !== 'RUNNING');
  assert.equal(firstClosed, COUNT - COUNT / 4, 'running executions come first');

  // Counts, plain and grouped by ExecutionStatus.
  assert.equal((await env.client.workflow.count(`${all} AND Tier = 'silver'`)).count, started.filter((s) => s.tier === 'silver').length);
  const grouped = await env.client.workflow.count(`${all} GROUP BY ExecutionStatus`);
  assert.equal(grouped.count, COUNT);
  const groups = Object.fromEntries(grouped.groups.map((g) => [String(g.groupValues[0]), g.count]));
  assert.deepEqual(groups, { Running: COUNT - COUNT / 4, Terminated: COUNT / 4 });

  // Legacy lists read the same index.
  const open = await env.connection.workflowService.listOpenWorkflowExecutions({ namespace: NAMESPACE, maximumPageSize: 500, typeFilter: { name: LOAD_TYPE } });
  assert.equal(open.executions.length, COUNT - COUNT / 4);
  const closed = await env.connection.workflowService.listClosedWorkflowExecutions({ namespace: NAMESPACE, maximumPageSize: 500, typeFilter: { name: LOAD_TYPE } });
  assert.equal(closed.executions.length, COUNT / 4);
});

file.test('a page token stays valid while executions change, and belongs to its query', async (_t, env) => {
  const query = `WorkflowType = '${LOAD_TYPE}' AND Tier = 'bronze' ORDER BY Score ASC`;
  const first = await env.connection.workflowService.listWorkflowExecutions({ namespace: NAMESPACE, query, pageSize: 10 });
  assert.equal(first.executions.length, 10);
  // A run on the next page closes meanwhile: the next page still starts right after the first.
  const expected = started.filter((s) => s.tier === 'bronze').sort((a, b) => a.score - b.score);
  const moving = expected.slice(10).find((s) => !s.terminated);
  assert.ok(moving);
  await env.client.workflow.getHandle(moving.workflowId, moving.runId).terminate('moves while paging');
  moving.terminated = true;
  await eventually(async () => (await env.client.workflow.count(`WorkflowId = '${moving.workflowId}' AND ExecutionStatus = 'Terminated'`)).count === 1, { description: 'the close is searchable' });
  const second = await env.connection.workflowService.listWorkflowExecutions({ namespace: NAMESPACE, query, pageSize: 10, nextPageToken: first.nextPageToken });
  assert.deepEqual(
    second.executions.map((e) => e.execution?.workflowId),
    expected.slice(10, 20).map((s) => s.workflowId),
  );
  await expectGrpcError(
    env.connection.workflowService.listWorkflowExecutions({
      namespace: NAMESPACE,
      query: `WorkflowType = '${LOAD_TYPE}' AND Tier = 'bronze' AND Score > 1 ORDER BY Score ASC`,
      pageSize: 10,
      nextPageToken: first.nextPageToken,
    }),
    status.INVALID_ARGUMENT,
    /different query/,
  );
});

file.test('upserted search attributes and memo are visible, in lists and in Describe', async (_t, env) => {
  const workflowId = uniqueName('vis-upsert');
  const handle = await env.client.workflow.start(upsertsThenWaits, { taskQueue: env.taskQueue, workflowId, args: ['platinum', 1000] });
  const [found] = await eventually(async () => {
    const rows = await listAll(env, `Tier = 'platinum' AND Score = 1000`);
    return rows.length === 1 ? rows : undefined;
  }, { description: 'the upsert is searchable', timeoutMs: 20_000 });
  assert.equal(found?.workflowId, workflowId);
  assert.equal(found?.memo?.note, 'tier platinum');
  const described = await handle.describe();
  assert.deepEqual(described.searchAttributes.Tier, ['platinum']);
  assert.equal(described.memo?.note, 'tier platinum');
  await env.client.workflow.getHandle(workflowId).signal(visibilityFinish);
  await handle.result();
  await eventually(async () => (await env.client.workflow.count(`Tier = 'platinum' AND ExecutionStatus = 'Completed'`)).count === 1, { description: 'the close is searchable' });
});

file.test('unregistered or wrongly typed attributes are refused, naming which and where; nothing is created', async (_t, env) => {
  const workflowId = uniqueName('vis-bad-start');
  await expectGrpcError(
    env.client.workflow.start(LOAD_TYPE, { taskQueue: env.taskQueue, workflowId, searchAttributes: { NeverRegistered: ['x'] } }),
    status.INVALID_ARGUMENT,
    /searchAttributes: search attribute "NeverRegistered" is not defined/,
  );
  await expectGrpcError(env.client.workflow.start(LOAD_TYPE, { taskQueue: env.taskQueue, workflowId, searchAttributes: { Score: ['not a number'] } }), status.INVALID_ARGUMENT, /Score/);
  await expectGrpcError(env.connection.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId } }), status.NOT_FOUND, /not found/);

  // From workflow code: the workflow task fails with Temporal's cause, and the attribute is named.
  const handle = await env.client.workflow.start(upsertsUnregistered, { taskQueue: env.taskQueue, workflowId: uniqueName('vis-bad-upsert') });
  const failed = await eventually(async () => eventsOfType(await fetchEvents(handle), EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)[0], {
    description: 'the workflow task failed',
    timeoutMs: 20_000,
  });
  const attrs = failed.workflowTaskFailedEventAttributes;
  assert.equal(attrs?.cause, temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES);
  assert.match(attrs?.failure?.message ?? '', /NeverRegistered/);
  await handle.terminate('done checking');

  // Bad queries: the reason and the position.
  await expectGrpcError(env.connection.workflowService.countWorkflowExecutions({ namespace: NAMESPACE, query: "Tier = 'gold' AND" }), status.INVALID_ARGUMENT, /position|at \d+|column/i);
  await expectGrpcError(env.connection.workflowService.listWorkflowExecutions({ namespace: NAMESPACE, query: "Nope = 'x'" }), status.INVALID_ARGUMENT, /Nope/);
  await expectGrpcError(env.connection.workflowService.listWorkflowExecutions({ namespace: NAMESPACE, query: "Score = 'abc'" }), status.INVALID_ARGUMENT, /Score/);
});

file.test('a deleted execution is gone from search', async (_t, env) => {
  const victim = started.find((s) => s.terminated);
  assert.ok(victim);
  assert.equal((await env.client.workflow.count(`WorkflowId = '${victim.workflowId}'`)).count, 1);
  await env.connection.workflowService.deleteWorkflowExecution({ namespace: NAMESPACE, workflowExecution: { workflowId: victim.workflowId, runId: victim.runId } });
  await eventually(async () => (await env.client.workflow.count(`WorkflowId = '${victim.workflowId}'`)).count === 0, { description: 'the deletion is searchable' });
  await expectGrpcError(env.connection.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId: victim.workflowId, runId: victim.runId } }), status.NOT_FOUND, /not found/);
});

file.test("another namespace's executions are never returned", async (_t, env) => {
  const other = OTHER_NAMESPACE;
  const same = started[1];
  assert.ok(same);
  const otherRun = await env.connection.workflowService.startWorkflowExecution({
    namespace: other,
    workflowId: same.workflowId,
    workflowType: { name: LOAD_TYPE },
    taskQueue: { name: `${env.taskQueue}-idle` },
    requestId: uniqueName('req'),
  });
  const inOther = async () => (await env.connection.workflowService.listWorkflowExecutions({ namespace: other, query: `WorkflowId = '${same.workflowId}'` })).executions;
  const seen = await eventually(async () => ((await inOther()).length === 1 ? inOther() : undefined), { description: 'the other namespace indexed its run' });
  assert.equal(seen[0]?.execution?.runId, otherRun.runId);
  const inDefault = await listAll(env, `WorkflowId = '${same.workflowId}'`);
  assert.deepEqual(inDefault.map((e) => e.runId), [same.runId]);
  assert.equal((await env.connection.workflowService.countWorkflowExecutions({ namespace: other, query: '' })).count?.toString(), '1');
  // Custom attributes are per namespace too: the other one never registered Tier.
  await expectGrpcError(env.connection.workflowService.countWorkflowExecutions({ namespace: other, query: "Tier = 'gold'" }), status.INVALID_ARGUMENT, /Tier/);
});

file.test("Cloud Ops API namespaces carry their custom search attributes: set at creation, added by an update, within the caps", async (_t, env) => {
  const credentials = env.server.devCredentials();
  const raw = rawServiceClient(env.server.address, { apiKey: credentials.ownerApiKey });
  try {
    await raw.call(SERVICES.cloud, 'CreateNamespace', { spec: { name: 'vis-cloud', retentionDays: 1, searchAttributes: { Region: IVT.INDEXED_VALUE_TYPE_KEYWORD } } });
    const name = `vis-cloud.${credentials.accountId}`;
    const created = (await raw.call(SERVICES.cloud, 'GetNamespace', { namespace: name })) as { namespace: { resourceVersion: string; spec: { searchAttributes: Record<string, number> } } };
    assert.deepEqual(created.namespace.spec.searchAttributes, { Region: IVT.INDEXED_VALUE_TYPE_KEYWORD });
    await raw.call(SERVICES.cloud, 'UpdateNamespace', {
      namespace: name,
      resourceVersion: created.namespace.resourceVersion,
      spec: { name: 'vis-cloud', retentionDays: 1, searchAttributes: { Region: IVT.INDEXED_VALUE_TYPE_KEYWORD, Rank: IVT.INDEXED_VALUE_TYPE_INT } },
    });
    const listed = (await raw.call(SERVICES.operator, 'ListSearchAttributes', { namespace: name })) as { customAttributes: Record<string, number> };
    assert.deepEqual(listed.customAttributes, { Region: IVT.INDEXED_VALUE_TYPE_KEYWORD, Rank: IVT.INDEXED_VALUE_TYPE_INT });
    const updated = (await raw.call(SERVICES.cloud, 'GetNamespace', { namespace: name })) as { namespace: { resourceVersion: string } };
    const tooMany = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`Words${i}`, IVT.INDEXED_VALUE_TYPE_TEXT]));
    const refused = await raw.outcome(SERVICES.cloud, 'UpdateNamespace', { namespace: name, resourceVersion: updated.namespace.resourceVersion, spec: { name: 'vis-cloud', retentionDays: 1, searchAttributes: tooMany } });
    assert.equal(refused.code, status.INVALID_ARGUMENT, refused.details);
    assert.match(refused.details, /6 custom Text search attributes, more than the 5 allowed/);
    const after = (await raw.call(SERVICES.operator, 'ListSearchAttributes', { namespace: name })) as { customAttributes: Record<string, number> };
    assert.deepEqual(after.customAttributes, listed.customAttributes, 'the refused update changed nothing');
  } finally {
    raw.close();
  }
});
