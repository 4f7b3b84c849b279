/**
 * The visibility bus on Kafka (kafkajs). History's visibility executors publish through an
 * idempotent producer (acks from all in-sync replicas, one request in flight, so a retried send
 * never duplicates or reorders within a partition); the indexer consumes in a consumer group and
 * commits a partition's offset only after the batch is written to the index, so a crash replays
 * the batch (the index's versions make the replay harmless).
 */
import type { Consumer, Kafka, LogEntry, Producer } from 'kafkajs';
import { UnavailableError, type Logger } from '@hourglass/common';
import type { VisibilityBus, VisibilityConsumer } from '../bus';
import type { VisibilityChange } from '../record';
import { decodeVisibilityMessage, encodeVisibilityMessage } from './message';

export interface KafkaBusOptions {
  /** host:port of one or more brokers (KAFKA_BROKERS). */
  brokers: string[];
  /** Default `hourglass-visibility`. */
  topic?: string;
  /** Consumer group of the indexers; default `hourglass-visibility-indexer`. */
  groupId?: string;
  clientId?: string;
  /** How long connecting may take before start() fails, ms (default 10 s). */
  connectionTimeoutMs?: number;
  logger: Logger;
}

export const DEFAULT_VISIBILITY_TOPIC = 'hourglass-visibility';
export const DEFAULT_VISIBILITY_GROUP = 'hourglass-visibility-indexer';

export class KafkaVisibilityBus implements VisibilityBus {
  readonly topic: string;
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private consumer: Consumer | undefined;
  private handler: VisibilityConsumer | undefined;
  private started = false;

  constructor(private readonly options: KafkaBusOptions) {
    if (options.brokers.length === 0) throw new UnavailableError('the Kafka visibility bus needs at least one broker (KAFKA_BROKERS)');
    this.topic = options.topic ?? DEFAULT_VISIBILITY_TOPIC;
    // Loaded here, when a Kafka bus is made, not in every process that never uses one.
    const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'hourglass',
      brokers: options.brokers,
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      logLevel: logLevel.WARN,
      // kafkajs's own lines go to the server's logger (JSON on stderr), not to stdout.
      logCreator: () => (entry: LogEntry) => {
        const { message, ...fields } = entry.log;
        const line = { ...fields, kafkaLogger: entry.namespace };
        if (entry.level <= logLevel.ERROR) options.logger.error(line, `kafka: ${message}`);
        else options.logger.warn(line, `kafka: ${message}`);
      },
      retry: { retries: 5 },
    });
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  subscribe(consumer: VisibilityConsumer): void {
    this.handler = consumer;
  }

  /** Connects the producer (and the consumer group when subscribed); a clear error when the brokers do not answer. */
  async start(): Promise<void> {
    const where = `Kafka at ${this.options.brokers.join(',')}`;
    try {
      await this.producer.connect();
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const topics = await admin.listTopics();
        if (!topics.includes(this.topic)) await admin.createTopics({ topics: [{ topic: this.topic, numPartitions: 16 }], waitForLeaders: true });
      } finally {
        await admin.disconnect();
      }
      if (this.handler) await this.startConsumer(this.handler);
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw new UnavailableError(`${where} is unreachable or refused the visibility topic ${this.topic}: ${(err as Error).message}`, undefined, { cause: err });
    }
    this.started = true;
  }

  async publish(changes: readonly VisibilityChange[]): Promise<void> {
    if (!this.started) throw new UnavailableError('the Kafka visibility bus is not started');
    const messages = changes.map(encodeVisibilityMessage);
    await this.producer.send({ topic: this.topic, acks: -1, messages });
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.consumer?.disconnect();
    await this.producer.disconnect();
  }

  private async startConsumer(handler: VisibilityConsumer): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.options.groupId ?? DEFAULT_VISIBILITY_GROUP });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const changes: VisibilityChange[] = [];
        for (const message of batch.messages) {
          try {
            changes.push(decodeVisibilityMessage(message.value));
          } catch (err) {
            // A message this build cannot read would block its partition forever: skip it, loudly.
            this.options.logger.error({ err, partition: batch.partition, offset: message.offset }, 'unreadable visibility message skipped');
          }
        }
        // A rejection leaves the offsets uncommitted: kafkajs retries the batch.
        if (changes.length > 0) await handler(changes);
        const last = batch.lastOffset();
        resolveOffset(last);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
        await heartbeat();
      },
    });
  }
}
