/**
 * `hourglass workflow <command>`: the temporal CLI's workflow commands, on the official
 * @temporalio/client. One table, WORKFLOW_COMMANDS: a command is its name, its description, its
 * own options and what it runs. `list` and `count` read visibility (ListWorkflowExecutions,
 * CountWorkflowExecutions) with Temporal's list filter; batch operations are `hourglass batch`.
 */
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { defaultPayloadConverter, type Payload, type SearchAttributes } from '@temporalio/common';
import { int64, temporal } from '@hourglass/common';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  CliError,
  EXIT_USAGE,
  collect,
  failureText,
  formatRecord,
  formatTable,
  grpcCode,
  parseJsonInput,
  print,
  withClient,
  withConnectionOptions,
  type ConnectionFlags,
  type Session,
} from './cli-support';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type ExecutionInfo = temporal.api.workflow.v1.IWorkflowExecutionInfo;
const { EventType, WorkflowExecutionStatus } = temporal.api.enums.v1;

/** The flags every command that addresses one execution has. */
interface ExecutionFlags extends ConnectionFlags {
  workflowId: string;
  runId?: string;
}

type RunFlags = ExecutionFlags & Record<string, unknown>;

export interface WorkflowCommandSpec {
  name: string;
  description: string;
  /** Options besides the connection ones. */
  options: Option[];
  run(flags: ExecutionFlags & Record<string, unknown>, session: Session): Promise<void>;
}

const workflowIdOption = () => new Option('-w, --workflow-id <id>', 'the workflow id').makeOptionMandatory();
const runIdOption = () => new Option('-r, --run-id <id>', 'the run (default: the latest run of the workflow id)');
const inputOption = () => new Option('-i, --input <json>', 'an argument as JSON; repeat for more').argParser(collect);
const reasonOption = (what: string) => new Option('--reason <text>', `why (recorded in the history${what})`);
const queryOption = (what: string) => new Option('-q, --query <filter>', `${what}, in Temporal's list filter language (e.g. "WorkflowType = 'greet' AND ExecutionStatus = 'Running'")`);

/** A whole number from 1 (to `max`), for --limit and --page-size. */
function positiveInteger(max?: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || (max !== undefined && n > max)) throw new InvalidArgumentError(`expected a whole number from 1${max === undefined ? '' : ` to ${max}`}`);
    return n;
  };
}

function handleOf({ client }: Session, flags: ExecutionFlags) {
  return client.workflow.getHandle(flags.workflowId, flags.runId);
}

/** A failed call, said with the workflow it was about. */
function explain(err: unknown, flags: ExecutionFlags): CliError {
  if (err instanceof CliError) return err;
  const code = grpcCode(err);
  const name = (err as Error)?.name;
  const run = flags.runId ? ` run ${flags.runId}` : '';
  if (flags.workflowId === undefined) return new CliError(failureText(err));
  if (code === status.NOT_FOUND || name === 'WorkflowNotFoundError') {
    return new CliError(`workflow ${JSON.stringify(flags.workflowId)}${run} not found in namespace ${flags.namespace}: ${failureText(err)}`);
  }
  return new CliError(failureText(err));
}

function timestampMs(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return undefined;
  return Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** A payload as the value it holds (JSON as its object), else as `<encoding, n bytes>`. */
function payloadValue(p: Payload): unknown {
  try {
    return defaultPayloadConverter.fromPayload(p);
  } catch {
    return `<${Buffer.from(p.metadata?.encoding ?? []).toString() || 'binary'}, ${p.data?.length ?? 0} bytes>`;
  }
}

function payloadsValue(payloads: { payloads?: Payload[] | null } | null | undefined): unknown[] | undefined {
  return payloads?.payloads ? payloads.payloads.map(payloadValue) : undefined;
}

/** The event's attributes, e.g. workflowExecutionStartedEventAttributes. */
function attributesOf(event: HistoryEvent): Record<string, unknown> {
  for (const [key, value] of Object.entries(event)) if (key.endsWith('EventAttributes') && value) return value as Record<string, unknown>;
  return {};
}

export function eventTypeName(event: HistoryEvent): string {
  const name = EventType[event.eventType ?? 0] ?? String(event.eventType);
  return name.replace(/^EVENT_TYPE_/, '').toLowerCase().replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
}

/** The few fields of an event a person reads first, as `key=value`. */
export function eventSummary(event: HistoryEvent): string {
  const a = attributesOf(event) as Record<string, any>;
  const parts: [string, unknown][] = [
    ['type', a.workflowType?.name ?? a.activityType?.name],
    ['taskQueue', event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED || event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ? a.taskQueue?.name : undefined],
    ['activityId', a.activityId],
    ['timerId', a.timerId],
    ['signal', a.signalName],
    ['input', payloadsValue(a.input)],
    ['result', payloadsValue(a.result)],
    ['details', payloadsValue(a.details)],
    ['failure', a.failure?.message],
    ['reason', a.reason || undefined],
    ['identity', a.identity || undefined],
  ];
  const text = parts
    .filter(([, v]) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

/** An event as JSON (enum names, int64 as strings, bytes in base64): what `--output json` prints. */
export function eventJson(event: HistoryEvent): Record<string, unknown> {
  return temporal.api.history.v1.HistoryEvent.toObject(event as temporal.api.history.v1.HistoryEvent, { longs: String, enums: String, bytes: String, defaults: false });
}

const CLOSE_EVENTS = new Set<number>([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

/**
 * The run's history page by page; with `follow`, long-polls for new events until the run closes.
 * Each page is handed over as it arrives.
 */
async function readHistory(session: Session, flags: ExecutionFlags, follow: boolean, onPage: (events: HistoryEvent[]) => void): Promise<void> {
  let nextPageToken: Uint8Array | undefined;
  for (;;) {
    const page = await session.client.workflowService.getWorkflowExecutionHistory({
      namespace: session.namespace,
      execution: { workflowId: flags.workflowId, ...(flags.runId ? { runId: flags.runId } : {}) },
      maximumPageSize: 1000,
      ...(nextPageToken ? { nextPageToken } : {}),
      waitNewEvent: follow,
    });
    const events = page.history?.events ?? [];
    if (events.length > 0) onPage(events);
    if (follow && events.some((e) => CLOSE_EVENTS.has(e.eventType ?? 0))) return;
    if (!page.nextPageToken || page.nextPageToken.length === 0) return;
    nextPageToken = page.nextPageToken;
  }
}

/** The event id a reset goes back to: `--event-id`, or a workflow task completion found by `--type`. */
async function resetPoint(session: Session, flags: ExecutionFlags & { eventId?: string; type?: string }): Promise<number> {
  if (flags.eventId !== undefined) {
    const id = Number(flags.eventId);
    if (!Number.isInteger(id) || id < 1) throw new CliError(`--event-id must be an event id (a whole number from 1), got ${JSON.stringify(flags.eventId)}`, EXIT_USAGE);
    return id;
  }
  const completed: number[] = [];
  await readHistory(session, flags, false, (events) => {
    for (const e of events) if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) completed.push(Number(e.eventId));
  });
  const id = flags.type === 'FirstWorkflowTask' ? completed[0] : completed[completed.length - 1];
  if (id === undefined) throw new CliError(`workflow ${JSON.stringify(flags.workflowId)} has no completed workflow task to reset to`);
  return id;
}

/** `--search-attribute Key=<json>` values as the SDK's searchAttributes (each value a list; a JSON array is the list). */
function searchAttributesOf(values: string[] | undefined): SearchAttributes | undefined {
  if (!values || values.length === 0) return undefined;
  const out: Record<string, unknown[]> = {};
  values.forEach((text, i) => {
    const eq = text.indexOf('=');
    const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
    if (eq < 1) throw new CliError(`--search-attribute #${i + 1} is not key=value: ${shown}`, EXIT_USAGE);
    let value: unknown;
    try {
      value = JSON.parse(text.slice(eq + 1));
    } catch {
      throw new CliError(`--search-attribute #${i + 1}: the value is not JSON: ${shown} (a string needs quotes: Key='"text"')`, EXIT_USAGE);
    }
    const list = Array.isArray(value) ? (value as unknown[]) : [value];
    if (!list.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) throw new CliError(`--search-attribute #${i + 1} must be a string, number or boolean, or a list of them: ${shown}`, EXIT_USAGE);
    out[text.slice(0, eq)] = list;
  });
  return out as SearchAttributes;
}

/** `WORKFLOW_EXECUTION_STATUS_RUNNING` → `RUNNING`, as `describe` prints a status. */
function statusName(value: number | null | undefined): string {
  return (WorkflowExecutionStatus[value ?? 0] ?? String(value)).replace(/^WORKFLOW_EXECUTION_STATUS_/, '');
}

/** An execution as `workflow list` prints it. */
function executionView(e: ExecutionInfo): Record<string, unknown> {
  return {
    workflowId: e.execution?.workflowId ?? '',
    runId: e.execution?.runId ?? '',
    type: e.type?.name ?? '',
    status: statusName(e.status),
    startTime: iso(timestampMs(e.startTime)),
    closeTime: iso(timestampMs(e.closeTime)),
    taskQueue: e.taskQueue || undefined,
  };
}

const LIST_COLUMNS = ['status', 'workflow id', 'run id', 'type', 'start time', 'close time'];
const listRow = (v: Record<string, unknown>) => [v.status, v.workflowId, v.runId, v.type, v.startTime, v.closeTime];

export const WORKFLOW_COMMANDS: WorkflowCommandSpec[] = [
  {
    name: 'list',
    description: 'the executions a list filter matches (all of them without --query), newest first; -o json: one execution per line',
    options: [
      queryOption('which executions'),
      new Option('--limit <n>', 'at most this many (default: all)').argParser(positiveInteger()),
      new Option('--page-size <n>', 'executions asked for per ListWorkflowExecutions call (1 to 1000)').argParser(positiveInteger(1000)).default(100),
    ],
    async run(flags: RunFlags, session: Session): Promise<void> {
      const limit = flags.limit as number | undefined;
      const pageSize = flags.pageSize as number;
      const query = (flags.query as string | undefined) ?? '';
      const rows: Record<string, unknown>[] = [];
      let nextPageToken: Uint8Array | undefined;
      let shown = 0;
      do {
        const want = limit === undefined ? pageSize : Math.min(pageSize, limit - shown);
        const page = await session.client.workflowService.listWorkflowExecutions({ namespace: session.namespace, query, pageSize: want, ...(nextPageToken ? { nextPageToken } : {}) });
        const views = (page.executions ?? []).slice(0, want).map(executionView);
        shown += views.length;
        // JSON lines go out page by page; the table is aligned over every row, so it waits for the last page.
        if (flags.output === 'json') for (const v of views) process.stdout.write(`${JSON.stringify(v)}\n`);
        else rows.push(...views);
        nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
      } while (nextPageToken && (limit === undefined || shown < limit));
      if (flags.output === 'table') process.stdout.write(`${formatTable(LIST_COLUMNS, rows.map(listRow))}\n`);
    },
  },
  {
    name: 'count',
    description: "how many executions a list filter matches; with GROUP BY ExecutionStatus, each status's count",
    options: [queryOption('which executions (may end with GROUP BY ExecutionStatus)')],
    async run(flags: RunFlags, session: Session): Promise<void> {
      const res = await session.client.workflowService.countWorkflowExecutions({ namespace: session.namespace, query: (flags.query as string | undefined) ?? '' });
      const count = Number(res.count?.toString() ?? 0);
      const groups = (res.groups ?? []).map((g) => ({ values: (g.groupValues ?? []).map(payloadValue), count: Number(g.count?.toString() ?? 0) }));
      if (groups.length === 0 && !/\bgroup\s+by\b/i.test((flags.query as string | undefined) ?? '')) return print(flags.output, { count }, () => `total  ${count}`);
      print(flags.output, { count, groups }, () =>
        [formatTable(['group', 'count'], groups.map((g) => [g.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', '), g.count])), `total  ${count}`].join('\n'),
      );
    },
  },
  {
    name: 'start',
    description: 'start a workflow execution; prints its workflow id and run id',
    options: [
      new Option('--type <name>', 'the workflow type').makeOptionMandatory(),
      new Option('-t, --task-queue <name>', 'the task queue its workers poll').makeOptionMandatory(),
      new Option('-w, --workflow-id <id>', 'the workflow id (default: a new UUID)'),
      inputOption(),
      new Option('--execution-timeout <duration>', 'limit of the whole execution, retries and continue-as-new included (e.g. 1h)'),
      new Option('--run-timeout <duration>', 'limit of one run'),
      new Option('--task-timeout <duration>', 'limit of one workflow task (default 10s)'),
      new Option('--search-attribute <key=json>', "a custom search attribute's value, as JSON (Size=3, Color='\"blue\"'); repeat for more").argParser(collect),
    ],
    async run(flags: RunFlags, { client, namespace }: Session): Promise<void> {
      const args = parseJsonInput(flags.input as string[] | undefined);
      const searchAttributes = searchAttributesOf(flags.searchAttribute as string[] | undefined);
      const workflowId = flags.workflowId || randomUUID();
      const handle = await client.workflow
        .start(flags.type as string, {
          taskQueue: flags.taskQueue as string,
          workflowId,
          args,
          ...(flags.executionTimeout ? { workflowExecutionTimeout: flags.executionTimeout as string } : {}),
          ...(flags.runTimeout ? { workflowRunTimeout: flags.runTimeout as string } : {}),
          ...(flags.taskTimeout ? { workflowTaskTimeout: flags.taskTimeout as string } : {}),
          ...(searchAttributes ? { searchAttributes } : {}),
        })
        .catch((err: unknown) => {
          if ((err as Error)?.name === 'WorkflowExecutionAlreadyStartedError') throw new CliError(`workflow ${JSON.stringify(workflowId)} is already running in namespace ${namespace}`);
          throw err;
        });
      const result = { workflowId, runId: handle.firstExecutionRunId, type: flags.type, namespace, taskQueue: flags.taskQueue };
      print(flags.output, result, () => formatRecord(result));
    },
  },
  {
    name: 'describe',
    description: 'show an execution: status, type, task queue, times, history length, pending activities',
    options: [workflowIdOption(), runIdOption()],
    async run(flags: RunFlags, session: Session): Promise<void> {
      const d = await handleOf(session, flags).describe();
      const pending = (d.raw.pendingActivities ?? []).map((a) => ({ activityId: a.activityId, type: a.activityType?.name, attempt: a.attempt, state: temporal.api.enums.v1.PendingActivityState[a.state ?? 0] }));
      const result = {
        workflowId: d.workflowId,
        runId: d.runId,
        type: d.type,
        status: d.status.name,
        taskQueue: d.taskQueue,
        startTime: d.startTime.toISOString(),
        closeTime: d.closeTime?.toISOString(),
        historyLength: d.historyLength,
        pendingActivities: pending,
      };
      print(flags.output, result, () => formatRecord({ ...result, pendingActivities: pending.length }));
    },
  },
  {
    name: 'show',
    description: "print an execution's history, one event a line (--follow: keep printing new events until it closes)",
    options: [workflowIdOption(), runIdOption(), new Option('-f, --follow', 'wait for new events and print them as they come, until the run closes')],
    async run(flags: RunFlags, session: Session): Promise<void> {
      const follow = flags.follow === true;
      if (flags.output === 'json' && !follow) {
        const events: Record<string, unknown>[] = [];
        await readHistory(session, flags, false, (page) => events.push(...page.map(eventJson)));
        return print('json', { events }, () => '');
      }
      let header = flags.output === 'table';
      const widths = [6, 24, 34];
      await readHistory(session, flags, follow, (page) => {
        if (flags.output === 'json') {
          // --follow --output json: one event per line (JSON lines), written as it arrives.
          for (const e of page) process.stdout.write(`${JSON.stringify(eventJson(e))}\n`);
          return;
        }
        const rows = page.map((e) => [String(e.eventId), iso(timestampMs(e.eventTime)) ?? '', eventTypeName(e), eventSummary(e)]);
        const lines = rows.map((r) => r.map((v, i) => (i < 3 ? v.padEnd(widths[i] ?? 0) : v)).join('  ').trimEnd());
        if (header) process.stdout.write(`${['ID', 'TIME', 'TYPE', 'DETAILS'].map((v, i) => (i < 3 ? v.padEnd(widths[i] ?? 0) : v)).join('  ')}\n`);
        header = false;
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    },
  },
  {
    name: 'signal',
    description: 'send a signal to a running execution',
    options: [workflowIdOption(), runIdOption(), new Option('--name <signal>', 'the signal name').makeOptionMandatory(), inputOption()],
    async run(flags: RunFlags, session: Session): Promise<void> {
      const args = parseJsonInput(flags.input as string[] | undefined);
      await handleOf(session, flags).signal(flags.name as string, ...args);
      const result = { workflowId: flags.workflowId, signal: flags.name, status: 'signalled' };
      print(flags.output, result, () => `signalled ${flags.workflowId} with ${String(flags.name)}`);
    },
  },
  {
    name: 'query',
    description: "ask a running (or closed) execution's workers a query and print the answer",
    options: [workflowIdOption(), runIdOption(), new Option('--type <query>', 'the query type').makeOptionMandatory(), inputOption()],
    async run(flags: RunFlags, session: Session): Promise<void> {
      const args = parseJsonInput(flags.input as string[] | undefined);
      const answer = await handleOf(session, flags).query<unknown, unknown[]>(flags.type as string, ...args);
      print(flags.output, { queryType: flags.type, result: answer }, () => JSON.stringify(answer, null, 2));
    },
  },
  {
    name: 'cancel',
    description: 'ask an execution to cancel (its workflow code decides how)',
    options: [workflowIdOption(), runIdOption()],
    async run(flags: RunFlags, session: Session): Promise<void> {
      await handleOf(session, flags).cancel();
      print(flags.output, { workflowId: flags.workflowId, status: 'cancel requested' }, () => `cancellation requested for ${flags.workflowId}`);
    },
  },
  {
    name: 'terminate',
    description: 'end an execution at once, without running its code',
    options: [workflowIdOption(), runIdOption(), reasonOption('')],
    async run(flags: RunFlags, session: Session): Promise<void> {
      await handleOf(session, flags).terminate((flags.reason as string | undefined) ?? 'terminated with hourglass workflow terminate');
      print(flags.output, { workflowId: flags.workflowId, status: 'terminated' }, () => `terminated ${flags.workflowId}`);
    },
  },
  {
    name: 'reset',
    description: 'start a new run from a point of this run\'s history (a completed workflow task): --event-id or --type',
    options: [
      workflowIdOption(),
      runIdOption(),
      new Option('-e, --event-id <id>', 'the WorkflowTaskCompleted event to go back to'),
      new Option('--type <point>', 'where to go back to, instead of --event-id').choices(['FirstWorkflowTask', 'LastWorkflowTask']),
      reasonOption(' of the new run'),
    ],
    async run(flags: RunFlags, session: Session): Promise<void> {
      if ((flags.eventId === undefined) === (flags.type === undefined)) throw new CliError('reset needs exactly one of --event-id and --type', EXIT_USAGE);
      const eventId = await resetPoint(session, flags as ExecutionFlags & { eventId?: string; type?: string });
      const response = await session.client.workflowService.resetWorkflowExecution({
        namespace: session.namespace,
        workflowExecution: { workflowId: flags.workflowId, ...(flags.runId ? { runId: flags.runId } : {}) },
        workflowTaskFinishEventId: int64(eventId),
        reason: (flags.reason as string | undefined) ?? 'reset with hourglass workflow reset',
        requestId: randomUUID(),
      });
      const result = { workflowId: flags.workflowId, resetToEventId: eventId, runId: response.runId };
      print(flags.output, result, () => formatRecord(result));
    },
  },
  {
    name: 'delete',
    description: 'delete an execution and its history (a running one is terminated first)',
    options: [workflowIdOption(), runIdOption()],
    async run(flags: RunFlags, session: Session): Promise<void> {
      await session.client.workflowService.deleteWorkflowExecution({ namespace: session.namespace, workflowExecution: { workflowId: flags.workflowId, ...(flags.runId ? { runId: flags.runId } : {}) } });
      print(flags.output, { workflowId: flags.workflowId, status: 'deleted' }, () => `deleted ${flags.workflowId}`);
    },
  },
];

/** Adds `workflow <command>` for each row of WORKFLOW_COMMANDS. */
export function registerWorkflowCommands(program: Command, onError: (err: CliError) => never): void {
  const workflow = program.command('workflow').description('start, inspect and change workflow executions (as `temporal workflow`), with the official client');
  for (const spec of WORKFLOW_COMMANDS) {
    const command = withConnectionOptions(workflow.command(spec.name).description(spec.description));
    for (const option of spec.options) command.addOption(option);
    command.action(async (flags: ExecutionFlags & Record<string, unknown>) => {
      try {
        await withClient(flags, (session) => spec.run(flags, session).catch((err: unknown) => Promise.reject(explain(err, flags))));
      } catch (err) {
        onError(err instanceof CliError ? err : new CliError(failureText(err)));
      }
    });
  }
}

