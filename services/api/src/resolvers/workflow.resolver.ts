/**
 * Workflows: search, counts, detail, history and the actions (signal, cancel, terminate, reset),
 * each one WorkflowService call made in process through the frontend's chain, so namespace
 * resolution, rights, rate limits, validation and metering are the gRPC tier's own. A page's rows
 * share one namespace load (DataLoader); no row costs a call of its own.
 */
import { randomUUID } from 'node:crypto';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, quote, temporal } from '@hourglass/common';
import { authorizeCall } from '@hourglass/identity';
import type { SavedViewOwner, SavedViewRecord } from '@hourglass/persistence';
import { billableActionsOfEvent } from '@hourglass/history';
import { BillableActions } from '@hourglass/usage';
import type { ApiContext, ResolverMap } from '../context';
import { decodeFields, decodePayload, eventTypeName, jsonPayload, plain, statusName, tsToIso } from '../values';
import { namespaceView } from './namespace.resolver';

type Args = Record<string, any>;
type ExecutionInfo = temporal.api.workflow.v1.IWorkflowExecutionInfo;

const MAX_PAGE_SIZE = 1000;
const MAX_REASON = 1000;

function pageSizeOf(value: unknown, fallback: number): number {
  const n = value === undefined || value === null ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) throw new InvalidArgumentError(`pageSize must be 1 to ${MAX_PAGE_SIZE}, got ${String(value)}`);
  return n;
}

function tokenOf(value: unknown): Buffer | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return Buffer.from(String(value), 'base64');
}

function nextToken(bytes: Uint8Array | null | undefined): string | null {
  return bytes && bytes.length > 0 ? Buffer.from(bytes).toString('base64') : null;
}

function summary(info: ExecutionInfo, namespace: string, ctx: ApiContext) {
  return {
    workflowId: info.execution?.workflowId ?? '',
    runId: info.execution?.runId ?? '',
    type: info.type?.name ?? '',
    status: statusName(info.status),
    startTime: tsToIso(info.startTime),
    closeTime: tsToIso(info.closeTime),
    taskQueue: info.taskQueue ?? '',
    historyLength: Number(String(info.historyLength ?? 0)),
    searchAttributes: decodeFields(info.searchAttributes?.indexedFields as never),
    memo: decodeFields(info.memo?.fields as never),
    namespace: async () => namespaceView(await ctx.namespaceByName.load(namespace), ctx),
  };
}

function reasonOf(value: unknown): string {
  const reason = String(value ?? '').trim();
  if (reason === '') throw new InvalidArgumentError('a reason is required: it is recorded in the workflow history');
  if (reason.length > MAX_REASON) throw new InvalidArgumentError(`reason of ${reason.length} characters is longer than ${MAX_REASON}`);
  return reason;
}

function execution(args: Args) {
  return { workflowId: String(args.workflowId), runId: args.runId ? String(args.runId) : '' };
}

/** Who did it, in the history's identity fields: the portal and the caller's name. */
function identity(ctx: ApiContext): string {
  return `portal:${ctx.principal().name}`.slice(0, 200);
}

/** Per owner in one namespace. */
const MAX_VIEWS_PER_OWNER = 100;
const MAX_VIEW_NAME = 100;
const MAX_VIEW_QUERY = 4000;

/**
 * Saved views are the caller's own: the signed-in user, or the service account (or user) whose
 * API key calls. Keyed by the principal's stable id, not its name, so an email change or a
 * service account rename keeps them.
 */
function viewOwner(ctx: ApiContext): SavedViewOwner {
  const principal = ctx.principal();
  return { type: principal.type, id: principal.id };
}

function viewOf(view: SavedViewRecord): Record<string, unknown> {
  return { name: view.name, query: view.query, savedBy: view.savedBy, updatedAt: new Date(view.updatedAt).toISOString() };
}

const RECORD_TYPE = Object.fromEntries(Object.entries(BillableActions).map(([action, row]) => [action, row.recordType]));

export const workflowResolvers: ResolverMap = {
  Query: {
    workflows: async (_: unknown, args: Args, ctx: ApiContext) => {
      const namespace = String(args.namespace);
      const pageToken = tokenOf(args.pageToken);
      const response = await ctx.call('WorkflowService', 'ListWorkflowExecutions', {
        namespace,
        query: String(args.query ?? ''),
        pageSize: pageSizeOf(args.pageSize, 50),
        ...(pageToken ? { nextPageToken: pageToken } : {}),
      });
      return {
        executions: ((response.executions ?? []) as ExecutionInfo[]).map((info) => summary(info, namespace, ctx)),
        nextPageToken: nextToken(response.nextPageToken),
      };
    },
    savedViews: async (_: unknown, args: Args, ctx: ApiContext) => {
      const ns = await ctx.namespaceByName.load(String(args.namespace));
      ctx.stats.serviceCalls += 1;
      return (await ctx.deps.portal.listViews(ns.id, viewOwner(ctx), MAX_VIEWS_PER_OWNER)).map(viewOf);
    },
    workflowCounts: async (_: unknown, args: Args, ctx: ApiContext) => {
      const query = String(args.query ?? '').trim();
      const response = await ctx.call('WorkflowService', 'CountWorkflowExecutions', { namespace: String(args.namespace), query: `${query} GROUP BY ExecutionStatus`.trim() });
      const groups = (response.groups ?? []) as { groupValues?: temporal.api.common.v1.IPayload[]; count?: unknown }[];
      return {
        total: Number(String(response.count ?? 0)),
        byStatus: groups.map((g) => ({ status: String(g.groupValues?.[0] ? decodePayload(g.groupValues[0] as never) : ''), count: Number(String(g.count ?? 0)) })),
      };
    },
    workflow: async (_: unknown, args: Args, ctx: ApiContext) => {
      const namespace = String(args.namespace);
      const described = await ctx.call('WorkflowService', 'DescribeWorkflowExecution', { namespace, execution: execution(args) });
      const info = (described.workflowExecutionInfo ?? {}) as ExecutionInfo;
      const parent = info.parentExecution?.workflowId ? { workflowId: info.parentExecution.workflowId, runId: info.parentExecution.runId ?? '' } : null;
      return {
        summary: summary(info, namespace, ctx),
        parent,
        pendingActivities: ((described.pendingActivities ?? []) as temporal.api.workflow.v1.IPendingActivityInfo[]).map((a) => ({
          activityId: a.activityId ?? '',
          activityType: a.activityType?.name ?? '',
          state: (temporal.api.enums.v1.PendingActivityState[a.state ?? 0] ?? '').replace('PENDING_ACTIVITY_STATE_', ''),
          attempt: a.attempt ?? 1,
          lastFailure: a.lastFailure?.message ?? null,
          lastHeartbeatTime: tsToIso(a.lastHeartbeatTime),
          heartbeatDetails: a.heartbeatDetails?.payloads ? a.heartbeatDetails.payloads.map((p) => decodePayload(p as never)) : null,
          lastWorkerIdentity: a.lastWorkerIdentity || null,
        })),
        pendingChildren: ((described.pendingChildren ?? []) as temporal.api.workflow.v1.IPendingChildExecutionInfo[]).map((c) => ({
          workflowId: c.workflowId ?? '',
          runId: c.runId ?? '',
          workflowType: c.workflowTypeName ?? '',
        })),
        // Every run of this workflow id, from the visibility index: one call whatever the number of runs.
        runs: async () => {
          const id = String(args.workflowId).replaceAll("'", "\\'");
          const response = await ctx.call('WorkflowService', 'ListWorkflowExecutions', { namespace, query: `WorkflowId = '${id}'`, pageSize: 100 });
          return ((response.executions ?? []) as ExecutionInfo[]).map((run) => summary(run, namespace, ctx));
        },
      };
    },
    workflowHistory: async (_: unknown, args: Args, ctx: ApiContext) => {
      const pageToken = tokenOf(args.pageToken);
      const response = await ctx.call('WorkflowService', 'GetWorkflowExecutionHistory', {
        namespace: String(args.namespace),
        execution: execution(args),
        maximumPageSize: pageSizeOf(args.pageSize, 200),
        ...(pageToken ? { nextPageToken: pageToken } : {}),
      });
      const events = (response.history?.events ?? []) as temporal.api.history.v1.IHistoryEvent[];
      return {
        events: events.map((event) => {
          const attributesKey = Object.keys(event).find((k) => k.endsWith('EventAttributes') && (event as Record<string, unknown>)[k]);
          return {
            eventId: Number(String(event.eventId ?? 0)),
            eventTime: tsToIso(event.eventTime),
            eventType: eventTypeName(event.eventType),
            attributes: attributesKey ? plain((event as Record<string, unknown>)[attributesKey]) : null,
            billableActions: billableActionsOfEvent(event as never).map((a) => ({ action: RECORD_TYPE[a.action] ?? a.action, count: a.count })),
          };
        }),
        nextPageToken: nextToken(response.nextPageToken),
      };
    },
  },
  Mutation: {
    saveView: async (_: unknown, args: Args, ctx: ApiContext) => {
      const ns = await ctx.namespaceByName.load(String(args.namespace));
      authorizeCall(ctx.principal(), 'SaveView', 'write', ns);
      const name = String(args.name).trim();
      if (name === '' || name.length > MAX_VIEW_NAME) throw new InvalidArgumentError(`view name ${quote(String(args.name))} must be 1 to ${MAX_VIEW_NAME} characters long`);
      const query = String(args.query).trim();
      if (query.length > MAX_VIEW_QUERY) throw new InvalidArgumentError(`a view's query has at most ${MAX_VIEW_QUERY} characters (${query.length} given)`);
      // The visibility service checks the query as it would run it (syntax, attributes, types).
      await ctx.call('WorkflowService', 'CountWorkflowExecutions', { namespace: ns.name, query });
      ctx.stats.serviceCalls += 1;
      const owner = viewOwner(ctx);
      const views = await ctx.deps.portal.listViews(ns.id, owner, MAX_VIEWS_PER_OWNER + 1);
      if (views.length >= MAX_VIEWS_PER_OWNER && !views.some((v) => v.name === name)) {
        throw new FailedPreconditionError(`you have ${MAX_VIEWS_PER_OWNER} saved views in namespace ${ns.name} already: delete one first`);
      }
      const record: SavedViewRecord = { namespaceId: ns.id, owner, name, query, savedBy: ctx.principal().name, updatedAt: Date.now() };
      await ctx.deps.portal.saveView(record);
      return viewOf(record);
    },
    deleteView: async (_: unknown, args: Args, ctx: ApiContext) => {
      const ns = await ctx.namespaceByName.load(String(args.namespace));
      authorizeCall(ctx.principal(), 'DeleteView', 'write', ns);
      ctx.stats.serviceCalls += 1;
      if (!(await ctx.deps.portal.deleteView(ns.id, viewOwner(ctx), String(args.name)))) {
        throw new NotFoundError(`you have no saved view ${quote(String(args.name))} in namespace ${ns.name}`);
      }
      return true;
    },
    signalWorkflow: async (_: unknown, args: Args, ctx: ApiContext) => {
      await ctx.call('WorkflowService', 'SignalWorkflowExecution', {
        namespace: String(args.namespace),
        workflowExecution: execution(args),
        signalName: String(args.signalName),
        ...(args.input === undefined ? {} : { input: { payloads: [jsonPayload(args.input)] } }),
        identity: identity(ctx),
        requestId: randomUUID(),
      });
      return true;
    },
    cancelWorkflow: async (_: unknown, args: Args, ctx: ApiContext) => {
      await ctx.call('WorkflowService', 'RequestCancelWorkflowExecution', {
        namespace: String(args.namespace),
        workflowExecution: execution(args),
        reason: reasonOf(args.reason),
        identity: identity(ctx),
        requestId: randomUUID(),
      });
      return true;
    },
    terminateWorkflow: async (_: unknown, args: Args, ctx: ApiContext) => {
      await ctx.call('WorkflowService', 'TerminateWorkflowExecution', {
        namespace: String(args.namespace),
        workflowExecution: execution(args),
        reason: reasonOf(args.reason),
        identity: identity(ctx),
      });
      return true;
    },
    resetWorkflow: async (_: unknown, args: Args, ctx: ApiContext) => {
      const response = await ctx.call('WorkflowService', 'ResetWorkflowExecution', {
        namespace: String(args.namespace),
        workflowExecution: execution(args),
        reason: reasonOf(args.reason),
        workflowTaskFinishEventId: Number(args.workflowTaskFinishEventId),
        requestId: randomUUID(),
        identity: identity(ctx),
      });
      return String(response.runId ?? '');
    },
  },
};
