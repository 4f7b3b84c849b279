/**
 * Against a real Kafka when KAFKA_BROKERS is set (host:port,...); skipped loudly otherwise (no
 * broker can run on the development machines). Publishes through the idempotent producer and
 * checks the consumer group delivers every change, in order per workflow.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { silentLogger } from '@hourglass/common';
import type { VisibilityChange } from '../record';
import { KafkaVisibilityBus } from './kafka-bus';

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);

if (brokers.length === 0) {
  describe('kafka visibility bus', () => {
    it('runs against a real Kafka', { skip: 'KAFKA_BROKERS is not set: NOT TESTED against Kafka (set it, e.g. 127.0.0.1:9092, to run)' }, () => undefined);
  });
  process.stderr.write('\n#### kafka visibility bus: SKIPPED, KAFKA_BROKERS is not set ####\n\n');
} else {
  describe('kafka visibility bus', () => {
    it('delivers every published change to the consumer group, in order per workflow', async () => {
      const id = randomUUID();
      const bus = new KafkaVisibilityBus({ brokers, topic: `hourglass-test-${id}`, groupId: `hourglass-test-${id}`, logger: silentLogger() });
      const received: VisibilityChange[] = [];
      bus.subscribe(async (changes) => void received.push(...changes));
      await bus.start();
      try {
        const changes: VisibilityChange[] = Array.from({ length: 20 }, (_, i) => ({
          kind: 'delete',
          deletion: { namespaceId: 'ns', workflowId: `wf-${i % 3}`, runId: `run-${i}`, version: i },
          committedAt: i,
        }));
        await bus.publish(changes);
        const deadline = Date.now() + 30_000;
        while (received.length < changes.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
        assert.equal(received.length, changes.length);
        for (const wf of ['wf-0', 'wf-1', 'wf-2']) {
          const versions = received.filter((c) => c.kind === 'delete' && c.deletion.workflowId === wf).map((c) => (c.kind === 'delete' ? c.deletion.version : -1));
          assert.deepEqual(versions, [...versions].sort((a, b) => a - b));
        }
      } finally {
        await bus.stop();
      }
    });
  });
}
