/**
 * Composition root of `hourglass start-dev`: every service in one process on the embedded SQLite
 * store, wired in process (history ⇄ matching), serving gRPC in plaintext and, unless turned off,
 * the same services over TLS on a second port.
 */
import * as grpc from '@grpc/grpc-js';
import { DEFAULT_SETTINGS, HistorySettings, SystemClock, TimeSkippingClock, overlaySettings, tracedService, type Clock, type Logger, type ServerMetrics, type Settings, type Tracer } from '@hourglass/common';
import {
  ApiKeyCallAuthenticator,
  IDENTITY_AUTHORIZER,
  ListenError,
  OPERATOR_SERVICE,
  WORKFLOW_SERVICE,
  createFrontend,
  effectiveNamespaceLimits,
  identityNamespacePolicy,
  validateNamespaceName,
  type FrontendIdentity,
} from '@hourglass/frontend';
import { ApiServer, OidcVerifier, PortalAuth, newPassword, oidcSettingsFromEnv, type ApiDeps } from '@hourglass/api';
import { ApiKeyAuthenticator, AuditRetention, IdentityService } from '@hourglass/identity';
import { DEFAULT_HISTORY_CONFIG, HistoryEngine, NamespaceRegistry, type BillableActionCounter } from '@hourglass/history';
import { MatchingEngine } from '@hourglass/matching';
import { HistoryClient, MatchingClient, addHistoryService, addMatchingService } from '@hourglass/rpc';
import { mysqlTraffic, walSyncTimes, type NamespaceRecord, type Persistence } from '@hourglass/persistence';
import { Billing, startReportServer, type BillingConfig, type ReportServer } from '@hourglass/usage';
import type { VisibilityLagSnapshot } from '@hourglass/visibility';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { frontendClusterInfo, frontendListeners } from './frontend-config';
import { bootstrapDevIdentity, type DevCredentials, type DevIdentity } from './dev-identity';
import { DEV_DEFAULTS, optionName, parseHostPort, type DevServerConfig } from './config';
import { MetricsServer } from './metrics-server';
import { portalWeb, type PortalWeb } from './portal-web';
import { registerServiceMetrics } from './service-metrics';
import { openConfiguredPersistence } from './persistence';
import { resolveServerTls, type ServerTls } from './tls/server-tls';
import { stopInOrder, undoStarted, type StopStep } from './stop-in-order';
import { registerDevSearchAttributes, startVisibility } from './visibility';

export interface RunningServer {
  port: number;
  /** `ip:port` of the plaintext listener. */
  address: string;
  /** The TLS listener's port; undefined with TLS off (`--no-tls`). */
  tlsPort: number | undefined;
  /** `ip:port` of the TLS listener, serving the same services; undefined with TLS off. */
  tlsAddress: string | undefined;
  /** The CA certificate (PEM file) clients of the TLS listener trust: the generated one or `--tls-ca-file`. */
  tlsCaFile: string | undefined;
  /** The certificate the TLS listener presents (PEM file). */
  tlsCertFile: string | undefined;
  /** The metrics endpoint's port (`--metrics-address`); undefined when none is served. */
  metricsPort: number | undefined;
  /** The portal's port (`--portal-address`: GraphQL at /graphql); undefined when none is served. */
  portalPort: number | undefined;
  /** The portal's web console (`http://host:port/`); undefined when it is not served (--no-portal-web, no web build). */
  consoleUrl: string | undefined;
  /** The development account and its keys (absent without identity: the time-skipping test server). */
  dev?: { credentials: DevCredentials; credentialsFile: string | undefined };
  /** Present when started with time skipping. */
  timeSkippingClock?: TimeSkippingClock;
  /** Visibility lag (commit → written to the index): gauge, max and histogram, for the metrics exporter. */
  visibilityLag(): VisibilityLagSnapshot;
  /** hourglass_billable_actions_total: billable actions folded into the usage counters since start, by namespace and type. */
  billableActions: BillableActionCounter;
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
  /** The server cannot go on (e.g. another process took over its store): default logs and exits the process. */
  onFatal?: (reason: string) => void;
  /** Accounts and API keys (default on); the time-skipping test server runs without. */
  identity?: boolean;
  /** The config file's `billing:` section: prices and per-account prices (default: Temporal Cloud's list prices). */
  billing?: BillingConfig;
  /**
   * Metrics of every service, served on `config.metricsAddress` (unless `off`), and the tracer of
   * RPC spans when tracing is on. None by default.
   */
  telemetry?: { metrics?: ServerMetrics; tracer?: Tracer };
  /**
   * How frontend, history and matching call each other: in process (default), or through internal
   * gRPC on a loopback server (frontend→history, frontend→matching, history→matching,
   * matching→history and history→history for cross-execution work, all over @hourglass/rpc's
   * clients), which proves the transport end to end.
   */
  internalTransport?: 'in-process' | 'grpc-loopback';
}

/** Far enough that every timer is held in memory, so the skipping clock knows the next one. */
const SKIPPING_TIMER_LOOKAHEAD_MS = 100 * 365 * 86_400_000;

export async function startDevServer({ config, settings: given = DEFAULT_SETTINGS, logger, clock: givenClock, timeSkipping, onFatal, identity: withIdentity = true, billing: billingConfig, telemetry = {}, internalTransport = 'in-process' }: DevServerOptions): Promise<RunningServer> {
  const { metrics } = telemetry;
  for (const name of config.namespaces) validateNamespaceName(name, '--namespace');
  const defaultFatal = (reason: string): void => {
    logger.fatal(reason);
    process.exit(1);
  };
  const skippingClock = timeSkipping ? new TimeSkippingClock() : undefined;
  const clock = skippingClock ?? givenClock ?? new SystemClock();
  const persistence: Persistence = await openConfiguredPersistence(config, clock);
  // What has started, undone in reverse order when a later step fails.
  const undo: StopStep[] = [() => persistence.close()];
  try {
    // Opening the store recorded the shard count (a new store) or refused a different one.
    const cluster = await persistence.cluster.getClusterMetadata();
    // After the store: it holds its SQLite file exclusively, and so the tls/ folder beside it.
    const tls: ServerTls | undefined = await resolveServerTls(config, logger);
    if (tls) undo.push(() => tls.dispose());
    const namespaces = new NamespaceRegistry(persistence.namespaces, clock);
    // Matching times polls against callers' wall-clock deadlines: it always runs on the system clock.
    // With time skipping every timer is held in memory, so the skipping clock knows the next one.
    // Periodic storage accrual timers are off there too: the clock would otherwise skip to each one.
    const settings = skippingClock
      ? overlaySettings(given, { [HistorySettings.timerLookahead.key]: [{ value: SKIPPING_TIMER_LOOKAHEAD_MS }], [HistorySettings.storageAccrualInterval.key]: [{ value: 0 }] })
      : given;
    const matching = new MatchingEngine(persistence.taskQueues, new SystemClock(), settings, logger.child({ service: 'matching' }), metrics);
    const internal = internalTransport === 'grpc-loopback' ? await startLoopbackTransport() : undefined;
    if (internal) {
      undo.push(() => internal.stop());
      logger.info({ address: internal.address }, 'history and matching call each other over internal gRPC (loopback)');
    }
    const visibility = await startVisibility({ persistence, logger: logger.child({ service: 'visibility' }), config });
    undo.push(() => visibility.stop());
    const history = new HistoryEngine({
      visibility: visibility.bus,
      batchTargets: visibility.search,
      persistence,
      namespaces,
      matching: internal?.matching ?? matching,
      ...(internal ? { peers: internal.history } : {}),
      clock,
      settings,
      config: { ...DEFAULT_HISTORY_CONFIG, numHistoryShards: cluster.numHistoryShards, hostIdentity: `dev-${process.pid}` },
      logger: logger.child({ service: 'history' }),
      trackWork: skippingClock !== undefined,
      ...(metrics ? { metrics } : {}),
      // Only one process may own this store: another one took a shard over, so this one must not go on serving.
      onShardOwnershipLost: (shardId) =>
        (onFatal ?? defaultFatal)(`history shard ${shardId} was taken over by another Hourglass process on the same store; this one stops`),
      // history.verifyRebuild found a bug: a test suite must see it fail, not a server that goes on.
      onStateDivergence: (message) => (onFatal ?? defaultFatal)(message),
    });
    matching.setTaskStarter(internal?.history ?? history);
    internal?.serve(history, matching);
    const workTracker = history.workTracker;
    if (skippingClock && workTracker) {
      if (timeSkipping?.locked) skippingClock.lock();
      skippingClock.setIdleProbe(() => workTracker.isIdle());
      workTracker.onIdle(() => skippingClock.poke());
    }
    await history.start();
    undo.push(() => history.stop());
    await matching.start();
    undo.push(() => matching.stop());
    const retentionMs = config.retentionHours * 3600_000;
    const namespaceNames = ['default', ...config.namespaces];
    let frontendIdentity: FrontendIdentity | undefined;
    let dev: DevIdentity | undefined;
    let auditRetention: AuditRetention | undefined;
    let reportServer: ReportServer | undefined;
    let grpcAddress = `${config.ip}:${config.port}`;
    let keys: ApiKeyAuthenticator | undefined;
    let portal: { auth: PortalAuth; identity: IdentityService; billing: Billing } | undefined;
    if (withIdentity) {
      const identityLogger = logger.child({ service: 'identity' });
      const billing = new Billing({ persistence, clock, ...(billingConfig ? { config: billingConfig } : {}) });
      // Billing report downloads (signed, expiring URLs) over HTTP on the server's address.
      const reports = await startReportServer(billing, config.ip, logger.child({ service: 'usage' }));
      reportServer = reports;
      undo.push(() => reports.stop());
      billing.downloadBaseUrl = reports.baseUrl;
      keys = new ApiKeyAuthenticator({ store: persistence.identity, clock, logger: identityLogger });
      const service = new IdentityService({
        store: persistence.identity,
        namespaces: persistence.namespaces,
        clock,
        logger: identityLogger,
        onNamespaceChanged: (record) => namespaces.remember(record),
        onAccountChanged: (accountId) => keys?.forgetAccount(accountId),
        onApiKeyChanged: (keyId) => keys?.forgetKey(keyId),
      });
      auditRetention = new AuditRetention({ store: persistence.identity, clock, settings, logger: identityLogger });
      // Single sign-on: the OpenID Connect provider the portal console offers (same variables).
      const oidc = oidcSettingsFromEnv(process.env);
      const auth = new PortalAuth({ portal: persistence.portal, identity: persistence.identity, keys, clock, sessionTtlMs: PORTAL_SESSION_TTL_MS, ...(oidc ? { oidc: new OidcVerifier(oidc) } : {}) });
      portal = { auth, identity: service, billing };
      // Before the first call is served: the dev account owns `default` and the `-n` namespaces.
      const devIdentity = await bootstrapDevIdentity({
        persistence,
        identity: service,
        namespaces,
        namespaceNames,
        retentionMs,
        credentialsFile: devCredentialsFile(config),
        logger: identityLogger,
        portal: { setPassword: (...a) => auth.setPassword(...a), checkPassword: (...a) => auth.checkPassword(...a), newPassword },
      });
      dev = devIdentity;
      frontendIdentity = {
        service,
        authenticator: new ApiKeyCallAuthenticator({ keys: keys, ...(config.requireAuth ? {} : { devPrincipal: () => devIdentity.principal }) }),
        authorizer: IDENTITY_AUTHORIZER,
        namespacePolicy: identityNamespacePolicy(() => devIdentity.account.id),
        devAccountId: () => devIdentity.account.id,
        grpcAddress: () => grpcAddress,
        effectiveLimits: (ns) => effectiveNamespaceLimits(settings, ns),
        billing,
      };
    } else {
      for (const name of namespaceNames) await namespaces.ensure({ accountId: '', name, retentionMs, description: 'created by start-dev' });
    }
    await registerDevSearchAttributes(namespaces, namespaceNames);

    const frontend = createFrontend({
      config: frontendListeners(config, tls),
      cluster: frontendClusterInfo(cluster, persistence.backend),
      logger: logger.child({ service: 'frontend' }),
      // With tracing on, the frontend's calls into history and matching are child spans of the RPC's.
      history: telemetry.tracer ? tracedService(internal?.history ?? history, 'history') : (internal?.history ?? history),
      matching: telemetry.tracer ? tracedService(internal?.matching ?? matching, 'matching') : (internal?.matching ?? matching),
      namespaces,
      visibility: visibility.search,
      settings,
      ...(skippingClock ? { timeSkippingClock: skippingClock } : {}),
      ...(frontendIdentity ? { identity: frontendIdentity } : {}),
      ...(telemetry.metrics || telemetry.tracer ? { telemetry } : {}),
    });
    const port = await frontend.start().catch((err: unknown) => {
      throw err instanceof ListenError ? new Error(`${err.message} (${optionName(err.transport === 'tls' ? 'tlsPort' : 'port')})`, { cause: err }) : err;
    });
    undo.push(() => frontend.stop());
    if (metrics) {
      registerServiceMetrics(metrics, {
        billableActions: history.billableActions,
        visibilityLag: () => visibility.indexer.lag.snapshot(),
        namespaceName: (id) => namespaces.getById(id).then((ns) => ns.name, () => ''),
        mysqlTraffic,
        walSyncTimes,
      });
    }
    const metricsServer = metrics ? await serveMetrics(config, metrics, logger, keys, (name) => namespaces.getByName(name)) : undefined;
    if (metricsServer) undo.push(() => metricsServer.server.close());
    // The portal's GraphQL API: its workflow calls go through the frontend's chain in process.
    // The web console on the same listener (loaded on its first page request), unless --no-portal-web.
    let web: PortalWeb | undefined;
    const portalServer = portal
      ? await servePortal(config, logger, (portalPort) => {
          web = config.portalWeb
            ? portalWeb({
                logger: logger.child({ service: 'portal-web' }),
                secretFile: devCredentialsFile(config)?.replace(/[^/\\]+$/, 'portal-web-secret'),
                graphqlUrl: () => `http://${clientHost(parseHostPort(config.portalAddress)?.host ?? '127.0.0.1')}:${portalPort()}/graphql`,
                grpcAddress: `${clientHost(config.ip)}:${port}`,
                tlsAddress: frontend.tlsPort === undefined ? undefined : `${clientHost(config.ip)}:${frontend.tlsPort}`,
              })
            : undefined;
          return web?.handle;
        }, {
          identity: portal.identity,
          auth: portal.auth,
          portal: persistence.portal,
          billing: portal.billing,
          gateway: { call: (service, method, request, principal, signal) => frontend.invoke(service === 'WorkflowService' ? WORKFLOW_SERVICE : OPERATOR_SERVICE, method, request, { principal, ...(signal ? { signal } : {}) }) },
          limitsOf: (ns) => effectiveNamespaceLimits(settings, ns),
          downloadBaseUrl: () => portal?.billing.downloadBaseUrl,
        })
      : undefined;
    if (portalServer) undo.push(() => portalServer.server.stop());
    if (web) undo.push(() => web?.stop());
    const tlsPort = frontend.tlsPort;
    grpcAddress = tlsPort === undefined ? `${config.ip}:${port}` : `${config.ip}:${tlsPort}`;
    auditRetention?.start();
    portal?.auth.startPruning((err) => logger.warn({ err }, 'could not delete expired portal sessions'));
    const credentials = dev?.publish({
      address: `${config.ip}:${port}`,
      ...(portalServer ? { portalUrl: `http://${clientHost(portalServer.host)}:${portalServer.port}/graphql` } : {}),
      ...(tlsPort === undefined ? {} : { tlsAddress: `${config.ip}:${tlsPort}` }),
      ...(tls?.caFile ? { caCertFile: path.resolve(tls.caFile) } : {}),
    });
    return {
      port,
      address: `${config.ip}:${port}`,
      tlsPort,
      tlsAddress: tlsPort === undefined ? undefined : `${config.ip}:${tlsPort}`,
      tlsCaFile: tls?.caFile,
      tlsCertFile: tls?.certFile,
      metricsPort: metricsServer?.port,
      portalPort: portalServer?.port,
      consoleUrl: portalServer && web ? `http://${clientHost(portalServer.host)}:${portalServer.port}/` : undefined,
      ...(skippingClock ? { timeSkippingClock: skippingClock } : {}),
      billableActions: history.billableActions,
      ...(dev && credentials ? { dev: { credentials, credentialsFile: dev.credentialsFile } } : {}),
      visibilityLag: () => visibility.indexer.lag.snapshot(),
      stop: stopInOrder([
        () => metricsServer?.server.close(),
        () => portalServer?.server.stop(),
        () => web?.stop(),
        () => frontend.stop(),
        () => auditRetention?.stop(),
        () => portal?.auth.stop(),
        () => reportServer?.stop(),
        () => matching.stop(),
        () => history.stop(),
        () => internal?.stop(),
        () => visibility.stop(),
        () => persistence.close(),
        () => tls?.dispose(),
      ]),
    };
  } catch (err) {
    await undoStarted(undo, logger);
    throw err;
  }
}

/**
 * The metrics endpoint on `config.metricsAddress`. When the default address is taken (another
 * start-dev on this machine), start-dev serves on without it and says so; an address that was
 * asked for and cannot be bound stops the start.
 */
async function serveMetrics(
  config: DevServerConfig,
  metrics: ServerMetrics,
  logger: Logger,
  keys: ApiKeyAuthenticator | undefined,
  namespaceByName: (name: string) => Promise<NamespaceRecord>,
): Promise<{ server: MetricsServer; port: number } | undefined> {
  if (config.metricsAddress === 'off') return undefined;
  const address = parseHostPort(config.metricsAddress);
  if (!address) throw new Error(`invalid ${optionName('metricsAddress')}: ${config.metricsAddress}`);
  const server = new MetricsServer({ metrics, logger: logger.child({ service: 'metrics' }), ...(keys ? { keys, namespaceByName } : {}) });
  try {
    return { server, port: await server.listen(address.host, address.port) };
  } catch (err) {
    const message = `cannot serve metrics on ${config.metricsAddress}: ${(err as Error).message} (${optionName('metricsAddress')})`;
    if (config.metricsAddress === DEV_DEFAULTS.metricsAddress && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      logger.warn(`${message}; serving without metrics`);
      return undefined;
    }
    throw new Error(message, { cause: err });
  }
}

/** Portal sessions last a working day. */
const PORTAL_SESSION_TTL_MS = 12 * 3600_000;

/** A wildcard bind is reached on loopback. */
function clientHost(ip: string): string {
  if (ip === '0.0.0.0') return '127.0.0.1';
  if (ip === '::') return '[::1]';
  return ip.includes(':') ? `[${ip}]` : ip;
}

/**
 * The portal's listener on `config.portalAddress` (development mode: introspection and the Apollo
 * Sandbox). When the default address is taken (another start-dev on this machine), start-dev serves
 * on without it and says so; an address that was asked for and cannot be bound stops the start.
 */
async function servePortal(
  config: DevServerConfig,
  logger: Logger,
  webHandler: (port: () => number) => ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined,
  deps: ApiDeps,
): Promise<{ server: ApiServer; host: string; port: number } | undefined> {
  if (config.portalAddress === 'off') return undefined;
  const address = parseHostPort(config.portalAddress);
  if (!address) throw new Error(`invalid ${optionName('portalAddress')}: ${config.portalAddress}`);
  let bound = 0;
  const fallback = webHandler(() => bound);
  const server = new ApiServer({ deps, logger: logger.child({ service: 'api' }), development: true, ...(fallback ? { fallback } : {}) });
  try {
    bound = await server.listen(address.host, address.port);
    return { server, host: address.host, port: bound };
  } catch (err) {
    await server.stop().catch(() => undefined);
    const message = `cannot serve the portal on ${config.portalAddress}: ${(err as Error).message} (${optionName('portalAddress')})`;
    if (config.portalAddress === DEV_DEFAULTS.portalAddress && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      logger.warn(`${message}; serving without the portal`);
      return undefined;
    }
    throw new Error(message, { cause: err });
  }
}

/** The dev credentials file: the flag's, else beside the SQLite file; none for in-memory stores. */
function devCredentialsFile(config: DevServerConfig): string | undefined {
  if (config.devCredentialsFile) return path.resolve(config.devCredentialsFile);
  if (config.store === 'sqlite' && config.inMemory) return undefined;
  const dir = config.store === 'sqlite' ? path.dirname(path.resolve(config.dbFilename)) : path.resolve('.hourglass');
  return path.join(dir, 'dev-credentials.json');
}

/**
 * A loopback internal gRPC server and clients of it: the engines are served once built (grpc-js
 * looks handlers up per call), and the clients connect on first use.
 */
async function startLoopbackTransport(): Promise<{ address: string; history: HistoryClient; matching: MatchingClient; serve(history: Parameters<typeof addHistoryService>[1], matching: Parameters<typeof addMatchingService>[1]): void; stop(): void }> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const history = new HistoryClient(`127.0.0.1:${port}`);
  const matching = new MatchingClient(`127.0.0.1:${port}`);
  return {
    address: `127.0.0.1:${port}`,
    history,
    matching,
    serve(historyImpl, matchingImpl) {
      addHistoryService(server, historyImpl);
      addMatchingService(server, matchingImpl);
    },
    stop() {
      history.close();
      matching.close();
      // After the engines stopped: no call the server still holds has anyone left to answer it.
      server.forceShutdown();
    },
  };
}
