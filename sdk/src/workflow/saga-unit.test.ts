/** The Saga outside a workflow: ordering and error semantics on plain async functions. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { Saga, SagaCompensationError } from '.';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Saga', () => {
  test('compensates in reverse order with the arguments given, and only once', async () => {
    const ran: string[] = [];
    const saga = new Saga();
    saga.addCompensation((a: string) => ran.push(a), 'first');
    saga.addCompensation(async (a: string, b: number) => void ran.push(`${a}${b}`), 'second', 2);
    saga.addCompensation(() => void ran.push('third'));
    assert.equal(saga.size, 3);
    await saga.compensate();
    assert.deepEqual(ran, ['third', 'second2', 'first']);
    assert.equal(saga.size, 0);
    await saga.compensate();
    assert.deepEqual(ran, ['third', 'second2', 'first']);
  });

  test('a failing compensation is rethrown as is and stops the rest (also when it throws synchronously)', async () => {
    const ran: string[] = [];
    const saga = new Saga();
    const boom = new Error('boom');
    saga.addCompensation(() => void ran.push('a'));
    saga.addCompensation(() => {
      throw boom;
    });
    saga.addCompensation(() => void ran.push('c'));
    await assert.rejects(saga.compensate(), (err) => err === boom);
    assert.deepEqual(ran, ['c']);
  });

  test('continueOnError runs everything and throws one SagaCompensationError (an ApplicationFailure)', async () => {
    const ran: string[] = [];
    const saga = new Saga({ continueOnError: true });
    saga.addCompensation(() => void ran.push('a'));
    saga.addCompensation(async () => {
      ran.push('b');
      throw new Error('b failed');
    });
    saga.addCompensation(async () => {
      ran.push('c');
      throw new Error('c failed');
    });
    const err = await saga.compensate().then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.deepEqual(ran, ['c', 'b', 'a']);
    assert.ok(err instanceof SagaCompensationError);
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'SagaCompensationError');
    assert.equal(err.nonRetryable, true);
    assert.equal(err.message, '2 of 3 compensations failed: c failed; b failed');
    assert.deepEqual(err.details, ['c failed', 'b failed']);
    assert.deepEqual(err.errors.map((e) => (e as Error).message), ['c failed', 'b failed']);
    assert.equal((err.cause as Error).message, 'c failed');
    assert.ok(!(ApplicationFailure.create({ message: 'x' }) instanceof SagaCompensationError));
  });

  test('parallelCompensation starts every compensation before any finishes', async () => {
    const events: string[] = [];
    const saga = new Saga({ parallelCompensation: true });
    for (const name of ['a', 'b', 'c']) {
      saga.addCompensation(async (n: string) => {
        events.push(`start ${n}`);
        await tick(10);
        events.push(`end ${n}`);
      }, name);
    }
    await saga.compensate();
    assert.deepEqual(events.slice(0, 3), ['start c', 'start b', 'start a']);
    assert.equal(events.length, 6);
  });

  test('parallel without continueOnError: all run, the first failure (in compensation order) is rethrown', async () => {
    const ran: string[] = [];
    const saga = new Saga({ parallelCompensation: true });
    saga.addCompensation(async () => {
      ran.push('a');
      throw new Error('a failed');
    });
    saga.addCompensation(async () => {
      await tick(5);
      ran.push('b');
      throw new Error('b failed');
    });
    saga.addCompensation(async () => void ran.push('c'));
    await assert.rejects(saga.compensate(), /^Error: b failed$/);
    assert.deepEqual(ran.sort(), ['a', 'b', 'c']);
  });

  test('parallel with continueOnError aggregates every failure', async () => {
    const saga = new Saga({ parallelCompensation: true, continueOnError: true });
    saga.addCompensation(async () => {
      throw new Error('a failed');
    });
    saga.addCompensation(async () => undefined);
    saga.addCompensation(async () => {
      throw new Error('c failed');
    });
    await assert.rejects(saga.compensate(), (err) => err instanceof SagaCompensationError && err.message === '2 of 3 compensations failed: c failed; a failed');
  });
});
