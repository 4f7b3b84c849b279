// Bad input as a table, over raw gRPC (no SDK retries, no client-side checks): every case is refused
// with the expected code and a short message naming the field, and changes nothing — no execution
// created, nothing dispatched, the running target workflow untouched. Then the accepted edges: ids
// exactly at the byte limit, sub-millisecond durations rounded up.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { status, type ServiceError } from '@grpc/grpc-js';
import { temporal } from '@temporalio/proto';
import { NAMESPACE, conformanceFile, eventually, startServer, uniqueName } from '../harness';
import { rawWorkflowService, refusal, residentBytes, type RawWorkflowService, type WsRequest } from '../harness/raw-grpc';

const enums = temporal.api.enums.v1;
const { EventType, WorkflowIdReusePolicy: Reuse, WorkflowIdConflictPolicy: Conflict, WorkflowExecutionStatus } = enums;

const file = conformanceFile({ name: 'bad-input-table', worker: false });

/** Temporal's limit.maxIDLength default, in UTF-8 bytes. */
const MAX_ID = 1000;
const MB = 1024 * 1024;
/** Longest message a refusal may carry: it names the field and quotes ~100 characters at most. */
const MAX_MESSAGE = 300;

const ascii = (bytes: number): string => 'x'.repeat(bytes);
/** '€' is 3 bytes in UTF-8 and 1 UTF-16 unit: 334 of them are 1002 bytes in 334 characters. */
const EURO_OVER = '€'.repeat(334);
/** 333 × 3 + 1 = exactly 1000 bytes. */
const EURO_AT_LIMIT = `${'€'.repeat(333)}a`;

function statusName(code: number): string {
  return `${status[code] ?? 'UNKNOWN'}(${code})`;
}

interface Fixture {
  raw: RawWorkflowService;
  namespaceId: string;
  /** Every start a case sends names this queue: nothing may ever be dispatched on it. */
  refusedQueue: string;
  /** A running workflow (no worker) that signals, updates, cancels and starts with its id aim at. */
  target: { workflowId: string; runId: string; events: number };
}

let fixture: Promise<Fixture> | undefined;

function setup(address: string): Promise<Fixture> {
  fixture ??= (async () => {
    const raw = rawWorkflowService(address);
    const ns = await raw.call('DescribeNamespace', { namespace: NAMESPACE });
    const workflowId = uniqueName('target');
    const started = await raw.call('StartWorkflowExecution', {
      namespace: NAMESPACE,
      workflowId,
      workflowType: { name: 'waitForFinish' },
      taskQueue: { name: uniqueName('tq-target') },
      requestId: randomUUID(),
      identity: 'bad-input-table',
    });
    const events = await historyOf(raw, workflowId, started.runId);
    return { raw, namespaceId: ns.namespaceInfo?.id ?? '', refusedQueue: uniqueName('tq-refused'), target: { workflowId, runId: started.runId, events: events.length } };
  })();
  return fixture;
}

async function historyOf(raw: RawWorkflowService, workflowId: string, runId = ''): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const response = await raw.call('GetWorkflowExecutionHistory', { namespace: NAMESPACE, execution: { workflowId, runId } });
  return response.history?.events ?? [];
}

/** The target is still the same running run with the same history. */
async function assertTargetUnchanged(f: Fixture): Promise<void> {
  const described = await f.raw.call('DescribeWorkflowExecution', { namespace: NAMESPACE, execution: { workflowId: f.target.workflowId } });
  assert.equal(described.workflowExecutionInfo?.execution?.runId, f.target.runId, 'the target run was not replaced');
  assert.equal(described.workflowExecutionInfo?.status, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, 'the target is still running');
  const events = await historyOf(f.raw, f.target.workflowId, f.target.runId);
  assert.equal(events.length, f.target.events, `nothing was appended to the target's history: ${events.map((e) => EventType[e.eventType ?? 0]).join(', ')}`);
}

async function assertNoExecution(f: Fixture, workflowId: string): Promise<void> {
  const err = await refusal(f.raw.call('DescribeWorkflowExecution', { namespace: NAMESPACE, execution: { workflowId } }));
  assert.equal(err.code, status.NOT_FOUND, `no execution ${workflowId}: ${err.details}`);
}

type StartRequest = WsRequest<'StartWorkflowExecution'>;

/** A valid start on the refused queue, with `overrides` (loosely typed: they may be invalid). */
function startRequest(f: Fixture, workflowId: string, overrides: Record<string, unknown> = {}): StartRequest {
  return {
    namespace: NAMESPACE,
    workflowId,
    workflowType: { name: 'echoWorkflow' },
    taskQueue: { name: f.refusedQueue },
    requestId: randomUUID(),
    identity: 'bad-input-table',
    ...overrides,
  } as StartRequest;
}

const bytesPayloads = (bytes: number) => ({ payloads: [{ metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.alloc(bytes, 0x61) }] });
const bytesPayload = (bytes: number) => bytesPayloads(bytes).payloads[0]!;

function activityToken(f: Fixture, overrides: { workflowId?: string; activityId?: string } = {}): Buffer {
  // The server's token format (contracts/task-token.ts), forged with caller-chosen ids.
  return Buffer.from(JSON.stringify([1, 'a', f.namespaceId, overrides.workflowId ?? uniqueName('no-such'), randomUUID(), 5, 1, overrides.activityId ?? 'act-1']));
}

function workflowToken(f: Fixture): Buffer {
  return Buffer.from(JSON.stringify([1, 'w', f.namespaceId, uniqueName('no-such'), randomUUID(), 2, 3, 1]));
}

interface BadInputCase {
  name: string;
  /** Sends the bad request; `workflowId` is a fresh id the case may use for what it starts. */
  send(f: Fixture, workflowId: string): Promise<unknown>;
  code: status;
  /** The message names the field (or, for messages refused before decoding, says why). */
  names: RegExp;
}

const target = (f: Fixture) => ({ workflowId: f.target.workflowId });

const CASES: BadInputCase[] = [
  // --- Size: refused by grpc-js from the length prefix, before the body is buffered or decoded.
  {
    name: 'a 5 MB message',
    send: (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { input: bytesPayloads(5 * MB) })),
    code: status.RESOURCE_EXHAUSTED,
    names: /larger than max/,
  },
  {
    name: 'oversized fields spread over one request (input, memo, header of 1.5 MB each)',
    send: (f, id) =>
      f.raw.call('StartWorkflowExecution', startRequest(f, id, { input: bytesPayloads(1.5 * MB), memo: { fields: { m: bytesPayload(1.5 * MB) } }, header: { fields: { h: bytesPayload(1.5 * MB) } } })),
    code: status.RESOURCE_EXHAUSTED,
    names: /larger than max/,
  },
  {
    name: 'a 2.5 MB memo inside a 4 MB message',
    send: (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { memo: { fields: { m: bytesPayload(2.5 * MB) } } })),
    code: status.INVALID_ARGUMENT,
    names: /^memo is 2\.5 MB, more than the 2 MB limit$/,
  },
  {
    name: 'a 2.5 MB signal input on SignalWithStart',
    send: (f, id) =>
      f.raw.call('SignalWithStartWorkflowExecution', { ...startRequest(f, id), signalName: 'go', signalInput: bytesPayloads(2.5 * MB) }),
    code: status.INVALID_ARGUMENT,
    names: /^signalInput is 2\.5 MB/,
  },
  {
    name: 'a 2.5 MB workflow summary (user metadata)',
    send: (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { userMetadata: { summary: bytesPayload(2.5 * MB) } })),
    code: status.INVALID_ARGUMENT,
    names: /^userMetadata\.summary is 2\.5 MB/,
  },

  // --- Ids and names longer than 1000 UTF-8 bytes, in each request type.
  ...(
    [
      ['StartWorkflowExecution workflowId', (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { workflowId: ascii(MAX_ID + 1) })), /^workflowId /],
      ['StartWorkflowExecution workflowType.name', (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { workflowType: { name: ascii(MAX_ID + 1) } })), /^workflowType\.name /],
      ['StartWorkflowExecution taskQueue.name', (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { taskQueue: { name: ascii(MAX_ID + 1) } })), /^taskQueue\.name /],
      ['StartWorkflowExecution requestId', (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { requestId: ascii(MAX_ID + 1) })), /^requestId /],
      ['StartWorkflowExecution identity', (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { identity: ascii(MAX_ID + 1) })), /^identity /],
      ['SignalWithStartWorkflowExecution signalName', (f, id) => f.raw.call('SignalWithStartWorkflowExecution', { ...startRequest(f, id), signalName: ascii(MAX_ID + 1) }), /^signalName /],
      ['SignalWorkflowExecution signalName', (f) => f.raw.call('SignalWorkflowExecution', { namespace: NAMESPACE, workflowExecution: target(f), signalName: ascii(MAX_ID + 1), requestId: randomUUID() }), /^signalName /],
      ['SignalWorkflowExecution workflowExecution.runId', (f) => f.raw.call('SignalWorkflowExecution', { namespace: NAMESPACE, workflowExecution: { ...target(f), runId: ascii(MAX_ID + 1) }, signalName: 's' }), /^workflowExecution\.runId /],
      ['RequestCancelWorkflowExecution identity', (f) => f.raw.call('RequestCancelWorkflowExecution', { namespace: NAMESPACE, workflowExecution: target(f), identity: ascii(MAX_ID + 1) }), /^identity /],
      ['RequestCancelWorkflowExecution requestId', (f) => f.raw.call('RequestCancelWorkflowExecution', { namespace: NAMESPACE, workflowExecution: target(f), requestId: ascii(MAX_ID + 1) }), /^requestId /],
      ['TerminateWorkflowExecution identity', (f) => f.raw.call('TerminateWorkflowExecution', { namespace: NAMESPACE, workflowExecution: target(f), identity: ascii(MAX_ID + 1) }), /^identity /],
      ['ResetWorkflowExecution requestId', (f) => f.raw.call('ResetWorkflowExecution', { namespace: NAMESPACE, workflowExecution: target(f), workflowTaskFinishEventId: 2, requestId: ascii(MAX_ID + 1) }), /^requestId /],
      ['QueryWorkflow query.queryType', (f) => f.raw.call('QueryWorkflow', { namespace: NAMESPACE, execution: target(f), query: { queryType: ascii(MAX_ID + 1) } }), /^query\.queryType /],
      [
        'UpdateWorkflowExecution request.meta.updateId',
        (f) => f.raw.call('UpdateWorkflowExecution', { namespace: NAMESPACE, workflowExecution: target(f), request: { meta: { updateId: ascii(MAX_ID + 1) }, input: { name: 'u' } } }),
        /^request\.meta\.updateId /,
      ],
      [
        'UpdateWorkflowExecution request.input.name',
        (f) => f.raw.call('UpdateWorkflowExecution', { namespace: NAMESPACE, workflowExecution: target(f), request: { meta: { updateId: 'u' }, input: { name: ascii(MAX_ID + 1) } } }),
        /^request\.input\.name /,
      ],
      [
        'PollWorkflowExecutionUpdate updateRef.updateId',
        (f) => f.raw.call('PollWorkflowExecutionUpdate', { namespace: NAMESPACE, updateRef: { workflowExecution: target(f), updateId: ascii(MAX_ID + 1) } }),
        /^updateRef\.updateId /,
      ],
      ['DescribeWorkflowExecution execution.workflowId', (f) => f.raw.call('DescribeWorkflowExecution', { namespace: NAMESPACE, execution: { workflowId: ascii(MAX_ID + 1) } }), /^execution\.workflowId /],
      ['GetWorkflowExecutionHistory execution.runId', (f) => f.raw.call('GetWorkflowExecutionHistory', { namespace: NAMESPACE, execution: { ...target(f), runId: ascii(MAX_ID + 1) } }), /^execution\.runId /],
      ['ResetStickyTaskQueue execution.workflowId', (f) => f.raw.call('ResetStickyTaskQueue', { namespace: NAMESPACE, execution: { workflowId: ascii(MAX_ID + 1) } }), /^execution\.workflowId /],
      ['PollWorkflowTaskQueue taskQueue.name', (f) => f.raw.call('PollWorkflowTaskQueue', { namespace: NAMESPACE, taskQueue: { name: ascii(MAX_ID + 1) } }), /^taskQueue\.name /],
      ['PollActivityTaskQueue identity', (f) => f.raw.call('PollActivityTaskQueue', { namespace: NAMESPACE, taskQueue: { name: f.refusedQueue }, identity: ascii(MAX_ID + 1) }), /^identity /],
      ['RespondActivityTaskCompletedById activityId', (f) => f.raw.call('RespondActivityTaskCompletedById', { namespace: NAMESPACE, ...target(f), activityId: ascii(MAX_ID + 1) }), /^activityId /],
      ['RecordActivityTaskHeartbeatById workflowId', (f) => f.raw.call('RecordActivityTaskHeartbeatById', { namespace: NAMESPACE, workflowId: ascii(MAX_ID + 1), activityId: 'a' }), /^workflowId /],
      ['ShutdownWorker stickyTaskQueue', (f) => f.raw.call('ShutdownWorker', { namespace: NAMESPACE, stickyTaskQueue: ascii(MAX_ID + 1) }), /^stickyTaskQueue /],
      ['DescribeNamespace namespace', (f) => f.raw.call('DescribeNamespace', { namespace: ascii(MAX_ID + 1) }), /^namespace /],
      ['RegisterNamespace namespace', (f) => f.raw.call('RegisterNamespace', { namespace: ascii(MAX_ID + 1) }), /^namespace /],
    ] as Array<[string, BadInputCase['send'], RegExp]>
  ).map(([name, send, field]): BadInputCase => ({ name: `${name} of ${MAX_ID + 1} ASCII bytes`, send, code: status.INVALID_ARGUMENT, names: new RegExp(`${field.source}.*is ${MAX_ID + 1} bytes long`) })),

  // --- The same in multi-byte UTF-8: 334 characters, 1002 bytes.
  ...(
    [
      ['StartWorkflowExecution workflowId', (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { workflowId: EURO_OVER })), /^workflowId /],
      ['SignalWorkflowExecution signalName', (f) => f.raw.call('SignalWorkflowExecution', { namespace: NAMESPACE, workflowExecution: target(f), signalName: EURO_OVER }), /^signalName /],
      [
        'UpdateWorkflowExecution request.meta.updateId',
        (f) => f.raw.call('UpdateWorkflowExecution', { namespace: NAMESPACE, workflowExecution: target(f), request: { meta: { updateId: EURO_OVER }, input: { name: 'u' } } }),
        /^request\.meta\.updateId /,
      ],
      ['PollWorkflowTaskQueue taskQueue.name', (f) => f.raw.call('PollWorkflowTaskQueue', { namespace: NAMESPACE, taskQueue: { name: EURO_OVER } }), /^taskQueue\.name /],
      ['StartWorkflowExecution namespace', (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { namespace: EURO_OVER })), /^namespace /],
    ] as Array<[string, BadInputCase['send'], RegExp]>
  ).map(([name, send, field]): BadInputCase => ({ name: `${name} of 334 '€' (1002 bytes, 334 characters)`, send, code: status.INVALID_ARGUMENT, names: new RegExp(`${field.source}.*\\(334 characters\\) is 1002 bytes long`) })),

  // --- Undefined enum values.
  { name: 'workflowIdReusePolicy 99', send: (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { workflowIdReusePolicy: 99 })), code: status.INVALID_ARGUMENT, names: /^workflowIdReusePolicy is 99, which is not a defined WorkflowIdReusePolicy value$/ },
  { name: 'workflowIdConflictPolicy 42', send: (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { workflowIdConflictPolicy: 42 })), code: status.INVALID_ARGUMENT, names: /^workflowIdConflictPolicy is 42/ },
  { name: 'taskQueue.kind 7 on a poll', send: (f) => f.raw.call('PollWorkflowTaskQueue', { namespace: NAMESPACE, taskQueue: { name: f.refusedQueue, kind: 7 } }), code: status.INVALID_ARGUMENT, names: /^taskQueue\.kind is 7/ },
  { name: 'historyEventFilterType 9', send: (f) => f.raw.call('GetWorkflowExecutionHistory', { namespace: NAMESPACE, execution: target(f), historyEventFilterType: 9 }), code: status.INVALID_ARGUMENT, names: /^historyEventFilterType is 9/ },
  { name: 'queryRejectCondition 9', send: (f) => f.raw.call('QueryWorkflow', { namespace: NAMESPACE, execution: target(f), query: { queryType: 'q' }, queryRejectCondition: 9 }), code: status.INVALID_ARGUMENT, names: /^queryRejectCondition is 9/ },
  {
    name: 'waitPolicy.lifecycleStage 99 on an update',
    send: (f) => f.raw.call('UpdateWorkflowExecution', { namespace: NAMESPACE, workflowExecution: target(f), waitPolicy: { lifecycleStage: 99 }, request: { meta: { updateId: 'u' }, input: { name: 'u' } } }),
    code: status.INVALID_ARGUMENT,
    names: /^waitPolicy\.lifecycleStage is 99/,
  },
  { name: 'resetReapplyType 9', send: (f) => f.raw.call('ResetWorkflowExecution', { namespace: NAMESPACE, workflowExecution: target(f), workflowTaskFinishEventId: 2, requestId: randomUUID(), resetReapplyType: 9 }), code: status.INVALID_ARGUMENT, names: /^resetReapplyType is 9/ },
  { name: 'RespondWorkflowTaskFailed cause 9999', send: (f) => f.raw.call('RespondWorkflowTaskFailed', { namespace: NAMESPACE, taskToken: workflowToken(f), cause: 9999 }), code: status.INVALID_ARGUMENT, names: /^cause is 9999/ },
  {
    name: 'a timeout type 99 inside an activity failure',
    send: (f) => f.raw.call('RespondActivityTaskFailedById', { namespace: NAMESPACE, ...target(f), activityId: 'a', failure: { message: 'm', timeoutFailureInfo: { timeoutType: 99 } } }),
    code: status.INVALID_ARGUMENT,
    names: /^failure\.timeoutFailureInfo\.timeoutType is 99/,
  },

  // --- Policy pairs Temporal refuses, aimed at the running target: it must not be replaced.
  {
    name: 'REJECT_DUPLICATE with TERMINATE_EXISTING on a running workflow id',
    send: (f) => f.raw.call('StartWorkflowExecution', startRequest(f, f.target.workflowId, { workflowIdReusePolicy: Reuse.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, workflowIdConflictPolicy: Conflict.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING })),
    code: status.INVALID_ARGUMENT,
    names: /workflowIdReusePolicy WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE cannot be combined with workflowIdConflictPolicy WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING/,
  },
  ...[Conflict.WORKFLOW_ID_CONFLICT_POLICY_FAIL, Conflict.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, Conflict.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING].map(
    (conflict): BadInputCase => ({
      name: `TERMINATE_IF_RUNNING with ${Conflict[conflict]}`,
      send: (f) => f.raw.call('StartWorkflowExecution', startRequest(f, f.target.workflowId, { workflowIdReusePolicy: Reuse.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING, workflowIdConflictPolicy: conflict })),
      code: status.INVALID_ARGUMENT,
      names: new RegExp(`workflowIdReusePolicy WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING cannot be combined with workflowIdConflictPolicy ${Conflict[conflict]}`),
    }),
  ),
  {
    name: 'SignalWithStart with conflict policy FAIL',
    send: (f) => f.raw.call('SignalWithStartWorkflowExecution', { ...startRequest(f, f.target.workflowId), signalName: 's', workflowIdConflictPolicy: Conflict.WORKFLOW_ID_CONFLICT_POLICY_FAIL }),
    code: status.INVALID_ARGUMENT,
    names: /workflowIdConflictPolicy WORKFLOW_ID_CONFLICT_POLICY_FAIL is not supported by SignalWithStartWorkflowExecution/,
  },

  // --- Malformed durations.
  { name: 'a negative run timeout', send: (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { workflowRunTimeout: { seconds: -1 } })), code: status.INVALID_ARGUMENT, names: /^workflowRunTimeout must not be negative$/ },
  {
    name: 'a start delay whose seconds and nanos disagree in sign',
    send: (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { workflowStartDelay: { seconds: 1, nanos: -500_000 } })),
    code: status.INVALID_ARGUMENT,
    names: /^workflowStartDelay is not a valid duration/,
  },

  // --- 100,000-character values never come back whole.
  { name: 'a 100,000-character cron schedule', send: (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { cronSchedule: `${'1'.repeat(99_992)} * * * *` })), code: status.INVALID_ARGUMENT, names: /cronSchedule "1{20}.*…" \(100000 characters\)/ },
  { name: 'a 100,000-character workflow id', send: (f, id) => f.raw.call('StartWorkflowExecution', startRequest(f, id, { workflowId: ascii(100_000) })), code: status.INVALID_ARGUMENT, names: /^workflowId "x{100}…" \(100000 characters\) is 100000 bytes long/ },
  {
    name: 'a 100,000-character workflow id inside a task token',
    send: (f) => f.raw.call('RespondActivityTaskCompleted', { namespace: NAMESPACE, taskToken: activityToken(f, { workflowId: ascii(100_000) }) }),
    code: status.INVALID_ARGUMENT,
    names: /^taskToken\.workflowId "x{100}…" \(100000 characters\)/,
  },
  {
    name: 'a 100,000-character activity id inside a task token',
    send: (f) => f.raw.call('RecordActivityTaskHeartbeat', { namespace: NAMESPACE, taskToken: activityToken(f, { activityId: ascii(100_000) }) }),
    code: status.INVALID_ARGUMENT,
    names: /^taskToken\.activityId "x{100}…" \(100000 characters\)/,
  },
  {
    name: 'a signal to an unknown workflow whose id is exactly 1000 bytes (quoted in NOT_FOUND)',
    send: (f) => f.raw.call('SignalWorkflowExecution', { namespace: NAMESPACE, workflowExecution: { workflowId: `${uniqueName('ghost')}-${ascii(MAX_ID)}`.slice(0, MAX_ID) }, signalName: 's', requestId: randomUUID() }),
    code: status.NOT_FOUND,
    names: /workflowId "ghost-.*…" \(1000 characters\)/,
  },
  { name: "RegisterNamespace 'bad name!'", send: (f) => f.raw.call('RegisterNamespace', { namespace: 'bad name!' }), code: status.INVALID_ARGUMENT, names: /^namespace name "bad name!" is invalid: use letters, digits, '\.', '_' or '-', starting with a letter or digit/ },
];

for (const c of CASES) {
  file.test(`refused: ${c.name}`, async (_t, env) => {
    const f = await setup(env.server.address);
    const workflowId = uniqueName('bad');
    const err: ServiceError = await refusal(c.send(f, workflowId));
    assert.equal(err.code, c.code, `expected ${statusName(c.code)}, got ${statusName(err.code)}: ${err.details.slice(0, 400)}`);
    assert.ok(err.details.length < MAX_MESSAGE, `a short message (${err.details.length} characters): ${err.details.slice(0, 400)}`);
    assert.match(err.details, c.names);
    await assertNoExecution(f, workflowId);
    await assertTargetUnchanged(f);
  });
}

file.test('refused: 16 concurrent 5 MB messages, and the server stays small', async (t, env) => {
  const f = await setup(env.server.address);
  const before = residentBytes(env.server.pid);
  const body = temporal.api.workflowservice.v1.StartWorkflowExecutionRequest.encode(startRequest(f, uniqueName('big'), { input: bytesPayloads(5 * MB) })).finish();
  const errors = await Promise.all(Array.from({ length: 16 }, () => refusal(f.raw.callBytes('StartWorkflowExecution', body))));
  for (const err of errors) assert.equal(err.code, status.RESOURCE_EXHAUSTED, err.details);
  const after = residentBytes(env.server.pid);
  // Informal: only the statuses are asserted; the RSS is reported so a regression is visible.
  if (before !== undefined && after !== undefined) t.diagnostic(`server RSS ${(before / MB).toFixed(0)} MB before, ${(after / MB).toFixed(0)} MB after 16 × 5 MB refused`);
  await assertTargetUnchanged(f);
});

file.test('refused: nothing any refused start sent was dispatched', async (_t, env) => {
  const f = await setup(env.server.address);
  const response = await f.raw.call('PollWorkflowTaskQueue', { namespace: NAMESPACE, taskQueue: { name: f.refusedQueue }, identity: 'bad-input-table-check' }, { timeoutMs: 2500 }).catch((err: ServiceError) => {
    // An empty long poll may also end at the caller's deadline.
    if (err.code === status.DEADLINE_EXCEEDED) return {} as temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
    throw err;
  });
  assert.equal(response.taskToken?.length ?? 0, 0, `a refused start was dispatched: ${response.workflowExecution?.workflowId}`);
});

file.test("refused: start-dev -n 'bad name!' does not start, with RegisterNamespace's rule", async () => {
  const started = await startServer({ inMemory: true, extraArgs: ['-n', 'bad name!'] }).then(
    async (server) => {
      await server.dispose();
      return undefined;
    },
    (err: Error) => err,
  );
  assert.ok(started, 'the server must refuse to start');
  // The same rule, word for word, as RegisterNamespace's refusal above.
  assert.match(started.message, /--namespace .*namespace name "bad name!" is invalid: use letters, digits, '\.', '_' or '-', starting with a letter or digit/);
});

// --- Accepted at the edges -----------------------------------------------------------------------

file.test(`accepted: ids of exactly ${MAX_ID} bytes, ASCII and multi-byte`, async (_t, env) => {
  const f = await setup(env.server.address);
  const taskQueue = `${uniqueName('tq-edge')}-${ascii(MAX_ID)}`.slice(0, MAX_ID);
  // Exactly 1000 bytes in far fewer characters: multi-byte, unique per run through an ASCII tail.
  const tail = uniqueName('e');
  const euros = '€'.repeat(Math.floor((MAX_ID - tail.length) / 3));
  const padded = euros + tail + 'a'.repeat(MAX_ID - Buffer.byteLength(euros + tail));
  assert.equal(Buffer.byteLength(padded), MAX_ID);
  const request = startRequest(f, padded);
  const started = await f.raw.call('StartWorkflowExecution', { ...request, taskQueue: { name: taskQueue }, identity: ascii(MAX_ID), requestId: ascii(MAX_ID - 36) + randomUUID() });
  assert.ok(started.runId);
  await f.raw.call('SignalWorkflowExecution', { namespace: NAMESPACE, workflowExecution: { workflowId: padded }, signalName: EURO_AT_LIMIT, requestId: randomUUID() });
  const events = await historyOf(f.raw, padded);
  const signaled = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  assert.equal(signaled?.workflowExecutionSignaledEventAttributes?.signalName, EURO_AT_LIMIT);
  assert.equal(events[0]?.workflowExecutionStartedEventAttributes?.taskQueue?.name, taskQueue);
  await f.raw.call('TerminateWorkflowExecution', { namespace: NAMESPACE, workflowExecution: { workflowId: padded }, reason: 'bad-input-table cleanup' });
});

file.test('accepted: a 500 µs start delay, rounded up to 1 ms', async (_t, env) => {
  const f = await setup(env.server.address);
  const workflowId = uniqueName('sub-ms-delay');
  await f.raw.call('StartWorkflowExecution', startRequest(f, workflowId, { taskQueue: { name: uniqueName('tq-delay') }, workflowStartDelay: { seconds: 0, nanos: 500_000 } }));
  const started = (await historyOf(f.raw, workflowId))[0]?.workflowExecutionStartedEventAttributes;
  const backoff = started?.firstWorkflowTaskBackoff;
  assert.equal(Number(backoff?.seconds ?? 0) * 1000 + (backoff?.nanos ?? 0) / 1e6, 1, 'the delay is 1 ms, not 0 and not refused');
  const described = await f.raw.call('DescribeWorkflowExecution', { namespace: NAMESPACE, execution: { workflowId } });
  const ms = (ts: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(ts?.seconds ?? 0) * 1000 + Math.floor((ts?.nanos ?? 0) / 1e6);
  assert.equal(ms(described.workflowExecutionInfo?.executionTime) - ms(described.workflowExecutionInfo?.startTime), 1);
  await f.raw.call('TerminateWorkflowExecution', { namespace: NAMESPACE, workflowExecution: { workflowId }, reason: 'bad-input-table cleanup' });
});

file.test('accepted: a 500 µs timer, which fires no sooner than 1 ms later', async (_t, env) => {
  const f = await setup(env.server.address);
  const workflowId = uniqueName('sub-ms-timer');
  const taskQueue = uniqueName('tq-timer');
  await f.raw.call('StartWorkflowExecution', startRequest(f, workflowId, { taskQueue: { name: taskQueue } }));
  const task = await f.raw.call('PollWorkflowTaskQueue', { namespace: NAMESPACE, taskQueue: { name: taskQueue }, identity: 'bad-input-table' }, { timeoutMs: 20_000 });
  assert.ok(task.taskToken?.length, 'the workflow task was delivered');
  await f.raw.call('RespondWorkflowTaskCompleted', {
    namespace: NAMESPACE,
    taskToken: task.taskToken,
    identity: 'bad-input-table',
    commands: [{ commandType: enums.CommandType.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: 't1', startToFireTimeout: { seconds: 0, nanos: 500_000 } } }],
  });
  const events = await eventually(
    async () => {
      const h = await historyOf(f.raw, workflowId);
      return h.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED) ? h : undefined;
    },
    { timeoutMs: 10_000, description: 'the timer fired' },
  );
  assert.ok(!events.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED), 'the StartTimer command was accepted');
  const time = (type: number) => {
    const ts = events.find((e) => e.eventType === type)?.eventTime;
    return Number(ts?.seconds ?? 0) * 1000 + (ts?.nanos ?? 0) / 1e6;
  };
  assert.ok(time(EventType.EVENT_TYPE_TIMER_FIRED) - time(EventType.EVENT_TYPE_TIMER_STARTED) >= 1, 'fired at least 1 ms after it started');
  await f.raw.call('TerminateWorkflowExecution', { namespace: NAMESPACE, workflowExecution: { workflowId }, reason: 'bad-input-table cleanup' });
});

file.test('teardown: the raw connection closes', async () => {
  if (fixture) (await fixture).raw.close();
});
