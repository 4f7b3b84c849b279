import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '@hourglass/common';
import { KafkaVisibilityBus } from './kafka-bus';

describe('the Kafka visibility bus, unreachable', () => {
  it('start() fails with one line naming the brokers; publish before start is refused', async () => {
    const bus = new KafkaVisibilityBus({ brokers: ['127.0.0.1:1'], connectionTimeoutMs: 200, logger: silentLogger() });
    await assert.rejects(bus.publish([]), /not started/);
    await assert.rejects(bus.start(), /Kafka at 127\.0\.0\.1:1 is unreachable/);
    assert.throws(() => new KafkaVisibilityBus({ brokers: [], logger: silentLogger() }), /at least one broker \(KAFKA_BROKERS\)/);
  });
});
