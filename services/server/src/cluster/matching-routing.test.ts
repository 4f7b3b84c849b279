import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MatchingService } from '@hourglass/contracts';
import { routingMatchingClient, taskQueueKey, workerRegistryKey } from './matching-routing';
import type { Placement } from './routing';

/** Matching hosts that record which got each call; a task queue's owner is fixed by the test. */
function placement(owners: Map<string, string>, calls: { address: string; method: string }[]): Placement<MatchingService> {
  return {
    ownerOf: (key) => Promise.resolve(owners.get(key) ?? 'default:1'),
    all: () => Promise.resolve([...new Set(owners.values())]),
    client: (address) =>
      new Proxy({} as MatchingService, {
        get: (_t, method: string) => () => {
          calls.push({ address, method });
          return Promise.resolve(null);
        },
      }),
  };
}

describe('routing matching calls to the owner of the task queue', () => {
  it("sends a queue's adds, polls and describes to its owner, and a namespace's worker registry to the namespace's", async () => {
    const owners = new Map([
      [taskQueueKey('ns', 'orders'), 'm1:1'],
      [taskQueueKey('ns', 'sticky-1'), 'm2:1'],
      [workerRegistryKey('ns'), 'm3:1'],
    ]);
    const calls: { address: string; method: string }[] = [];
    const client = routingMatchingClient(placement(owners, calls));
    await client.addActivityTask({ namespaceId: 'ns', taskQueueName: 'orders', workflowId: 'w', runId: 'r', scheduledEventId: 5, attempt: 1 });
    await client.pollWorkflowTaskQueue({ namespaceId: 'ns', namespaceName: 'n', taskQueueName: 'orders', kind: 'normal', identity: 'i' }, { deadline: 0 });
    await client.describeTaskQueue({ namespaceId: 'ns', taskQueueName: 'orders', type: 'workflow', kind: 'normal' });
    await client.shutdownStickyQueue({ namespaceId: 'ns', stickyQueueName: 'sticky-1' });
    await client.recordWorkerHeartbeat({ namespaceId: 'ns', heartbeats: [] });
    await client.countWorkers({ namespaceId: 'ns' });
    assert.deepEqual(calls, [
      { address: 'm1:1', method: 'addActivityTask' },
      { address: 'm1:1', method: 'pollWorkflowTaskQueue' },
      { address: 'm1:1', method: 'describeTaskQueue' },
      { address: 'm2:1', method: 'shutdownStickyQueue' },
      { address: 'm3:1', method: 'recordWorkerHeartbeat' },
      { address: 'm3:1', method: 'countWorkers' },
    ]);
  });
});
