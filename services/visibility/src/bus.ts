/**
 * The visibility bus: history's visibility task executor publishes changes, the indexer consumes
 * them. In-process for start-dev (publish hands the batch to the indexer and resolves once it is
 * stored, so the task is acknowledged only after the index has it); Kafka in production
 * (kafka/kafka-bus.ts: publish resolves once the brokers have the messages).
 */
import type { VisibilityChange } from './record';

export interface VisibilityPublisher {
  /** Resolves once the changes are durably handed over; rejects (and the task is retried) otherwise. */
  publish(changes: readonly VisibilityChange[]): Promise<void>;
}

export type VisibilityConsumer = (changes: readonly VisibilityChange[]) => Promise<void>;

export interface VisibilityBus extends VisibilityPublisher {
  /** One consumer (the indexer); its promise settles the delivery (a rejection redelivers). */
  subscribe(consumer: VisibilityConsumer): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Delivers every publish straight to the subscribed consumer, in the publisher's call. */
export class InProcessVisibilityBus implements VisibilityBus {
  private consumer: VisibilityConsumer | undefined;
  private stopped = false;

  subscribe(consumer: VisibilityConsumer): void {
    this.consumer = consumer;
  }

  async start(): Promise<void> {
    this.stopped = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  async publish(changes: readonly VisibilityChange[]): Promise<void> {
    if (this.stopped) throw new Error('the visibility bus is stopped');
    if (!this.consumer) throw new Error('the visibility bus has no consumer yet');
    await this.consumer(changes);
  }
}
