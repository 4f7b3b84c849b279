/**
 * Composition root of `hourglass start-dev`: every service in one process on the embedded SQLite
 * store, wired in process (history ⇄ matching), serving gRPC.
 */
import { DEFAULT_SETTINGS, SystemClock, TimeSkippingClock, type Clock, type Logger, type Settings } from '@hourglass/common';
import { DEFAULT_FRONTEND_CONFIG, createFrontend, validateNamespaceName } from '@hourglass/frontend';
import { HistoryEngine, NamespaceRegistry } from '@hourglass/history';
import { MatchingEngine } from '@hourglass/matching';
import type { Persistence } from '@hourglass/persistence';
import type { DevServerConfig } from './config';
import { openConfiguredPersistence } from './persistence';
import { historyConfigFrom } from './service-configs';
import { SERVER_VERSION } from './version';

export interface RunningServer {
  port: number;
  address: string;
  /** Present when started with time skipping. */
  timeSkippingClock?: TimeSkippingClock;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  config: DevServerConfig;
  /** Tunables and limits, with the config file's overrides (defaults when absent). */
  settings?: Settings;
  logger: Logger;
  clock?: Clock;
  /**
   * Time skipping (test environments): the clock jumps to the next timer whenever no work is in
   * progress, and the TestService is served. `locked` starts with skipping held off (as Temporal's
   * test server does), for clients that unlock it around waits.
   */
  timeSkipping?: { locked: boolean };
}

/** Far enough that every timer is held in memory, so the skipping clock knows the next one. */
const SKIPPING_TIMER_LOOKAHEAD_MS = 100 * 365 * 86_400_000;

export async function startDevServer({ config, settings = DEFAULT_SETTINGS, logger, clock: givenClock, timeSkipping }: DevServerOptions): Promise<RunningServer> {
  for (const name of config.namespaces) validateNamespaceName(name, '--namespace');
  const skippingClock = timeSkipping ? new TimeSkippingClock() : undefined;
  const clock = skippingClock ?? givenClock ?? new SystemClock();
  const persistence: Persistence = await openConfiguredPersistence(config, clock);
  try {
    const cluster = await persistence.cluster.getOrInitClusterMetadata({ clusterName: 'active', numHistoryShards: config.numHistoryShards, createdAt: clock.now() });
    if (cluster.numHistoryShards !== config.numHistoryShards) {
      throw new Error(
        `this store was created with ${cluster.numHistoryShards} history shards and that cannot change; start with --num-history-shards ${cluster.numHistoryShards}`,
      );
    }
    const namespaces = new NamespaceRegistry(persistence.namespaces, clock);
    // Matching times polls against callers' wall-clock deadlines: it always runs on the system clock.
    const matching = new MatchingEngine(persistence.taskQueues, new SystemClock(), settings, logger.child({ service: 'matching' }));
    const history = new HistoryEngine({
      persistence,
      namespaces,
      matching,
      clock,
      settings,
      config: {
        ...historyConfigFrom(settings),
        numHistoryShards: cluster.numHistoryShards,
        hostIdentity: `dev-${process.pid}`,
        ...(skippingClock ? { timerLookaheadMs: SKIPPING_TIMER_LOOKAHEAD_MS } : {}),
      },
      logger: logger.child({ service: 'history' }),
    });
    matching.setTaskStarter(history);
    if (skippingClock) {
      if (timeSkipping?.locked) skippingClock.lock();
      skippingClock.setIdleProbe(() => history.workTracker.isIdle());
      history.workTracker.onIdle(() => skippingClock.poke());
    }
    await history.start();
    await matching.start();
    const retentionMs = config.retentionHours * 3600_000;
    for (const name of ['default', ...config.namespaces]) await namespaces.ensure({ name, retentionMs, description: 'created by start-dev' });

    const frontend = createFrontend({
      config: { ...DEFAULT_FRONTEND_CONFIG, host: config.ip, port: config.port, serverVersion: SERVER_VERSION },
      logger: logger.child({ service: 'frontend' }),
      history,
      matching,
      namespaces,
      settings,
      ...(skippingClock ? { timeSkippingClock: skippingClock } : {}),
    });
    const port = await frontend.start();
    let stopping: Promise<void> | undefined;
    return {
      port,
      address: `${config.ip}:${port}`,
      ...(skippingClock ? { timeSkippingClock: skippingClock } : {}),
      stop: () => {
        stopping ??= (async () => {
          await frontend.stop();
          matching.stop();
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
