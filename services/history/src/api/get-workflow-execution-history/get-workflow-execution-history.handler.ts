/**
 * GetWorkflowExecutionHistory: paged reads, the wait_new_event long poll, and the close-event
 * filter that `handle.result()` waits on (exactly one event once the run closed, none on timeout).
 */
import { HistoryEventFilterType, InvalidArgumentError, temporal, type HistoryEvent } from '@hourglass/common';
import type { ExecutionKey, NamespaceRecord } from '@hourglass/persistence';
import type { CallOptions } from '@hourglass/contracts';
import type { EngineContext } from '../../engine-context';
import type { ShardContext } from '../../shard/shard-context';
import { isRunning } from '../../workflow/mutable-state';
import { executionNotFound, resolveRun } from '../shared';

type Request = temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest;
type Response = temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse;

/** Page token: the run and the next event id to read. Opaque to clients. */
interface PageToken {
  runId: string;
  nextEventId: number;
}

function encodePageToken(token: PageToken): Uint8Array {
  return Buffer.from(JSON.stringify([token.runId, token.nextEventId]), 'utf8');
}

function decodePageToken(bytes: Uint8Array): PageToken {
  try {
    const [runId, nextEventId] = JSON.parse(Buffer.from(bytes).toString('utf8')) as [unknown, unknown];
    if (typeof runId === 'string' && Number.isSafeInteger(nextEventId) && (nextEventId as number) > 0) return { runId, nextEventId: nextEventId as number };
  } catch {
    // fall through
  }
  throw new InvalidArgumentError('nextPageToken is malformed: it was not issued by this server');
}

export async function getWorkflowExecutionHistory(env: EngineContext, namespace: NamespaceRecord, req: Request, poll: CallOptions): Promise<Response> {
  const workflowId = req.execution?.workflowId ?? '';
  const token = req.nextPageToken && req.nextPageToken.length > 0 ? decodePageToken(req.nextPageToken) : undefined;
  const key = await resolveRun(env, namespace.id, workflowId, token?.runId ?? req.execution?.runId);
  const shard = env.shardFor(key.namespaceId, key.workflowId);
  const waitMs = longPollBudget(env, poll);
  if (req.historyEventFilterType === HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT) {
    return closeEvent(env, shard, key, req.waitNewEvent ? waitMs : 0, poll.signal);
  }
  const pageSize = req.maximumPageSize && req.maximumPageSize > 0 ? req.maximumPageSize : env.config.defaultHistoryPageSize;
  const from = token?.nextEventId ?? 1;
  let state = await readState(shard, key);
  if (req.waitNewEvent && state.running && from >= state.nextEventId) {
    await waitFor(env, shard, key, (s) => !s.running || s.nextEventId > from, waitMs, poll.signal);
    state = await readState(shard, key);
  }
  const events = from < state.nextEventId ? await shard.readHistory(key, from, state.nextEventId, pageSize) : [];
  const next = from + events.length;
  const more = next < state.nextEventId || (req.waitNewEvent === true && state.running);
  return {
    history: { events },
    ...(more ? { nextPageToken: encodePageToken({ runId: key.runId, nextEventId: next }) } : {}),
    archived: false,
  };
}

function longPollBudget(env: EngineContext, poll: CallOptions): number {
  const cap = env.config.longPollTimeoutMs;
  if (!poll.deadline) return cap;
  return Math.max(0, Math.min(cap, poll.deadline - Date.now() - 1000));
}

async function readState(shard: ShardContext, key: ExecutionKey): Promise<{ running: boolean; nextEventId: number }> {
  const loaded = await shard.loadExecution(key);
  if (!loaded) throw executionNotFound(key.workflowId, key.runId);
  return { running: isRunning(loaded.ms), nextEventId: loaded.ms.nextEventId };
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
