/**
 * The persisted shape of a backlog task (the `data` of a task-queue row), validated when a backlog
 * is loaded. Version 1 is the MatchTask as written since the first release; a row that does not
 * match is a corrupt store or a bug, reported loudly instead of handed to a worker.
 */
import { z } from 'zod';
import { InvariantViolationError } from '@hourglass/common';
import type { MatchTask } from '@hourglass/contracts';

const matchTaskV1 = z.object({
  workflowId: z.string().min(1),
  runId: z.string().min(1),
  scheduledEventId: z.number().int().positive(),
  attempt: z.number().int().nonnegative(),
  createdAt: z.number(),
});

/** A stored backlog row's task, validated. */
export function parseBacklogTask(data: string, where: string): MatchTask {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    throw new InvariantViolationError(`backlog task in ${where} is not JSON`);
  }
  const parsed = matchTaskV1.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvariantViolationError(`backlog task in ${where} is corrupt: ${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
