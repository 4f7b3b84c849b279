/**
 * Composition root of `hourglass start`: the roles this process runs (any subset of frontend,
 * history, matching, indexer), on the shared MySQL store, each reachable by the others over the
 * internal gRPC listener, and grpc.health.v1.Health there (and on the frontend's public port).
 *
 * Roles in the same process call each other in process; a role another process runs is reached
 * through `RemoteRoles` (the routing clients over internal gRPC). Visibility: without Kafka the
 * history role indexes its own records (in-process bus into the SQL or Elasticsearch index); with
 * Kafka history only publishes and the indexer role consumes. A frontend only searches.
 */
import { MatchingSettings, SystemClock, overlaySettings, type Logger, type ServerMetrics, type Settings } from '@hourglass/common';
import type { HistoryService, MatchingService } from '@hourglass/contracts';
import {
  ApiKeyCallAuthenticator,
  IDENTITY_AUTHORIZER,
  ListenError,
  createFrontend,
  effectiveNamespaceLimits,
  identityNamespacePolicy,
  validateNamespaceName,
  type FrontendIdentity,
  type FrontendServer,
} from '@hourglass/frontend';
import { DEFAULT_HISTORY_CONFIG, HistoryEngine, NamespaceRegistry } from '@hourglass/history';
import { ApiKeyAuthenticator, IdentityService } from '@hourglass/identity';
import { MatchingEngine, ServicePartitionRouter } from '@hourglass/matching';
import { HistoryClient, MatchingClient, addHistoryService, addMatchingService } from '@hourglass/rpc';
import { mysqlTraffic, type Persistence, type TaskQueueKey } from '@hourglass/persistence';
import { Billing, type BillingConfig } from '@hourglass/usage';
import { advertisedAddress, optionName, parseHostPort, type ServiceRole, type StartConfig } from '../config';
import { MetricsServer } from '../metrics-server';
import { registerMysqlTrafficMetrics } from '../service-metrics';
import { openConfiguredPersistence } from '../persistence';
import { resolveServerTls } from '../tls/server-tls';
import { frontendClusterInfo, frontendListeners } from '../frontend-config';
import { registerDevSearchAttributes, startVisibility, type RunningVisibility } from '../visibility';
import { routedClients, type InternalRpc, type RoutedClients } from './cluster-clients';
import { taskQueuePartitionKey } from './matching-routing';
import { ClusterMembership } from './cluster-membership';
import { InternalServer } from './internal-server';
import { stopInOrder, undoStarted, type StopStep } from '../stop-in-order';

export interface StartServerOptions {
  config: StartConfig;
  settings: Settings;
  logger: Logger;
  billing?: BillingConfig;
  metrics?: ServerMetrics;
  /** The internal gRPC transport (default: @hourglass/rpc); null: none, every role a process needs must run in it. */
  rpc?: InternalRpc | null;
  /** The process cannot go on (a shard taken over by another host without its knowledge): default logs and exits. */
  onFatal?: (reason: string) => void;
}

export interface RunningHost {
  roles: readonly ServiceRole[];
  /** `host:port` other hosts reach this one at. */
  internalAddress: string;
  internalPort: number;
  /** The frontend's public ports; undefined without the frontend role (tlsPort: without TLS too). */
  port: number | undefined;
  tlsPort: number | undefined;
  /**
   * Leaves the cluster: NOT_SERVING at once, stop accepting calls, let in-flight ones finish for up
   * to the drain timeout, stop the roles (history releases its shards), close the store.
   */
  stop(): Promise<void>;
}

/** @hourglass/rpc: the HistoryService and MatchingService contracts over internal gRPC. */
const GRPC_RPC: InternalRpc = {
  serveHistory: addHistoryService,
  serveMatching: addMatchingService,
  historyClient: (address) => new HistoryClient(address),
  matchingClient: (address) => new MatchingClient(address),
};

export async function startHost({ config, settings: given, logger, billing: billingConfig, metrics, rpc: givenRpc, onFatal }: StartServerOptions): Promise<RunningHost> {
  const { server: serverConfig, cluster: clusterConfig } = config;
  const roles = clusterConfig.services;
  const rpc = givenRpc === undefined ? GRPC_RPC : (givenRpc ?? undefined);
  const settings =
    clusterConfig.taskQueuePartitions === undefined ? given : overlaySettings(given, { [MatchingSettings.numTaskQueuePartitions.key]: [{ value: clusterConfig.taskQueuePartitions }] });
  const has = (role: ServiceRole): boolean => roles.includes(role);
  for (const name of serverConfig.namespaces) validateNamespaceName(name, '--namespace');
  const fatal =
    onFatal ??
    ((reason: string): void => {
      logger.fatal(reason);
      process.exit(1);
    });
  const clock = new SystemClock();
  const persistence: Persistence = await openConfiguredPersistence(serverConfig, clock);
  const undo: StopStep[] = [() => persistence.close()];
  try {
    const metadata = await persistence.cluster.getClusterMetadata();
    const internal = new InternalServer(roles);
    const listen = parseHostPort(clusterConfig.internalAddress);
    if (!listen) throw new Error(`invalid --internal-address ${clusterConfig.internalAddress}`);
    const internalPort = await internal.listen(listen.host, listen.port);
    undo.push(() => internal.stop(0));
    const self = advertisedAddress(clusterConfig, internalPort);
    // Heartbeats into the cluster database from now on: the history engine follows its view.
    const membership = new ClusterMembership({
      roles,
      hostId: self,
      address: self,
      registry: persistence.membership,
      clock,
      logger,
      heartbeatIntervalMs: clusterConfig.membershipHeartbeatMs,
      hostTtlMs: clusterConfig.membershipTtlMs,
    });
    await membership.start();
    undo.push(() => membership.leave());

    const needsOthers = (has('frontend') && !(has('history') && has('matching'))) || has('history') !== has('matching');
    if (needsOthers && !rpc) {
      throw new Error(`--services ${roles.join(',')} needs the other roles over internal gRPC, which this build cannot reach: run frontend, history and matching in one process`);
    }

    const namespaces = new NamespaceRegistry(persistence.namespaces, clock);
    const kafka = serverConfig.kafkaBrokers.length > 0;
    let visibility: RunningVisibility | undefined;
    // History publishes and, without Kafka, indexes its own records; with Kafka the indexer consumes.
    // A frontend alone opens the index to search it.
    if (has('history') || has('frontend') || (has('indexer') && kafka)) {
      const consume = has('history') ? !kafka || has('indexer') : has('indexer');
      const running = await startVisibility({ persistence, logger: logger.child({ service: 'visibility' }), config: serverConfig, consume });
      visibility = running;
      undo.push(() => running.stop());
    }
    if (has('indexer') && !kafka) {
      logger.info('indexer: without Kafka brokers the history hosts index their own records; this role has nothing to consume');
    }

    let matching: MatchingEngine | undefined;
    if (has('matching')) {
      matching = new MatchingEngine(persistence.taskQueues, new SystemClock(), settings, logger.child({ service: 'matching' }), metrics);
    }
    // In a cluster every call is routed by membership (to this process's engine when it owns the
    // shard or queue); the routed clients reach the local engines through these late-bound holders.
    const local: { history?: HistoryService; matching?: MatchingService } = {};
    const watcher = membership.watcher;
    let remote: RoutedClients | undefined;
    let stopWatching: (() => void) | undefined;
    if (rpc && watcher) {
      remote = routedClients({ watcher, rpc, numHistoryShards: metadata.numHistoryShards, settings, logger, self: { address: self, ...lateBound(local) } });
      const routed = remote;
      undo.push(() => routed.close());
      if (matching && settings.get(MatchingSettings.placePartitionsAcrossHosts)) {
        // Each partition of a task queue lives on the matching host membership places it on: a
        // partition reaches its parent through the routed client (this engine when it owns it).
        const engine = matching;
        const ownerOfPartition = (key: TaskQueueKey): string | undefined => watcher.ownerOf(taskQueuePartitionKey(key.namespaceId, key.name, key.kind === 'sticky' ? 0 : key.partition), 'matching')?.address;
        engine.placePartitions({
          router: new ServicePartitionRouter(routed.matching),
          owns: (key) => ownerOfPartition(key) === self,
          ownerOf: ownerOfPartition,
        });
        const unwatch = watcher.onChange((change) => {
          if (change.role !== 'matching') return;
          engine.ownershipChanged().catch((err: unknown) => logger.warn({ err }, 'matching: could not load the backlog of partitions this host now owns'));
        });
        stopWatching = unwatch;
        undo.push(() => void unwatch());
      }
    }
    const matchingApi: MatchingService | undefined = remote?.matching ?? matching;
    let history: HistoryEngine | undefined;
    if (has('history')) {
      if (!matchingApi || !visibility) throw new Error('history needs matching and visibility');
      history = new HistoryEngine({
        visibility: visibility.bus,
        batchTargets: visibility.search,
        persistence,
        namespaces,
        matching: matchingApi,
        clock,
        settings,
        config: { ...DEFAULT_HISTORY_CONFIG, numHistoryShards: metadata.numHistoryShards, hostIdentity: self },
        logger: logger.child({ service: 'history' }),
        ...(metrics ? { metrics } : {}),
        // Dynamic ownership: the shards rendezvous hashing assigns to this host among the live history
        // hosts; a shard fenced away is no longer served (ShardNotOwnedError), the process goes on.
        membership: membership.history,
        onStateDivergence: (message) => fatal(message),
        // Child workflows, signals and cancels to other executions reach the target shard's owner.
        ...(remote ? { peers: remote.history } : {}),
      });
    }
    const historyApi: HistoryService | undefined = remote?.history ?? history;
    if (history) local.history = history;
    if (matching) local.matching = matching;
    if (rpc && history) rpc.serveHistory(internal.server, history);
    if (rpc && matching) rpc.serveMatching(internal.server, matching);
    if (matching) {
      if (!historyApi) throw new Error('matching needs history');
      matching.setTaskStarter(historyApi);
    }
    if (history) {
      await history.start();
      const started = history;
      undo.push(() => started.stop());
      internal.setServing('history', true);
    }
    if (matching) {
      await matching.start();
      const started = matching;
      undo.push(() => started.stop());
      internal.setServing('matching', true);
    }
    if (has('indexer')) internal.setServing('indexer', true);

    let frontend: FrontendServer | undefined;
    if (has('frontend')) {
      if (!historyApi || !matchingApi || !visibility) throw new Error('the frontend needs history, matching and visibility');
      const retentionMs = serverConfig.retentionHours * 3600_000;
      const namespaceNames = ['default', ...serverConfig.namespaces];
      // Every frontend ensures them: the first creates, the others find them (ensure tolerates the race).
      for (const name of namespaceNames) await namespaces.ensure({ accountId: '', name, retentionMs, description: 'created by hourglass start' });
      await registerDevSearchAttributes(namespaces, namespaceNames);
      const tls = await resolveServerTls(serverConfig, logger);
      let grpcAddress = `${serverConfig.ip}:${serverConfig.port}`;
      const identity = serverConfig.requireAuth ? frontendIdentity({ persistence, clock, logger, namespaces, settings, billingConfig, grpcAddress: () => grpcAddress }) : undefined;
      const created = createFrontend({
        config: frontendListeners(serverConfig, tls),
        cluster: frontendClusterInfo(metadata, persistence.backend),
        logger: logger.child({ service: 'frontend' }),
        history: historyApi,
        matching: matchingApi,
        namespaces,
        visibility: visibility.search,
        settings,
        ...(identity ? { identity } : {}),
        ...(metrics ? { telemetry: { metrics } } : {}),
      });
      await created.start().catch((err: unknown) => {
        throw err instanceof ListenError ? new Error(`${err.message} (${optionName(err.transport === 'tls' ? 'tlsPort' : 'port')})`, { cause: err }) : err;
      });
      frontend = created;
      undo.push(() => created.stop(0));
      grpcAddress = `${serverConfig.ip}:${created.tlsPort ?? created.port}`;
      internal.setServing('frontend', true);
    }
    // Prometheus metrics of this process's roles, when an address is given (off by default).
    let metricsServer: MetricsServer | undefined;
    if (metrics && serverConfig.metricsAddress !== 'off') {
      const at = parseHostPort(serverConfig.metricsAddress);
      if (!at) throw new Error(`invalid ${optionName('metricsAddress')}: ${serverConfig.metricsAddress}`);
      registerMysqlTrafficMetrics(metrics, mysqlTraffic);
      const server = new MetricsServer({ metrics, logger: logger.child({ service: 'metrics' }) });
      await server.listen(at.host, at.port).catch((err: unknown) => {
        throw new Error(`cannot serve metrics on ${serverConfig.metricsAddress}: ${(err as Error).message} (${optionName('metricsAddress')})`, { cause: err });
      });
      metricsServer = server;
      undo.push(() => server.close());
    }
    internal.setOverall(true);

    const grace = clusterConfig.drainTimeoutMs;
    return {
      roles,
      internalAddress: self,
      internalPort,
      port: frontend?.port,
      tlsPort: frontend?.tlsPort,
      // Callers first: the public listener drains; history stops its processors and releases its
      // shards (recorded, so their next owners take them at once); the membership rows go, so the
      // others move on at their next round; then the internal listener drains what is in flight.
      stop: stopInOrder([
        () => internal.notServing(),
        () => frontend?.stop(grace),
        () => history?.stop(),
        () => membership.leave(),
        () => stopWatching?.(),
        () => matching?.stop(),
        () => internal.stop(grace),
        () => remote?.close(),
        () => metricsServer?.close(),
        () => visibility?.stop(),
        () => persistence.close(),
      ]),
    };
  } catch (err) {
    await undoStarted(undo, logger);
    throw err;
  }
}

/** Engines that exist only later in the composition, reached through the holder once they do. */
function lateBound(local: { history?: HistoryService; matching?: MatchingService }): { history?: HistoryService; matching?: MatchingService } {
  const proxy = <S extends object>(role: 'history' | 'matching'): S =>
    new Proxy({} as S, {
      get: (_target, method) => {
        const engine = local[role] as Record<PropertyKey, unknown> | undefined;
        if (!engine) throw new Error(`${role} is not running in this process yet`);
        const fn = engine[method];
        return typeof fn === 'function' ? (fn as (...args: unknown[]) => unknown).bind(engine) : fn;
      },
    });
  return { history: proxy<HistoryService>('history'), matching: proxy<MatchingService>('matching') };
}

/** API keys on every call (`requireAuth`): accounts, keys and namespaces come from the operator and Cloud APIs. */
function frontendIdentity(deps: {
  persistence: Persistence;
  clock: SystemClock;
  logger: Logger;
  namespaces: NamespaceRegistry;
  settings: Settings;
  billingConfig: BillingConfig | undefined;
  grpcAddress: () => string;
}): FrontendIdentity {
  const { persistence, clock, namespaces, settings } = deps;
  const logger = deps.logger.child({ service: 'identity' });
  const keys = new ApiKeyAuthenticator({ store: persistence.identity, clock, logger });
  const service = new IdentityService({
    store: persistence.identity,
    namespaces: persistence.namespaces,
    clock,
    logger,
    onNamespaceChanged: (record) => namespaces.remember(record),
    onAccountChanged: (accountId) => keys.forgetAccount(accountId),
    onApiKeyChanged: (keyId) => keys.forgetKey(keyId),
  });
  return {
    service,
    authenticator: new ApiKeyCallAuthenticator({ keys }),
    authorizer: IDENTITY_AUTHORIZER,
    namespacePolicy: identityNamespacePolicy(() => undefined),
    devAccountId: () => undefined,
    grpcAddress: deps.grpcAddress,
    effectiveLimits: (ns) => effectiveNamespaceLimits(settings, ns),
    billing: new Billing({ persistence, clock, ...(deps.billingConfig ? { config: deps.billingConfig } : {}) }),
  };
}
