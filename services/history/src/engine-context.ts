import type { Clock, Logger, Settings } from '@hourglass/common';
import type { HistoryService, MatchingService } from '@hourglass/contracts';
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
  /**
   * The history service as seen from here, for work that reaches another execution (transfer
   * tasks' target side, schedules' actions, batch jobs' targets): this engine in one process, a
   * client routing each call to the owner of its shard in a cluster.
   */
  readonly peers: HistoryService;
}
