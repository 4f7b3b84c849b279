/**
 * Checks every backend applies the same way, with the same messages: they are part of the store
 * contract, not of one database.
 */
import { InvalidArgumentError, quote, utf8Length, HOST_ROLES, type HostJoin } from '@hourglass/common';
import { ConditionFailedError, StoreMismatchError } from './errors';
import type { ClusterMetadata, ExecutionItemKey, ExecutionKey, ExecutionWrite, HistoryTaskRow, ShardCommit, UsageFold, UsageIncrement, UsageQuery } from './types';

/** Limits of the item key columns (see ExecutionItemRow); the MySQL schema is sized by them. */
export const MAX_ITEM_KIND_LENGTH = 32;
export const MAX_ITEM_ID_BYTES = 1000;
const ITEM_KIND = /^[\x21-\x7e]+$/;

export function describeRun(key: ExecutionKey): string {
  return `workflow ${key.workflowId} run ${key.runId} (namespace ${key.namespaceId})`;
}

/**
 * Appended events must continue the stored history exactly: `firstExpected` is the stored
 * max + 1 (1 for a new run), ids are contiguous, and nextEventId follows the last one.
 */
export function checkAppendedEvents(write: ExecutionWrite, firstExpected: number): void {
  const { events } = write;
  const first = events[0];
  if (!first) return;
  const run = describeRun(write.key);
  if (first.eventId !== firstExpected) {
    throw new ConditionFailedError(
      `${run}: first appended event id is ${first.eventId}, expected ${firstExpected} (stored history ends at ${firstExpected - 1})`,
    );
  }
  events.forEach((event, i) => {
    if (event.eventId !== first.eventId + i) {
      throw new ConditionFailedError(`${run}: appended event ids are not contiguous: ${events[i - 1]?.eventId} is followed by ${event.eventId}`);
    }
  });
  const lastId = first.eventId + events.length - 1;
  if (write.nextEventId !== lastId + 1) {
    throw new ConditionFailedError(`${run}: nextEventId is ${write.nextEventId}, but the last appended event id is ${lastId}`);
  }
}

/** Namespace page tokens: the last name of the page, base64url. */
export function encodeNamespacePageToken(lastName: string): string {
  return Buffer.from(lastName, 'utf8').toString('base64url');
}

/** Rejects tokens this store did not issue instead of silently restarting from the top. */
export function decodeNamespacePageToken(token: string): string {
  const lastName = Buffer.from(token, 'base64url').toString('utf8');
  if (lastName === '' || encodeNamespacePageToken(lastName) !== token) {
    throw new InvalidArgumentError(`invalid namespace page token ${JSON.stringify(token)}`);
  }
  return lastName;
}

function sameRun(a: ExecutionKey, b: ExecutionKey): boolean {
  return a.namespaceId === b.namespaceId && a.workflowId === b.workflowId && a.runId === b.runId;
}

/**
 * Checks the shape of a commit before any statement runs, so both backends refuse the same
 * commits with the same messages (and write nothing).
 */
export function checkCommitShape(commit: ShardCommit): void {
  const { deletion } = commit;
  if (deletion) {
    for (const write of [commit.update, commit.create]) {
      if (write && sameRun(write.key, deletion.key)) {
        throw new InvalidArgumentError(`${describeRun(deletion.key)}: a commit cannot both write and delete the run`);
      }
    }
  }
  for (const write of [commit.update, commit.create]) {
    if (!write) continue;
    for (const item of write.upsertItems) checkItemKey(write.key, item);
  }
  if (commit.update) for (const key of commit.update.deleteItems) checkItemKey(commit.update.key, key);
  for (const task of commit.tasks) checkTask(task);
  if (commit.usage) checkUsageIncrements(commit.usage);
}

/** A store that folds usage through usage tasks refuses a commit that carries usage of its own. */
export function checkNoCommitUsage(commit: ShardCommit): void {
  if (commit.usage && commit.usage.length > 0) {
    throw new InvalidArgumentError('this store adds usage through usage tasks (foldsUsageInCommit is false): a commit cannot carry usage');
  }
}

function checkItemKey(run: ExecutionKey, key: ExecutionItemKey): void {
  if (key.kind.length > MAX_ITEM_KIND_LENGTH || !ITEM_KIND.test(key.kind)) {
    throw new InvalidArgumentError(
      `${describeRun(run)}: item kind ${quote(key.kind)} must be 1-${MAX_ITEM_KIND_LENGTH} printable ASCII characters without spaces`,
    );
  }
  const bytes = utf8Length(key.id);
  if (bytes > MAX_ITEM_ID_BYTES) {
    throw new InvalidArgumentError(
      `${describeRun(run)}: ${key.kind} item id ${quote(key.id)} is ${bytes} bytes of UTF-8, the limit is ${MAX_ITEM_ID_BYTES}`,
    );
  }
}

function checkTask(task: HistoryTaskRow): void {
  for (const field of ['categoryId', 'taskId', 'fireAt'] as const) {
    const value = task[field];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidArgumentError(`task ${task.taskId} (category ${task.categoryId}): ${field} must be a non-negative integer, got ${value}`);
    }
  }
}

/** One entry per (kind, id), the LAST one given winning, as if the upserts were applied in order. */
export function lastItemPerKey<T extends ExecutionItemKey>(items: readonly T[]): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) {
    const key = itemMapKey(item);
    byKey.delete(key);
    byKey.set(key, item);
  }
  return [...byKey.values()];
}

function itemMapKey(item: ExecutionItemKey): string {
  return JSON.stringify([item.kind, item.id]);
}

/** History shards of a store created without an explicit count. */
export const DEFAULT_NUM_HISTORY_SHARDS = 4;
/** The cluster name every store records today (there is one cluster per store). */
export const CLUSTER_NAME = 'active';

/** A shard count given to open a store: a positive integer, or absent (then the recorded one). */
export function checkNumHistoryShards(given: number | undefined): void {
  if (given === undefined) return;
  if (!Number.isSafeInteger(given) || given < 1) {
    throw new InvalidArgumentError(`numHistoryShards must be a positive integer, got ${given}`);
  }
}

/** The metadata of a store opened for the first time. */
export function newClusterMetadata(given: number | undefined, now: number): ClusterMetadata {
  return { clusterName: CLUSTER_NAME, numHistoryShards: given ?? DEFAULT_NUM_HISTORY_SHARDS, createdAt: now };
}

/** A store's shard count is fixed at creation: refuse another one rather than misroute every workflow. */
export function checkRecordedNumHistoryShards(recorded: ClusterMetadata, given: number | undefined): void {
  if (given === undefined || given === recorded.numHistoryShards) return;
  throw new StoreMismatchError(
    `this store was created with ${recorded.numHistoryShards} history shards and that cannot change, but ${given} were asked for: ask for ${recorded.numHistoryShards} or leave the number unset`,
  );
}

const HOUR_MS = 3_600_000;
const MAX_USAGE_RECORD_TYPE_LENGTH = 64;
const USAGE_RECORD_TYPE = /^[a-z0-9_.-]+$/;
/** Namespaces one usage read may name (an account's namespaces are far fewer). */
export const MAX_USAGE_QUERY_NAMESPACES = 10_000;

/** Usage increments: whole hours, a short ASCII record type, non-negative safe integer amounts. */
export function checkUsageIncrements(increments: readonly UsageIncrement[]): void {
  for (const i of increments) {
    if (!Number.isSafeInteger(i.hourStart) || i.hourStart < 0 || i.hourStart % HOUR_MS !== 0) {
      throw new InvalidArgumentError(`usage hourStart must be the start of a UTC hour in ms, got ${i.hourStart}`);
    }
    if (i.recordType.length > MAX_USAGE_RECORD_TYPE_LENGTH || !USAGE_RECORD_TYPE.test(i.recordType)) {
      throw new InvalidArgumentError(`usage record type must be 1-${MAX_USAGE_RECORD_TYPE_LENGTH} characters of [a-z0-9_.-], got ${quote(i.recordType)}`);
    }
    if (!Number.isSafeInteger(i.amount) || i.amount < 0) throw new InvalidArgumentError(`usage amount must be a non-negative safe integer, got ${i.amount}`);
    if (i.namespaceId.length === 0) throw new InvalidArgumentError('usage namespaceId must not be empty');
  }
}

export function checkUsageQuery(query: UsageQuery): void {
  if (!Number.isSafeInteger(query.fromMs) || !Number.isSafeInteger(query.toMs) || query.fromMs > query.toMs) {
    throw new InvalidArgumentError(`usage range must be fromMs <= toMs (ms since epoch), got ${query.fromMs}..${query.toMs}`);
  }
  if (query.namespaceIds.length > MAX_USAGE_QUERY_NAMESPACES) {
    throw new InvalidArgumentError(`a usage read names at most ${MAX_USAGE_QUERY_NAMESPACES} namespaces, got ${query.namespaceIds.length}`);
  }
}

/** The increments of a batch's folded tasks, one per counter, in key order (a fixed lock order). */
export function mergeIncrements(batch: readonly UsageFold[], folded: readonly boolean[]): UsageIncrement[] {
  const merged = new Map<string, UsageIncrement>();
  batch.forEach((fold, i) => {
    if (!folded[i]) return;
    for (const inc of fold.increments) {
      const key = `${inc.namespaceId}\u0000${String(inc.hourStart).padStart(16, '0')}\u0000${inc.recordType}`;
      const seen = merged.get(key);
      if (seen) seen.amount += inc.amount;
      else merged.set(key, { namespaceId: inc.namespaceId, hourStart: inc.hourStart, recordType: inc.recordType, amount: inc.amount });
    }
  });
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, inc]) => inc);
}

/** A host joining the membership registry must name itself, a known role and its incarnation. */
export function checkHost(host: HostJoin): void {
  if (!HOST_ROLES.includes(host.role)) throw new InvalidArgumentError(`host role must be one of ${HOST_ROLES.join(', ')}, got ${quote(String(host.role))}`);
  if (host.hostId === '') throw new InvalidArgumentError('hostId must not be empty');
  if (host.sessionId === '') throw new InvalidArgumentError(`host ${host.hostId}: sessionId must not be empty`);
}

export function checkTtl(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new InvalidArgumentError(`a membership TTL must be a non-negative integer of milliseconds, got ${ms}`);
}
