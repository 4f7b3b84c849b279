/**
 * A usage task committed by this process is folded from the object it was built from; a row read
 * back from the store (after a restart) is parsed and validated.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvariantViolationError } from '@hourglass/common';
import type { HistoryTaskRow } from '@hourglass/persistence';
import { rememberCommittedTask } from '../tasks';
import { TaskCategories } from '../queues/task-categories';
import { HOUR_MS, parseUsageTask, USAGE_TASK_TYPE, type UsageTask } from './usage-task';

function row(data: string): HistoryTaskRow {
  return { categoryId: TaskCategories.usage.id, taskId: 7, fireAt: 0, namespaceId: 'ns', workflowId: 'wf', runId: '', type: USAGE_TASK_TYPE, data };
}

describe('usage task payload', () => {
  const task: UsageTask = { type: USAGE_TASK_TYPE, increments: [{ hourStart: 3 * HOUR_MS, recordType: 'actions', amount: 2 }] };

  it('a row this process committed gives back its task without reading the stored text', () => {
    // The text is not even JSON: only the remembered task can answer.
    const committed = row('not json');
    rememberCommittedTask(committed, task);
    assert.equal(parseUsageTask(committed), task);
  });

  it('a row read back from the store is parsed, and malformed data is refused', () => {
    assert.deepEqual(parseUsageTask(row(JSON.stringify(task))), task);
    assert.throws(() => parseUsageTask(row(JSON.stringify({ type: USAGE_TASK_TYPE, increments: [{ hourStart: 0, recordType: 'actions', amount: -1 }] }))), InvariantViolationError);
  });
});
