// One tenant's big workflows do not stop another's: while one workflow schedules 2,000 activities
// in one workflow task and another takes 10,000 signals, a third namespace's workflows keep
// completing. (How fast they complete and how long the event loop stalls is measured by
// `make bench -- --mode neighbours`, never asserted here.)
import assert from 'node:assert/strict';
import { Client } from '@temporalio/client';
import { conformanceFile, heavyFile, uniqueName } from '../harness';
import { countSignals, echoWorkflow, fanOutActivities, tickSignal } from '../workflows';

const OTHER = 'neighbour';
const ACTIVITIES = 2000;
const SIGNALS = 10_000;

// Temporal's buffered-event limit (100) fails a running workflow task once more events wait behind
// it; with 200 activities and 100 signals in flight on a loaded 2-core machine that happens on nearly
// every task, each failure costs the worker a full replay, and the runs never catch up (the limit
// itself is covered by the history unit tests). This test is about isolation, so the limit is
// lifted for its server.
//
// The namespace's actions-per-second limit (500, Temporal Cloud's default) is off too: with it the
// 10,000 signals alone take 20 s of being refused and retried by the client, and what this test
// shows is that the third namespace is served while the server is busy with the other two, not the
// limiter (which has tests of its own).
const BUFFER_LIMIT_OFF = { 'history.maximumBufferedEventsBatch': [{ value: 1_000_000 }], 'frontend.namespaceAPS': [{ value: 0 }] };

heavyFile('noisy-neighbours');
const file = conformanceFile({
  name: 'noisy-neighbours',
  server: { extraArgs: ['-n', OTHER], settings: BUFFER_LIMIT_OFF },
  workerOptions: { maxConcurrentActivityTaskExecutions: 200 },
});

file.test(`a third namespace completes its workflows while one run schedules ${ACTIVITIES} activities and another takes ${SIGNALS} signals`, async (_t, env) => {
  const fanOut = env.client.workflow.start(fanOutActivities, { taskQueue: env.taskQueue, workflowId: uniqueName('fan-out'), args: [ACTIVITIES] });
  const counter = await env.client.workflow.start(countSignals, { taskQueue: env.taskQueue, workflowId: uniqueName('signals'), args: [SIGNALS] });
  const signalling = (async () => {
    for (let sent = 0; sent < SIGNALS; ) {
      const batch = Math.min(100, SIGNALS - sent);
      await Promise.all(Array.from({ length: batch }, () => counter.signal(tickSignal)));
      sent += batch;
    }
  })();
  await env.startExtraWorker({ namespace: OTHER });
  const other = new Client({ connection: env.connection, namespace: OTHER });
  const neighbour = (async () => {
    const results: string[] = [];
    for (let i = 0; i < 20; i++) {
      results.push(await other.workflow.execute(echoWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('neighbour'), args: [`n${i}`] }));
    }
    return results;
  })();
  const [neighbourResults, fanOutResult, , count] = await Promise.all([neighbour, (await fanOut).result(), signalling, counter.result()]);
  assert.equal(neighbourResults.length, 20);
  assert.equal(fanOutResult, ACTIVITIES);
  assert.equal(count, SIGNALS);
}, { timeoutMs: 240_000 });
