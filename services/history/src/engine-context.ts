import type { Clock, Logger, temporal } from '@hourglass/common';
import type { HistoryConfig } from './config';
import type { NamespaceRegistry } from './namespace-registry';
import type { ExecutionNotifier } from './notifier';
import type { QueryRegistry } from './query-registry';
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
  /** Hands a legacy query task to a poller; false when none took it within timeoutMs. */
  dispatchQueryTask(request: {
    namespaceId: string;
    taskQueueName: string;
    kind: 'normal' | 'sticky';
    timeoutMs: number;
    signal?: AbortSignal;
    build(pollKind: 'normal' | 'sticky'): Promise<temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse>;
  }): Promise<boolean>;
  isStickyQueueAvailable(namespaceId: string, stickyQueueName: string): boolean;
}

/** What every API handler and task executor works with. */
export interface EngineContext {
  readonly config: HistoryConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly namespaces: NamespaceRegistry;
  readonly matching: MatchingClient;
  readonly notifier: ExecutionNotifier;
  readonly queries: QueryRegistry;
  shardFor(namespaceId: string, workflowId: string): ShardContext;
}
