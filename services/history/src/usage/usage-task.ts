/**
 * Usage tasks (category 4): the usage a commit caused — billable actions, storage byte-seconds —
 * written in the same transaction as the events that caused it, then folded by this executor into
 * the durable hourly counters in the ONE transaction that also deletes the task, fenced by the
 * shard's range id. A task folded twice (a retry after a crash between fold and ack) finds itself
 * gone and adds nothing, so every delta counts exactly once.
 */
import type { HistoryTaskRow, UsageIncrement } from '@hourglass/persistence';
import { InvariantViolationError } from '@hourglass/common';
import { z } from 'zod';
import type { EngineContext } from '../engine-context';
import type { TaskExecutor } from '../queues/immediate-queue-processor';
import { committedTask } from '../tasks';
import { BillableActions, type BillableAction } from '@hourglass/usage';

export const USAGE_TASK_TYPE = 'usage';
export const HOUR_MS = 3_600_000;

export interface UsageTask {
  type: typeof USAGE_TASK_TYPE;
  increments: { hourStart: number; recordType: string; amount: number }[];
}

const usageTaskSchema = z.object({
  type: z.literal(USAGE_TASK_TYPE),
  increments: z.array(z.object({ hourStart: z.number().int(), recordType: z.string(), amount: z.number().int().nonnegative() })),
});

export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** The usage task of a change that billed these actions at `now`, plus its storage increments; undefined when there is nothing. */
export function usageTaskOf(usage: ReadonlyMap<BillableAction, number>, now: number, storage: UsageTask['increments'] = []): UsageTask | undefined {
  const increments: UsageTask['increments'] = [...usage]
    .filter(([, n]) => n > 0)
    .map(([action, amount]) => ({ hourStart: hourOf(now), recordType: BillableActions[action].recordType as string, amount }));
  increments.push(...storage);
  return increments.length > 0 ? { type: USAGE_TASK_TYPE, increments } : undefined;
}

/** A usage task's payload: the committed task itself (tasks.ts), or the stored row's data validated. */
export function parseUsageTask(row: HistoryTaskRow): UsageTask {
  const committed = committedTask(row);
  if (committed?.type === USAGE_TASK_TYPE) return committed;
  const parsed = usageTaskSchema.safeParse(JSON.parse(row.data));
  if (!parsed.success) throw new InvariantViolationError(`usage task ${row.taskId} has malformed data: ${parsed.error.message}`);
  return parsed.data;
}

/** Counts every fold that took effect, by namespace and record type (hourglass_billable_actions_total). */
export type UsageFoldListener = (namespaceId: string, increments: readonly UsageIncrement[]) => void;

export function createUsageTaskExecutor(env: EngineContext, onFolded?: UsageFoldListener): TaskExecutor {
  return async (row) => {
    const task = parseUsageTask(row);
    const increments = task.increments.map((i) => ({ namespaceId: row.namespaceId, ...i }));
    const shard = env.shardFor(row.namespaceId, row.workflowId);
    if (await shard.foldUsage(row, increments)) onFolded?.(row.namespaceId, increments);
  };
}
