/**
 * `hourglass batch <command>`: batch operations on the official @temporalio/client's raw
 * WorkflowService calls, shaped as the temporal CLI's `batch` commands (describe, list, terminate a
 * job) plus `start`, which the temporal CLI spells `workflow terminate|cancel|signal|delete|reset
 * --query`. See docs/batch.md.
 */
import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@hourglass/common';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CliError, EXIT_USAGE, collect, failureText, formatRecord, formatTable, parseJsonInput, print, withClient, withConnectionOptions, type ConnectionFlags, type Session } from './cli-support';

const { BatchOperationState, BatchOperationType } = temporal.api.enums.v1;

type Flags = ConnectionFlags & Record<string, unknown>;

interface BatchCommandSpec {
  name: string;
  alias?: string;
  description: string;
  options: Option[];
  /** Command-line checks, before connecting (exit 2). */
  check?(flags: Flags): void;
  run(flags: Flags, session: Session): Promise<void>;
}

const OPERATIONS = ['terminate', 'cancel', 'signal', 'delete', 'reset'] as const;
type OperationName = (typeof OPERATIONS)[number];

const jobIdOption = () => new Option('-j, --job-id <id>', 'the batch job id').makeOptionMandatory();

function enumName(values: Record<string, unknown>, value: number | null | undefined, prefix: string): string {
  const name = Object.entries(values).find(([, v]) => v === value)?.[0] ?? String(value ?? 0);
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

const stateName = (v: number | null | undefined) => enumName(BatchOperationState, v, 'BATCH_OPERATION_STATE_');
const typeName = (v: number | null | undefined) => enumName(BatchOperationType, v, 'BATCH_OPERATION_TYPE_');

function iso(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): string | undefined {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return undefined;
  return new Date(Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}

/** The request's operation field for `--operation`, with what that operation needs from the flags. */
function operationOf(flags: Flags): Partial<temporal.api.workflowservice.v1.IStartBatchOperationRequest> {
  const operation = flags.operation as OperationName;
  const identity = (flags.identity as string | undefined) ?? '';
  switch (operation) {
    case 'terminate':
      return { terminationOperation: { identity } };
    case 'cancel':
      return { cancellationOperation: { identity } };
    case 'delete':
      return { deletionOperation: { identity } };
    case 'signal': {
      const signal = flags.signalName as string | undefined;
      if (!signal) throw new CliError('--operation signal needs --signal-name', EXIT_USAGE);
      const args = parseJsonInput(flags.input as string[] | undefined);
      return { signalOperation: { signal, identity, ...(args.length > 0 ? { input: { payloads: args.map((a) => defaultPayloadConverter.toPayload(a)) } } : {}) } };
    }
    case 'reset':
      return { resetOperation: { identity, options: flags.resetType === 'LastWorkflowTask' ? { lastWorkflowTask: {} } : { firstWorkflowTask: {} } } };
    default:
      throw new CliError(`unknown --operation ${JSON.stringify(operation)}`, EXIT_USAGE);
  }
}

const BATCH_COMMANDS: BatchCommandSpec[] = [
  {
    name: 'start',
    description: 'start a batch job: terminate, cancel, signal, delete or reset every execution a --query matches, or the -w ids given',
    options: [
      new Option('--operation <op>', 'what to do to each execution').choices([...OPERATIONS]).makeOptionMandatory(),
      new Option('-q, --query <query>', 'the executions a visibility query matches'),
      new Option('-w, --workflow-id <id>', 'an execution (its current run); repeat for more').argParser(collect),
      new Option('--reason <text>', 'why (recorded in each affected history)').makeOptionMandatory(),
      new Option('-j, --job-id <id>', 'the job id (default: a new UUID)'),
      new Option('--rps <n>', 'executions per second at most (the namespace setting caps it)').argParser((v) => {
        const n = Number(v);
        if (!(n > 0)) throw new InvalidArgumentError('expected a positive number');
        return n;
      }),
      new Option('--identity <id>', 'who runs the job (the identity of each change; default: batcher)'),
      new Option('--signal-name <name>', 'with --operation signal: the signal'),
      new Option('-i, --input <json>', 'with --operation signal: an argument as JSON; repeat for more').argParser(collect),
      new Option('--reset-type <point>', 'with --operation reset: where to go back to (default FirstWorkflowTask)').choices(['FirstWorkflowTask', 'LastWorkflowTask']),
    ],
    check(flags) {
      const ids = (flags.workflowId as string[] | undefined) ?? [];
      if (Boolean(flags.query) === ids.length > 0) throw new CliError('batch start needs exactly one of --query and -w/--workflow-id', EXIT_USAGE);
      operationOf(flags);
    },
    async run(flags, session) {
      const ids = (flags.workflowId as string[] | undefined) ?? [];
      const jobId = (flags.jobId as string | undefined) ?? randomUUID();
      await session.client.workflowService.startBatchOperation({
        namespace: session.namespace,
        jobId,
        reason: flags.reason as string,
        ...(flags.query ? { visibilityQuery: flags.query as string } : { executions: ids.map((workflowId) => ({ workflowId })) }),
        ...(flags.rps ? { maxOperationsPerSecond: flags.rps as number } : {}),
        ...operationOf(flags),
      });
      print(flags.output, { jobId, namespace: session.namespace }, () => `started batch job ${jobId}`);
    },
  },
  {
    name: 'describe',
    description: "a job's type, state, times and counts",
    options: [jobIdOption()],
    async run(flags, session) {
      const d = await session.client.workflowService.describeBatchOperation({ namespace: session.namespace, jobId: flags.jobId as string });
      const record = {
        jobId: d.jobId,
        type: typeName(d.operationType),
        state: stateName(d.state),
        startTime: iso(d.startTime),
        closeTime: iso(d.closeTime),
        total: Number(d.totalOperationCount?.toString() ?? 0),
        completed: Number(d.completeOperationCount?.toString() ?? 0),
        failed: Number(d.failureOperationCount?.toString() ?? 0),
        identity: d.identity || undefined,
        reason: d.reason,
        query: d.query || undefined,
      };
      print(flags.output, record, () => formatRecord(record));
    },
  },
  {
    name: 'list',
    description: "the namespace's batch jobs, newest first",
    options: [
      new Option('--limit <n>', 'at most this many (default 100)').argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
        return n;
      }),
    ],
    async run(flags, session) {
      const res = await session.client.workflowService.listBatchOperations({ namespace: session.namespace, pageSize: (flags.limit as number | undefined) ?? 100 });
      const jobs = res.operationInfo.map((o) => ({ jobId: o.jobId, type: typeName(o.operationType), state: stateName(o.state), startTime: iso(o.startTime), closeTime: iso(o.closeTime) }));
      print(flags.output, { jobs }, () => formatTable(['job id', 'type', 'state', 'start time', 'close time'], jobs.map((j) => [j.jobId, j.type, j.state, j.startTime, j.closeTime])));
    },
  },
  {
    name: 'stop',
    alias: 'terminate',
    description: 'stop a running job (what it did stays done)',
    options: [jobIdOption(), new Option('--reason <text>', 'why').makeOptionMandatory(), new Option('--identity <id>', 'who stops it')],
    async run(flags, session) {
      await session.client.workflowService.stopBatchOperation({ namespace: session.namespace, jobId: flags.jobId as string, reason: flags.reason as string, identity: (flags.identity as string | undefined) ?? '' });
      print(flags.output, { jobId: flags.jobId, state: 'stopped' }, () => `stopped batch job ${flags.jobId as string}`);
    },
  },
];

export function registerBatchCommands(program: Command, onError: (err: CliError) => never): void {
  const batch = program.command('batch').description('batch operations over many workflow executions (as `temporal batch`), with the official client');
  for (const spec of BATCH_COMMANDS) {
    const command = withConnectionOptions(batch.command(spec.name).description(spec.description));
    if (spec.alias) command.alias(spec.alias);
    for (const option of spec.options) command.addOption(option);
    command.action(async (flags: Flags) => {
      try {
        spec.check?.(flags);
        await withClient(flags, (session) => spec.run(flags, session));
      } catch (err) {
        onError(err instanceof CliError ? err : new CliError(failureText(err)));
      }
    });
  }
}
