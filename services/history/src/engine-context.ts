import type { Clock, Logger, Settings } from '@hourglass/common';
import type { CrossExecutionService, MatchingService } from '@hourglass/contracts';
import type { HistoryConfig } from './config';
import type { NamespaceRegistry } from './namespace-registry';
import type { ExecutionNotifier } from './notifier';
import type { QueryRegistry } from './query-registry';
import type { ShardContext } from './shard/shard-context';
import type { WorkerDeployments } from './worker-deployments/worker-deployments';

/** What every API handler and task executor works with. */
export interface EngineContext {
  readonly config: HistoryConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly namespaces: NamespaceRegistry;
  readonly matching: MatchingService;
  readonly settings: Settings;
  readonly notifier: ExecutionNotifier;
  readonly queries: QueryRegistry;
  /** Worker deployments: where a versioned task queue's tasks go. */
  readonly deployments: WorkerDeployments;
  shardFor(namespaceId: string, workflowId: string): ShardContext;
  /** The target side of transfer tasks that reach another execution: this engine in one process, the target shard's owner in a cluster. */
  readonly peers: CrossExecutionService;
}
