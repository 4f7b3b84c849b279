/**
 * Connections to Hourglass for customer code: one call gives the official `Client` (on a grpc-js
 * `Connection`) and the `NativeConnection` workers need, configured the same way — from the
 * options, `HOURGLASS_*` variables, and Temporal's own environment configuration (`TEMPORAL_*`
 * variables and TOML profiles, read by the official `@temporalio/envconfig`).
 */
import { existsSync } from 'node:fs';
import { Client, Connection, type ClientOptions, type ConnectionOptions, type TLSConfig } from '@temporalio/client';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { quote } from './text';

/** Where Hourglass listens by default (`make dev`, `hourglass start-dev`). */
export const DEFAULT_ADDRESS = '127.0.0.1:7233';
/** The namespace every Hourglass server creates at start. */
export const DEFAULT_NAMESPACE = 'default';

/** Hourglass's own environment variables {@link connect} reads; they win over the `TEMPORAL_*` ones. */
export const CONNECT_ENV_VARS = {
  address: 'HOURGLASS_ADDRESS',
  namespace: 'HOURGLASS_NAMESPACE',
  apiKey: 'HOURGLASS_API_KEY',
} as const;

/**
 * Temporal's environment variables, as `@temporalio/envconfig` (and every official SDK and the
 * Temporal CLI) reads them. Besides these: `TEMPORAL_TLS`, `TEMPORAL_TLS_*` and `TEMPORAL_GRPC_META_*`.
 */
export const TEMPORAL_ENV_VARS = {
  address: 'TEMPORAL_ADDRESS',
  namespace: 'TEMPORAL_NAMESPACE',
  apiKey: 'TEMPORAL_API_KEY',
  profile: 'TEMPORAL_PROFILE',
  configFile: 'TEMPORAL_CONFIG_FILE',
} as const;

export interface ConnectOptions {
  /** `host:port` of the Hourglass frontend. Default: see {@link connect}; in the end `127.0.0.1:7233`. */
  address?: string;
  /** Namespace of the returned client (and the one to give workers). Default: see {@link connect}; in the end `default`. */
  namespace?: string;
  /**
   * API key, sent as `Authorization: Bearer <key>` on every call. Default: see {@link connect}.
   * As in the official SDK, an API key turns TLS on unless TLS is configured otherwise.
   */
  apiKey?: string;
  /** TLS: `true` for system roots, a `TLSConfig` for custom certificates, `false` for plaintext. */
  tls?: TLSConfig | boolean;
  /**
   * The profile to read from the Temporal client config file. Default `$TEMPORAL_PROFILE`, else
   * `default`. A named profile the file lacks is an error; a missing `default` profile is not.
   */
  profile?: string;
  /**
   * Path of the Temporal client config file (TOML, `[profile.<name>]` tables). Default
   * `$TEMPORAL_CONFIG_FILE`, else `temporalio/temporal.toml` in the user's config directory
   * (`~/.config` on Linux); a missing default file is no error. `false` reads no file.
   */
  configFile?: string | false;
  /** More options for the client's grpc-js connection (metadata, interceptors, timeouts…). */
  connection?: Omit<ConnectionOptions, 'address' | 'apiKey' | 'tls'>;
  /** More options for the workers' native connection. */
  nativeConnection?: Omit<NativeConnectionOptions, 'address' | 'apiKey' | 'tls'>;
  /** More options for the `Client` (data converter, interceptors…). */
  client?: Omit<ClientOptions, 'connection' | 'namespace'>;
}

/** What {@link connect} resolved from its options, the environment and the config file. */
export interface ConnectSettings {
  address: string;
  namespace: string;
  apiKey: string | undefined;
  /** What is passed to both connections; `undefined` means plaintext. */
  tls: TLSConfig | boolean | undefined;
  /** gRPC metadata from the profile and `TEMPORAL_GRPC_META_*` (options' metadata is added over it). */
  metadata: Record<string, string> | undefined;
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

/** A config file, profile or variable {@link connect} cannot use; `cause` is the underlying error. */
export class ConnectConfigError extends Error {
  override readonly name = 'ConnectConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

function nonBlank(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * The environment as envconfig should see it: blank variables dropped (an empty `TEMPORAL_ADDRESS`
 * means unset, as blank `HOURGLASS_*` do), except `TEMPORAL_GRPC_META_*`, where empty removes a header.
 */
function envForEnvconfig(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (name.startsWith('TEMPORAL_GRPC_META_')) out[name] = value;
    else if (nonBlank(value) !== undefined) out[name] = value;
  }
  return out;
}

/** The profile and `TEMPORAL_*` variables over it, through the official loader; `tls` as a connection option. */
function loadTemporalProfile(options: Pick<ConnectOptions, 'profile' | 'configFile'>, env: Env): { profile: ClientConfigProfile; tls: TLSConfig | boolean | undefined } {
  const envVars = envForEnvconfig(env);
  const file = options.configFile === false ? undefined : (options.configFile ?? envVars[TEMPORAL_ENV_VARS.configFile]);
  // envconfig treats a missing file as empty; a file named in the options is meant to exist.
  if (typeof options.configFile === 'string' && !existsSync(options.configFile)) {
    throw new ConnectConfigError(`the Temporal client config file ${quote(options.configFile)} given to connect() does not exist`);
  }
  const name = options.profile ?? envVars[TEMPORAL_ENV_VARS.profile];
  try {
    const profile = loadClientConfigProfile({
      ...(name !== undefined ? { profile: name } : {}),
      ...(typeof options.configFile === 'string' ? { configSource: { path: options.configFile } } : {}),
      ...(options.configFile === false ? { disableFile: true } : {}),
      overrideEnvVars: envVars,
    });
    // Only the profile's TLS table and TEMPORAL_TLS*: the API key rule is applied once all sources are merged.
    const tls = profile.tls !== undefined ? (toClientOptions({ tls: profile.tls }).connectionOptions.tls ?? undefined) : undefined;
    return { profile, tls };
  } catch (err) {
    const where = file !== undefined ? ` from ${quote(file)}` : '';
    throw new ConnectConfigError(`could not load the Temporal client profile ${quote(name ?? 'default')}${where}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Resolves what {@link connect} would use, without connecting. Each setting comes from the first
 * of: the options; `HOURGLASS_ADDRESS` / `HOURGLASS_NAMESPACE` / `HOURGLASS_API_KEY`;
 * `TEMPORAL_ADDRESS` / `TEMPORAL_NAMESPACE` / `TEMPORAL_API_KEY`; the Temporal config file's profile;
 * the defaults (`127.0.0.1:7233`, `default`, no key). TLS: the `tls` option, else the profile's
 * `[profile.<name>.tls]` or `TEMPORAL_TLS*`, else on exactly when there is an API key (the
 * official SDK's rule).
 *
 * ```ts
 * resolveConnectSettings({}, { TEMPORAL_ADDRESS: 'temporal:7233', HOURGLASS_API_KEY: 'k' });
 * // { address: 'temporal:7233', namespace: 'default', apiKey: 'k', tls: true, metadata: undefined }
 * ```
 */
export function resolveConnectSettings(options: Pick<ConnectOptions, 'address' | 'namespace' | 'apiKey' | 'tls' | 'profile' | 'configFile'>, env: Env): ConnectSettings {
  const { profile: temporal, tls: profileTls } = loadTemporalProfile(options, env);
  const apiKey = options.apiKey ?? nonBlank(env[CONNECT_ENV_VARS.apiKey]) ?? temporal.apiKey;
  return {
    address: options.address ?? nonBlank(env[CONNECT_ENV_VARS.address]) ?? temporal.address ?? DEFAULT_ADDRESS,
    namespace: options.namespace ?? nonBlank(env[CONNECT_ENV_VARS.namespace]) ?? temporal.namespace ?? DEFAULT_NAMESPACE,
    apiKey,
    tls: options.tls ?? profileTls ?? (apiKey !== undefined ? true : undefined),
    metadata: temporal.grpcMeta !== undefined && Object.keys(temporal.grpcMeta).length > 0 ? temporal.grpcMeta : undefined,
  };
}

/**
 * Connects to Hourglass: an official `Client` and the `NativeConnection` workers use. What the
 * options leave out comes, in this order, from `HOURGLASS_ADDRESS` / `HOURGLASS_NAMESPACE` /
 * `HOURGLASS_API_KEY`, then Temporal's conventions — `TEMPORAL_ADDRESS` / `TEMPORAL_NAMESPACE` /
 * `TEMPORAL_API_KEY` / `TEMPORAL_TLS*` / `TEMPORAL_GRPC_META_*` over the profile
 * (`$TEMPORAL_PROFILE`, else `default`) of the Temporal config file (`$TEMPORAL_CONFIG_FILE`, else
 * `~/.config/temporalio/temporal.toml`) — then the defaults (`127.0.0.1:7233`, namespace `default`).
 * An API key turns TLS on unless TLS is configured. This is the only place the SDK reads the
 * environment (`env` is injectable for tests); see {@link resolveConnectSettings}.
 *
 * ```ts
 * import { connect } from '@hourglass/sdk';
 * import { Worker } from '@temporalio/worker';
 *
 * const hg = await connect(); // or connect({ address: 'hourglass.internal:7233', apiKey, namespace: 'orders' }), or connect({ profile: 'staging' })
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
  const metadataOf = <M extends object>(extra: M | undefined): { metadata?: M } =>
    settings.metadata !== undefined || extra !== undefined ? { metadata: { ...settings.metadata, ...extra } as M } : {};
  const connection = await Connection.connect({ ...options.connection, ...metadataOf(options.connection?.metadata), ...common });
  let nativeConnection: NativeConnection;
  try {
    nativeConnection = await NativeConnection.connect({ ...options.nativeConnection, ...metadataOf(options.nativeConnection?.metadata), ...common });
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
