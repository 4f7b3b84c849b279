import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessVisibilityBus } from './bus';
import type { VisibilityChange } from './record';

const change = (i: number): VisibilityChange => ({ kind: 'delete', deletion: { namespaceId: 'ns', workflowId: `wf-${i}`, runId: `run-${i}`, version: i }, committedAt: i });

describe('the in-process visibility bus', () => {
  it('hands publishes made while the consumer is busy over together, in order, each resolving after its batch', async () => {
    const bus = new InProcessVisibilityBus();
    const calls: number[][] = [];
    let release: () => void = () => undefined;
    let first = true;
    bus.subscribe(async (changes) => {
      calls.push(changes.map((c) => (c.kind === 'delete' ? c.deletion.version : -1)));
      if (first) {
        first = false;
        await new Promise<void>((resolve) => (release = resolve));
      }
    });
    await bus.start();
    const p0 = bus.publish([change(0)]);
    const rest = [1, 2, 3].map((i) => bus.publish([change(i)]));
    release();
    await Promise.all([p0, ...rest]);
    assert.deepEqual(calls, [[0], [1, 2, 3]]);
  });

  it('a consumer failure rejects the publishes of its batch only', async () => {
    const bus = new InProcessVisibilityBus();
    let fail = true;
    bus.subscribe(async () => {
      if (fail) {
        fail = false;
        throw new Error('index down');
      }
    });
    await bus.start();
    await assert.rejects(bus.publish([change(1)]), /index down/);
    await bus.publish([change(2)]);
    await bus.stop();
    await assert.rejects(bus.publish([change(3)]), /stopped/);
  });
});
