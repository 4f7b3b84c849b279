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

/**
 * Delivers publishes to the subscribed consumer in the publisher's call. Publishes that arrive
 * while the consumer is busy are handed over together in its next call (group commit: one index
 * write for many records under load), and each publish resolves once its own batch was consumed.
 */
export class InProcessVisibilityBus implements VisibilityBus {
  private consumer: VisibilityConsumer | undefined;
  private stopped = false;
  private busy = false;
  private waiting: { changes: readonly VisibilityChange[]; resolve: () => void; reject: (err: unknown) => void }[] = [];

  /** Most changes handed to the consumer in one call. */
  static readonly MAX_BATCH = 500;

  subscribe(consumer: VisibilityConsumer): void {
    this.consumer = consumer;
  }

  async start(): Promise<void> {
    this.stopped = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  publish(changes: readonly VisibilityChange[]): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('the visibility bus is stopped'));
    if (!this.consumer) return Promise.reject(new Error('the visibility bus has no consumer yet'));
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ changes, resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.waiting.length > 0) {
        const batch: typeof this.waiting = [];
        let size = 0;
        while (this.waiting.length > 0 && (batch.length === 0 || size + (this.waiting[0]?.changes.length ?? 0) <= InProcessVisibilityBus.MAX_BATCH)) {
          const next = this.waiting.shift() as (typeof this.waiting)[number];
          batch.push(next);
          size += next.changes.length;
        }
        try {
          await (this.consumer as VisibilityConsumer)(batch.flatMap((b) => b.changes));
          for (const b of batch) b.resolve();
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
