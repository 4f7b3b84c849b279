/**
 * GetWorkflowExecutionHistory: paged reads, the wait_new_event long poll, and the close-event
 * filter that `handle.result()` waits on (exactly one event once the run closed, none on timeout).
 */
import { HistoryEventFilterType, HistorySettings, temporal, type HistoryEvent } from '@hourglass/common';
import type { ExecutionKey, NamespaceRecord } from '@hourglass/persistence';
import type { CallOptions } from '@hourglass/contracts';
import type { EngineContext } from '../../engine-context';
import type { ShardContext } from '../../shard/shard-context';
import { isRunning } from '../../workflow/mutable-state';
import { executionNotFound, resolveRun } from '../shared';
import { HISTORY_PAGE_BYTES, decodePageToken, encodePageToken } from '../history-page';

type Request = temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest;
type Response = temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse;

export async function getWorkflowExecutionHistory(env: EngineContext, namespace: NamespaceRecord, req: Request, poll: CallOptions): Promise<Response> {
  const workflowId = req.execution?.workflowId ?? '';
  const token = req.nextPageToken && req.nextPageToken.length > 0 ? decodePageToken(req.nextPageToken) : undefined;
  const key = await resolveRun(env, namespace.id, workflowId, token?.runId ?? req.execution?.runId);
  const shard = env.shardFor(key.namespaceId, key.workflowId);
  const waitMs = longPollBudget(env, namespace, poll);
  if (req.historyEventFilterType === HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT) {
    return closeEvent(env, shard, key, req.waitNewEvent ? waitMs : 0, poll.signal);
  }
  const maxPageSize = env.settings.get(HistorySettings.historyPageSize, { namespace: namespace.name });
  const pageSize = req.maximumPageSize && req.maximumPageSize > 0 ? Math.min(req.maximumPageSize, maxPageSize) : maxPageSize;
  const from = token?.nextEventId ?? 1;
  let state = await readState(shard, key);
  if (req.waitNewEvent && state.running && from >= state.nextEventId) {
    await waitFor(env, shard, key, (s) => !s.running || s.nextEventId > from, waitMs, poll.signal);
    state = await readState(shard, key);
  }
  const { events, nextEventId: next } = await shard.readHistoryPage(key, from, state.nextEventId, pageSize, HISTORY_PAGE_BYTES);
  const more = next < state.nextEventId || (req.waitNewEvent === true && state.running);
  return {
    history: { events },
    ...(more ? { nextPageToken: encodePageToken({ runId: key.runId, nextEventId: next }) } : {}),
    archived: false,
  };
}

type ReverseRequest = temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryReverseRequest;
type ReverseResponse = temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryReverseResponse;

/**
 * GetWorkflowExecutionHistoryReverse: the newest events first, in pages bounded by count and bytes
 * like the forward read. The page token is the run and the event id the next page ends before.
 */
export async function getWorkflowExecutionHistoryReverse(env: EngineContext, namespace: NamespaceRecord, req: ReverseRequest): Promise<ReverseResponse> {
  const token = req.nextPageToken && req.nextPageToken.length > 0 ? decodePageToken(req.nextPageToken) : undefined;
  const key = await resolveRun(env, namespace.id, req.execution?.workflowId ?? '', token?.runId ?? req.execution?.runId);
  const shard = env.shardFor(key.namespaceId, key.workflowId);
  const maxPageSize = env.settings.get(HistorySettings.historyPageSize, { namespace: namespace.name });
  const pageSize = req.maximumPageSize && req.maximumPageSize > 0 ? Math.min(req.maximumPageSize, maxPageSize) : maxPageSize;
  const state = await readState(shard, key);
  const before = Math.min(token?.nextEventId ?? state.nextEventId, state.nextEventId);
  const from = Math.max(1, before - pageSize);
  const events = from < before ? await shard.readHistory(key, from, before, pageSize) : [];
  // Newest first, within the byte budget (a page always has at least one event).
  const page: HistoryEvent[] = [];
  let bytes = 0;
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i] as HistoryEvent;
    bytes += temporal.api.history.v1.HistoryEvent.encode(event).len;
    if (page.length > 0 && bytes > HISTORY_PAGE_BYTES) break;
    page.push(event);
  }
  const oldest = page.length > 0 ? Number(page[page.length - 1]?.eventId) : 1;
  return {
    history: { events: page },
    ...(oldest > 1 ? { nextPageToken: encodePageToken({ runId: key.runId, nextEventId: oldest }) } : {}),
  };
}

function longPollBudget(env: EngineContext, namespace: NamespaceRecord, poll: CallOptions): number {
  const cap = env.settings.get(HistorySettings.longPollExpirationInterval, { namespace: namespace.name });
  if (!poll.deadline) return cap;
  return Math.max(0, Math.min(cap, poll.deadline - Date.now() - 1000));
}

async function readState(shard: ShardContext, key: ExecutionKey): Promise<{ running: boolean; nextEventId: number }> {
  const state = await shard.readExecution(key, (ms) => ({ running: isRunning(ms), nextEventId: ms.nextEventId }));
  if (!state) throw executionNotFound(key.workflowId, key.runId);
  return state;
}

/** Waits until the run's state satisfies `done` (checked again after subscribing, so no change is missed). */
async function waitFor(
  env: EngineContext,
  shard: ShardContext,
  key: ExecutionKey,
  done: (s: { running: boolean; nextEventId: number }) => boolean,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  if (timeoutMs <= 0) return;
  const sub = env.notifier.subscribe(key, (change) => done({ running: !change.closed, nextEventId: change.nextEventId }), timeoutMs, signal);
  if (done(await readState(shard, key))) {
    sub.cancel();
    return;
  }
  await sub.promise;
}

async function closeEvent(env: EngineContext, shard: ShardContext, key: ExecutionKey, waitMs: number, signal?: AbortSignal): Promise<Response> {
  let state = await readState(shard, key);
  if (state.running) {
    await waitFor(env, shard, key, (s) => !s.running, waitMs, signal);
    state = await readState(shard, key);
  }
  if (state.running) return { history: { events: [] } };
  const events: HistoryEvent[] = await shard.readHistory(key, state.nextEventId - 1, state.nextEventId, 1);
  return { history: { events } };
}
