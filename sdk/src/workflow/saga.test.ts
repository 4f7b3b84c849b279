/** The Saga against the embedded server: compensations of real activities in real workflows. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { isApplicationFailure, isCancellation, rootCause } from '../errors';
import { rejectionOf, uniqueName, useServer } from '../test-support';
import type { TestActivities } from '../test-support/activities';
import { cancellableSaga, sagaWorkflow, stepsDoneQuery, type SagaInput } from '../test-support/workflows';

interface Span {
  step: string;
  start: number;
  end: number;
}

/** Step activities that log every call: `failing-*` steps fail, `fragile-*` undos fail, undos take `undoMs`. */
function stepActivities(log: string[], spans: Span[] = [], undoMs = 0): Partial<TestActivities> {
  return {
    doStep: async (name: string) => {
      log.push(`do ${name}`);
      if (name.startsWith('failing-')) throw ApplicationFailure.nonRetryable(`step ${name} failed`, 'StepFailed');
      return `${name} done`;
    },
    undoStep: async (name: string) => {
      const start = performance.now();
      log.push(`undo ${name}`);
      if (undoMs > 0) await new Promise((resolve) => setTimeout(resolve, undoMs));
      spans.push({ step: name, start, end: performance.now() });
      if (name.startsWith('fragile-')) throw ApplicationFailure.nonRetryable(`undo of ${name} failed`, 'UndoFailed');
    },
  };
}

describe('Saga in workflows', () => {
  const file = useServer();

  async function runSaga(input: SagaInput, activities: Partial<TestActivities>): Promise<unknown> {
    const taskQueue = uniqueName('saga');
    const worker = await file.createWorker({ taskQueue, workflowBundle: file.workflowBundle, activities });
    return worker.runUntil(rejectionOf(file.hg.client.workflow.execute(sagaWorkflow, { taskQueue, workflowId: uniqueName('saga'), args: [input] })));
  }

  test('all steps succeed: nothing is compensated', async () => {
    const log: string[] = [];
    const taskQueue = uniqueName('saga');
    const worker = await file.createWorker({ taskQueue, workflowBundle: file.workflowBundle, activities: stepActivities(log) });
    const result = await worker.runUntil(file.hg.client.workflow.execute(sagaWorkflow, { taskQueue, workflowId: uniqueName('saga'), args: [{ steps: ['reserve', 'charge', 'ship'] }] }));
    assert.deepEqual(result, ['reserve done', 'charge done', 'ship done']);
    assert.deepEqual(log, ['do reserve', 'do charge', 'do ship']);
  });

  test('the third step fails: the first two are compensated in reverse order, then the workflow fails with the step failure', async () => {
    const log: string[] = [];
    const err = await runSaga({ steps: ['reserve', 'charge', 'failing-ship'] }, stepActivities(log));
    assert.deepEqual(log, ['do reserve', 'do charge', 'do failing-ship', 'undo charge', 'undo reserve']);
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(err.cause instanceof ActivityFailure);
    assert.ok(isApplicationFailure(err, 'StepFailed'));
    assert.equal((rootCause(err) as Error).message, 'step failing-ship failed');
  });

  test('parallel compensation: every compensation runs, at the same time', async () => {
    const log: string[] = [];
    const spans: Span[] = [];
    const err = await runSaga({ steps: ['a', 'b', 'c', 'failing-d'], parallelCompensation: true }, stepActivities(log, spans, 300));
    assert.ok(isApplicationFailure(err, 'StepFailed'));
    assert.deepEqual(spans.map((s) => s.step).sort(), ['a', 'b', 'c']);
    const lastStart = Math.max(...spans.map((s) => s.start));
    const firstEnd = Math.min(...spans.map((s) => s.end));
    assert.ok(lastStart < firstEnd, `compensations did not overlap: ${JSON.stringify(spans)}`);
  });

  test('continueOnError: every compensation runs despite failures, then one aggregated failure', async () => {
    const log: string[] = [];
    const err = await runSaga({ steps: ['a', 'fragile-b', 'fragile-c', 'failing-d'], continueOnError: true }, stepActivities(log));
    assert.deepEqual(log.filter((l) => l.startsWith('undo')), ['undo fragile-c', 'undo fragile-b', 'undo a']);
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, 'SagaCompensationError');
    assert.match(err.cause.message, /^2 of 3 compensations failed: .*undo of fragile-c failed.*; .*undo of fragile-b failed/);
    assert.equal(err.cause.details?.length, 2);
    assert.ok(isApplicationFailure(err, 'UndoFailed'), 'the first compensation failure is the cause');
  });

  test('without continueOnError the first failing compensation stops the rest', async () => {
    const log: string[] = [];
    const err = await runSaga({ steps: ['a', 'fragile-b', 'failing-c'] }, stepActivities(log));
    assert.deepEqual(log, ['do a', 'do fragile-b', 'do failing-c', 'undo fragile-b']);
    assert.ok(isApplicationFailure(err, 'UndoFailed'));
    assert.ok(!isApplicationFailure(err, 'StepFailed'));
  });

  test('a cancelled workflow still compensates (compensations run in a non-cancellable scope)', async () => {
    const log: string[] = [];
    const taskQueue = uniqueName('saga-cancel');
    const worker = await file.createWorker({ taskQueue, workflowBundle: file.workflowBundle, activities: stepActivities(log) });
    const err = await worker.runUntil(async () => {
      const handle = await file.hg.client.workflow.start(cancellableSaga, { taskQueue, workflowId: uniqueName('saga-cancel'), args: [['x', 'y']] });
      const deadline = Date.now() + 5_000;
      while ((await handle.query(stepsDoneQuery)) < 2) {
        if (Date.now() > deadline) throw new Error('the steps did not finish in 5 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await handle.cancel();
      return rejectionOf(handle.result());
    });
    assert.ok(isCancellation(err));
    assert.deepEqual(log, ['do x', 'do y', 'undo y', 'undo x']);
  });
});
