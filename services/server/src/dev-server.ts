/**
 * Composition root of `hourglass start-dev`: every service in one process on the embedded SQLite
 * store, wired in process (history ⇄ matching), serving gRPC.
 */
import { SystemClock, type Clock, type Logger } from '@hourglass/common';
import { DEFAULT_FRONTEND_CONFIG, FrontendServer, WorkflowService } from '@hourglass/frontend';
import { DEFAULT_HISTORY_CONFIG, HistoryEngine, NamespaceRegistry } from '@hourglass/history';
import { DEFAULT_MATCHING_CONFIG, MatchingEngine } from '@hourglass/matching';
import { openSqlitePersistence, type Persistence } from '@hourglass/persistence';
import type { DevServerConfig } from './config';

export interface RunningServer {
  port: number;
  address: string;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  config: DevServerConfig;
  logger: Logger;
  clock?: Clock;
}

export async function startDevServer({ config, logger, clock = new SystemClock() }: DevServerOptions): Promise<RunningServer> {
  const persistence: Persistence = openSqlitePersistence({ path: config.inMemory ? ':memory:' : config.dbFilename, clock });
  try {
    const cluster = await persistence.cluster.getOrInitClusterMetadata({ clusterName: 'active', numHistoryShards: config.numHistoryShards, createdAt: clock.now() });
    if (cluster.numHistoryShards !== config.numHistoryShards) {
      throw new Error(
        `this store was created with ${cluster.numHistoryShards} history shards and that cannot change; start with --num-history-shards ${cluster.numHistoryShards}`,
      );
    }
    const namespaces = new NamespaceRegistry(persistence.namespaces, clock);
    const matching = new MatchingEngine(persistence.taskQueues, clock, DEFAULT_MATCHING_CONFIG, logger.child({ service: 'matching' }));
    const history = new HistoryEngine({
      persistence,
      namespaces,
      matching,
      clock,
      config: { ...DEFAULT_HISTORY_CONFIG, numHistoryShards: cluster.numHistoryShards, hostIdentity: `dev-${process.pid}` },
      logger: logger.child({ service: 'history' }),
    });
    matching.setTaskStarter(history);
    await history.start();
    await matching.start();
    const retentionMs = config.retentionHours * 3600_000;
    for (const name of ['default', ...config.namespaces]) await namespaces.ensure({ name, retentionMs, description: 'created by start-dev' });

    const frontendConfig = { ...DEFAULT_FRONTEND_CONFIG, host: config.ip, port: config.port };
    const service = new WorkflowService({ config: frontendConfig, history, matching, namespaces, clock });
    const frontend = FrontendServer.forWorkflowService(frontendConfig, logger.child({ service: 'frontend' }), service.handlers());
    const port = await frontend.start();
    let stopping: Promise<void> | undefined;
    return {
      port,
      address: `${config.ip}:${port}`,
      stop: () => {
        stopping ??= (async () => {
          await frontend.stop();
          await history.stop();
          await persistence.close();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await persistence.close();
    throw err;
  }
}
