/**
 * Events buffered behind a running workflow task (a signal storm) are flushed at its completion:
 * those this process buffered are flushed from what it built (no base64 or protobuf decoding, the
 * event id spliced into the encoding instead of encoding again); a state read back from the store
 * flushes from the stored encoding, to the same history.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { EventType, int64, msToTimestamp, temporal, toNumber, type HistoryEvent } from '@hourglass/common';
import { createTestEngine, startTimer, typeNames, type TestEngine } from '../testing/engine-fixture';
import { eventBlob } from './codec';
import { encodeEvent, withEventId } from './events';

const engines: TestEngine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

function eventOfType(type: number): HistoryEvent {
  const name = EventType[type] as string;
  const key = name
    .slice('EVENT_TYPE_'.length)
    .toLowerCase()
    .replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())
    .concat('EventAttributes');
  return { eventId: int64(0), eventTime: msToTimestamp(Date.UTC(2026, 0, 1)), eventType: type, [key]: {} } as HistoryEvent;
}

describe('withEventId', () => {
  const ids = [1, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 40 + 3];

  it('gives the encoding of the event with its id, for every event type', () => {
    const types = Object.values(EventType).filter((v): v is number => typeof v === 'number' && v !== EventType.EVENT_TYPE_UNSPECIFIED);
    assert.ok(types.length > 40, `event types: ${types.length}`);
    for (const type of types) {
      const event = eventOfType(type);
      const unassigned = encodeEvent(event);
      for (const id of ids) {
        const spliced = withEventId(unassigned, id);
        assert.ok(spliced, `${EventType[type]}: an id-0 encoding is recognised`);
        assert.deepEqual(Buffer.from(spliced), Buffer.from(encodeEvent({ ...event, eventId: int64(id) })), `${EventType[type]} id ${id}`);
      }
    }
  });

  it('keeps payloads, headers and metadata byte for byte', () => {
    const signal: HistoryEvent = {
      eventId: int64(0),
      eventTime: msToTimestamp(Date.UTC(2026, 0, 1, 12)),
      eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      workflowExecutionSignaledEventAttributes: {
        signalName: 'ping',
        input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"n":1}') }] },
        header: { fields: { trace: { data: Buffer.from('abc') } } },
        identity: 'worker-1',
      },
      userMetadata: { summary: { data: Buffer.from('"summary"') } },
    };
    const spliced = withEventId(encodeEvent(signal), 4242) as Uint8Array;
    const decoded = temporal.api.history.v1.HistoryEvent.decode(spliced);
    assert.equal(toNumber(decoded.eventId), 4242);
    assert.equal(Buffer.from(decoded.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data ?? []).toString(), '{"n":1}');
    assert.deepEqual(Buffer.from(spliced), Buffer.from(encodeEvent({ ...signal, eventId: int64(4242) })));
  });

  it('refuses what is not an encoding with event id 0, and ids that are not positive integers', () => {
    const withId = encodeEvent({ ...eventOfType(EventType.EVENT_TYPE_TIMER_FIRED), eventId: int64(7) });
    assert.equal(withEventId(withId, 8), undefined);
    assert.equal(withEventId(encodeEvent(eventOfType(EventType.EVENT_TYPE_TIMER_FIRED)), 0), undefined);
    assert.equal(withEventId(encodeEvent(eventOfType(EventType.EVENT_TYPE_TIMER_FIRED)), 1.5), undefined);
  });

  it('also takes an encoding that writes the zero id (tag and a zero varint)', () => {
    const event = eventOfType(EventType.EVENT_TYPE_TIMER_FIRED);
    const zeroWritten = Buffer.concat([Buffer.from([0x08, 0x00]), encodeEvent(event)]);
    assert.deepEqual(Buffer.from(withEventId(zeroWritten, 300) as Uint8Array), Buffer.from(encodeEvent({ ...event, eventId: int64(300) })));
  });
});

/** Counts stored-event decodes (base64 → HistoryEvent) while `fn` runs. */
async function countingUnpacks(fn: () => Promise<void>): Promise<number> {
  const original = eventBlob.unpack;
  let count = 0;
  eventBlob.unpack = (blob) => {
    count += 1;
    return original(blob);
  };
  try {
    await fn();
  } finally {
    eventBlob.unpack = original;
  }
  return count;
}

const SIGNALS = 30;

/** A run whose first workflow task is in flight while SIGNALS signals arrive, then completes: its history, and the decodes the completion made. */
async function signalStormBehindATask(engine: TestEngine): Promise<{ events: HistoryEvent[]; unpacks: number }> {
  const runId = await engine.start('wf-storm');
  const { token } = await engine.startWorkflowTask('wf-storm', runId);
  for (let i = 0; i < SIGNALS; i++) {
    await engine.engine.signalWorkflowExecution({
      namespaceId: engine.namespace.id,
      request: {
        namespace: engine.namespace.name,
        workflowExecution: { workflowId: 'wf-storm' },
        signalName: 'ping',
        input: { payloads: [{ data: Buffer.from(JSON.stringify({ i })) }] },
        identity: 'test',
        requestId: `sig-${i}`,
      },
    });
  }
  assert.equal(typeNames(await engine.history('wf-storm', runId)).at(-1), 'WORKFLOW_TASK_STARTED', 'the signals wait in the buffer');
  // Another run of the same shard: with a cache of one run, it takes wf-storm's place.
  const shard = (workflowId: string) => engine.engine.shardFor(engine.namespace.id, workflowId).shardId;
  let other = 0;
  while (shard(`wf-other-${other}`) !== shard('wf-storm')) other += 1;
  await engine.start(`wf-other-${other}`);
  const unpacks = await countingUnpacks(async () => {
    await engine.complete(token, [startTimer('t1', 60_000)]);
  });
  return { events: await engine.history('wf-storm', runId), unpacks };
}

function signalInputs(events: HistoryEvent[]): { id: number; input: string }[] {
  return events
    .filter((e) => e.workflowExecutionSignaledEventAttributes)
    .map((e) => ({ id: toNumber(e.eventId), input: Buffer.from(e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data ?? []).toString() }));
}

describe('flushing buffered events', () => {
  it('events this process buffered are flushed without decoding them again', async () => {
    const engine = await createTestEngine();
    engines.push(engine);
    const { events, unpacks } = await signalStormBehindATask(engine);
    assert.equal(unpacks, 0, 'no stored event was decoded');
    const signals = signalInputs(events);
    assert.equal(signals.length, SIGNALS);
    // WorkflowTaskCompleted (4) and TimerStarted (5) come first, then the signals in arrival order.
    assert.deepEqual(signals, Array.from({ length: SIGNALS }, (_, i) => ({ id: 6 + i, input: JSON.stringify({ i }) })));
  });

  it('a state read back from the store flushes from the stored events, to the same history', async () => {
    const cached = await createTestEngine();
    engines.push(cached);
    // A cache of one run per shard: the storm's run is read back from the store to complete its task.
    const uncached = await createTestEngine({ settings: { 'history.cacheMaxSize': [{ value: 1 }] } });
    engines.push(uncached);
    const fromMemory = await signalStormBehindATask(cached);
    const fromStore = await signalStormBehindATask(uncached);
    assert.equal(fromStore.unpacks, SIGNALS, 'each stored event decoded once');
    assert.deepEqual(typeNames(fromStore.events), typeNames(fromMemory.events));
    assert.deepEqual(signalInputs(fromStore.events), signalInputs(fromMemory.events));
    const encoded = (events: HistoryEvent[]) => events.slice(4).map((e) => Buffer.from(encodeEvent(e)).toString('hex'));
    assert.deepEqual(encoded(fromStore.events), encoded(fromMemory.events), 'every event after the first task starts is identical');
  });
});
