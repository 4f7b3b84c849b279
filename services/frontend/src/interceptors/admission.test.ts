import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CancelledError } from '@hourglass/common';
import { WORKFLOW_SERVICE, methodSpec, type MethodSpec } from '../method-table';
import { FairAdmission, isAdmitted, type Release } from './admission';

const signal = (): { signal: AbortSignal } => new AbortController();

/** Enters, records the order in which calls are admitted, and leaves at once. */
function enterAll(admission: FairAdmission, calls: Array<[namespace: string, priority: number, label: string]>, order: string[]): Array<Promise<void>> {
  return calls.map(async ([namespace, priority, label]) => {
    const release = await admission.enter(namespace, priority, signal());
    order.push(label);
    release();
  });
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function spec(method: string): MethodSpec {
  const row = methodSpec(WORKFLOW_SERVICE, method);
  assert.ok(row);
  return row;
}

describe('fair admission', () => {
  it('admits up to the limit at once, and the next call when a place frees', async () => {
    const admission = new FairAdmission(() => 2);
    const a = admission.enter('ns', 1, signal());
    const b = admission.enter('ns', 1, signal());
    assert.equal(typeof a, 'function', 'admitted at once');
    assert.equal(typeof b, 'function');
    let thirdIn = false;
    const third = Promise.resolve(admission.enter('ns', 1, signal())).then((release) => {
      thirdIn = true;
      return release;
    });
    await settle();
    assert.equal(thirdIn, false, 'the third waits');
    assert.equal(admission.waiting, 1);
    (a as Release)();
    (a as Release)(); // idempotent: frees one place, not two
    (await third)();
    assert.equal(thirdIn, true);
    (b as Release)();
    assert.equal(admission.admitted, 0);
  });

  it('serves namespaces in turn: a call of a quiet namespace passes a flood queued before it', async () => {
    const admission = new FairAdmission(() => 1);
    const holder = admission.enter('noisy', 1, signal()) as Release;
    const order: string[] = [];
    const flood = enterAll(admission, Array.from({ length: 50 }, (_, i): [string, number, string] => ['noisy', 1, `noisy-${i}`]), order);
    const quiet = enterAll(admission, [['quiet', 1, 'quiet']], order);
    holder();
    await Promise.all([...flood, ...quiet]);
    // One place: the first noisy waiter takes the first turn, the quiet namespace the next.
    assert.deepEqual(order.slice(0, 2), ['noisy-0', 'quiet']);
    assert.equal(order.length, 51);
  });

  it('admits the most urgent call of a namespace first (worker progress before new starts)', async () => {
    const admission = new FairAdmission(() => 1);
    const holder = admission.enter('ns', 1, signal()) as Release;
    const order: string[] = [];
    const calls = enterAll(admission, [['ns', 3, 'describe'], ['ns', 2, 'terminate'], ['ns', 1, 'complete']], order);
    holder();
    await Promise.all(calls);
    assert.deepEqual(order, ['complete', 'terminate', 'describe']);
  });

  it('a caller that gives up while waiting is refused and leaves the queue', async () => {
    const admission = new FairAdmission(() => 1);
    const holder = admission.enter('ns', 1, signal()) as Release;
    const controller = new AbortController();
    const waiting = admission.enter('ns', 1, controller);
    controller.abort();
    await assert.rejects(Promise.resolve(waiting), CancelledError);
    assert.equal(admission.waiting, 0);
    holder();
    assert.equal(admission.admitted, 0, 'the abandoned call never took the freed place');
    const aborted = new AbortController();
    aborted.abort();
    const full = admission.enter('ns', 1, signal()) as Release;
    await assert.rejects(Promise.resolve(admission.enter('ns', 1, aborted)), CancelledError);
    full();
  });

  it('admits short calls only: polls and calls that wait on a worker are never held', () => {
    assert.equal(isAdmitted(spec('StartWorkflowExecution'), {}), true);
    assert.equal(isAdmitted(spec('RespondWorkflowTaskCompleted'), {}), true);
    assert.equal(isAdmitted(spec('PollWorkflowTaskQueue'), {}), false);
    assert.equal(isAdmitted(spec('QueryWorkflow'), {}), false);
    assert.equal(isAdmitted(spec('UpdateWorkflowExecution'), {}), false);
    assert.equal(isAdmitted(spec('GetWorkflowExecutionHistory'), { waitNewEvent: true }), false);
    assert.equal(isAdmitted(spec('GetWorkflowExecutionHistory'), { waitNewEvent: false }), true);
  });
});
