import type { Clock, Logger } from '@hourglass/common';
import type { HistoryConfig } from './config';
import type { NamespaceRegistry } from './namespace-registry';
import type { ExecutionNotifier } from './notifier';
import type { ShardContext } from './shard/shard-context';

/** Requests history makes of matching (the matching engine, in process or behind internal gRPC). */
export interface MatchingClient {
  addWorkflowTask(request: {
    namespaceId: string;
    taskQueueName: string;
    kind: 'normal' | 'sticky';
    workflowId: string;
    runId: string;
    scheduledEventId: number;
  }): Promise<void>;
  addActivityTask(request: {
    namespaceId: string;
    taskQueueName: string;
    workflowId: string;
    runId: string;
    scheduledEventId: number;
    attempt: number;
  }): Promise<void>;
}

/** What every API handler and task executor works with. */
export interface EngineContext {
  readonly config: HistoryConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly namespaces: NamespaceRegistry;
  readonly matching: MatchingClient;
  readonly notifier: ExecutionNotifier;
  shardFor(namespaceId: string, workflowId: string): ShardContext;
}
