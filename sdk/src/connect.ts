/**
 * Connections to Hourglass for customer code: one call gives the official `Client` (on a grpc-js
 * `Connection`) and the `NativeConnection` workers need, configured the same way.
 */
import { Client, Connection, type ClientOptions, type ConnectionOptions, type TLSConfig } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';

/** Where Hourglass listens by default (`make dev`, `hourglass start-dev`). */
export const DEFAULT_ADDRESS = '127.0.0.1:7233';
/** The namespace every Hourglass server creates at start. */
export const DEFAULT_NAMESPACE = 'default';

/** Environment variables {@link connect} reads for whatever the options leave out. */
export const CONNECT_ENV_VARS = {
  address: 'HOURGLASS_ADDRESS',
  namespace: 'HOURGLASS_NAMESPACE',
  apiKey: 'HOURGLASS_API_KEY',
} as const;

export interface ConnectOptions {
  /** `host:port` of the Hourglass frontend. Default: `$HOURGLASS_ADDRESS`, else `127.0.0.1:7233`. */
  address?: string;
  /** Namespace of the returned client (and the one to give workers). Default: `$HOURGLASS_NAMESPACE`, else `default`. */
  namespace?: string;
  /**
   * API key, sent as `Authorization: Bearer <key>` on every call. Default: `$HOURGLASS_API_KEY`.
   * As in the official SDK, an API key turns TLS on unless `tls` is `false`.
   */
  apiKey?: string;
  /** TLS: `true` for system roots, a `TLSConfig` for custom certificates, `false` for plaintext. */
  tls?: TLSConfig | boolean;
  /** More options for the client's grpc-js connection (metadata, interceptors, timeouts…). */
  connection?: Omit<ConnectionOptions, 'address' | 'apiKey' | 'tls'>;
  /** More options for the workers' native connection. */
  nativeConnection?: Omit<NativeConnectionOptions, 'address' | 'apiKey' | 'tls'>;
  /** More options for the `Client` (data converter, interceptors…). */
  client?: Omit<ClientOptions, 'connection' | 'namespace'>;
}

/** What {@link connect} resolved from its options and the environment. */
export interface ConnectSettings {
  address: string;
  namespace: string;
  apiKey: string | undefined;
  /** What is passed to both connections; `undefined` means plaintext. */
  tls: TLSConfig | boolean | undefined;
}

export interface HourglassConnection {
  /** The official client, on {@link HourglassConnection.connection}, for {@link HourglassConnection.namespace}. */
  client: Client;
  /** The grpc-js connection under `client` (raw `workflowService` calls, `withDeadline`…). */
  connection: Connection;
  /** For `Worker.create({ connection: nativeConnection, namespace, … })`. */
  nativeConnection: NativeConnection;
  namespace: string;
  address: string;
  /** Closes both connections. Shut down workers on `nativeConnection` first. */
  close(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

function fromEnv(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/**
 * Resolves options over the environment over the defaults, without connecting. An API key turns
 * TLS on unless `tls` says otherwise (the official SDK's rule, made explicit here).
 *
 * ```ts
 * resolveConnectSettings({}, { HOURGLASS_API_KEY: 'k' }); // { address: '127.0.0.1:7233', namespace: 'default', apiKey: 'k', tls: true }
 * ```
 */
export function resolveConnectSettings(options: Pick<ConnectOptions, 'address' | 'namespace' | 'apiKey' | 'tls'>, env: Env): ConnectSettings {
  const apiKey = options.apiKey ?? fromEnv(env, CONNECT_ENV_VARS.apiKey);
  return {
    address: options.address ?? fromEnv(env, CONNECT_ENV_VARS.address) ?? DEFAULT_ADDRESS,
    namespace: options.namespace ?? fromEnv(env, CONNECT_ENV_VARS.namespace) ?? DEFAULT_NAMESPACE,
    apiKey,
    tls: options.tls ?? (apiKey !== undefined ? true : undefined),
  };
}

/**
 * Connects to Hourglass: an official `Client` and the `NativeConnection` workers use. What the
 * options leave out comes from `HOURGLASS_ADDRESS` (default `127.0.0.1:7233`),
 * `HOURGLASS_NAMESPACE` (default `default`) and `HOURGLASS_API_KEY`; this is the only place the
 * SDK reads the environment (`env` is injectable for tests).
 *
 * ```ts
 * import { connect } from '@hourglass/sdk';
 * import { Worker } from '@temporalio/worker';
 *
 * const hg = await connect(); // or connect({ address: 'hourglass.internal:7233', apiKey, namespace: 'orders' })
 * const worker = await Worker.create({
 *   connection: hg.nativeConnection,
 *   namespace: hg.namespace,
 *   taskQueue: 'orders',
 *   workflowsPath: require.resolve('./workflows'),
 *   activities,
 * });
 * await worker.runUntil(hg.client.workflow.execute('order', { taskQueue: 'orders', workflowId: 'order-1', args: [order] }));
 * await hg.close();
 * ```
 */
export async function connect(options: ConnectOptions = {}, env: Env = process.env): Promise<HourglassConnection> {
  const settings = resolveConnectSettings(options, env);
  const common = {
    address: settings.address,
    ...(settings.apiKey !== undefined ? { apiKey: settings.apiKey } : {}),
    ...(settings.tls !== undefined ? { tls: settings.tls } : {}),
  };
  const connection = await Connection.connect({ ...options.connection, ...common });
  let nativeConnection: NativeConnection;
  try {
    nativeConnection = await NativeConnection.connect({ ...options.nativeConnection, ...common });
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw err;
  }
  const client = new Client({ ...options.client, connection, namespace: settings.namespace });
  let closing: Promise<void> | undefined;
  return {
    client,
    connection,
    nativeConnection,
    namespace: settings.namespace,
    address: settings.address,
    close: () => {
      closing ??= (async () => {
        const results = await Promise.allSettled([nativeConnection.close(), connection.close()]);
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed.length > 0) throw new AggregateError(failed.map((f) => f.reason), `closing the connections to ${settings.address} failed`);
      })();
      return closing;
    },
  };
}
