/**
 * What `hourglass start-dev` prints once it serves: where (plaintext, and TLS with the CA file a
 * client trusts), on which store, and the next step, a worker with the official SDK pointed at this
 * address and namespace.
 */

export interface BannerInput {
  /** The bound address, `ip:port`. */
  ip: string;
  port: number;
  store: string;
  namespaces: readonly string[];
  /** The TLS listener; absent with `--no-tls`. */
  tls?: {
    port: number;
    /** The CA certificate clients trust (generated, or `--tls-ca-file`). */
    caFile: string | undefined;
    /** The certificate served, named when there is no CA file to point at. */
    certFile: string;
  };
  /** Where Prometheus scrapes (`http://host:port/metrics`); absent when no metrics endpoint is served. */
  metricsUrl?: string;
  /** The portal's GraphQL API (`http://host:port/graphql`); absent when none is served. */
  portalUrl?: string;
  /** The portal's web console (`http://host:port/`); absent when it is not served (`--no-portal-web`, no web build). */
  consoleUrl?: string;
  /** The development account (absent without identity). */
  dev?: {
    accountId: string;
    /** The owner's portal sign-in. */
    portalEmail?: string;
    portalPassword?: string;
    /** Where its keys were written; undefined when none was (in-memory stores). */
    credentialsFile: string | undefined;
    /** --require-auth: key-less calls are refused on the plaintext port too. */
    requireAuth: boolean;
  };
}

/** The address a client on this machine dials: a wildcard bind is reached on loopback. */
export function clientAddress(ip: string, port: number): string {
  const host = ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The start of the TLS line; scripts and the conformance harness read the port and CA file from it. */
export const TLS_LINE_PREFIX = 'Hourglass serves the same over TLS on';

/** The start of the portal line (after the metrics line). */
export const PORTAL_LINE_PREFIX = 'Hourglass serves the portal API (GraphQL) on';

/** The start of the console line (after the portal line). */
export const CONSOLE_LINE_PREFIX = 'Hourglass serves the portal console (web) on';

/** The start of the metrics line (after the TLS line). */
export const METRICS_LINE_PREFIX = 'Hourglass serves Prometheus metrics on';

export function startBanner({ ip, port, store, namespaces, tls, dev, metricsUrl, portalUrl, consoleUrl }: BannerInput): string[] {
  const address = clientAddress(ip, port);
  const namespace = namespaces[0] ?? 'default';
  const names = namespaces.length > 1 ? `namespaces: ${namespaces.join(', ')}` : `namespace: ${namespace}`;
  const tlsLines = tls
    ? [
        tls.caFile
          ? `${TLS_LINE_PREFIX} ${ip}:${tls.port}, clients trust the CA certificate ${tls.caFile}`
          : `${TLS_LINE_PREFIX} ${ip}:${tls.port}, with the certificate ${tls.certFile}`,
      ]
    : [];
  const tlsSnippet = tls
    ? [
        `Over TLS (what the SDKs use whenever they are given an API key), connect to ${clientAddress(ip, tls.port)}${tls.caFile ? ' trusting that CA' : ''}:`,
        `  const connection = await NativeConnection.connect({ address: '${clientAddress(ip, tls.port)}', tls: ${
          tls.caFile ? `{ serverRootCACertificate: readFileSync('${tls.caFile}') }` : 'true'
        } });`,
      ]
    : [];
  const devLines = dev
    ? [
        `Development account ${dev.accountId}: ${dev.credentialsFile ? `its owner's API key and an operator key are in ${dev.credentialsFile} (mode 0600)` : 'its keys were not written (in-memory store; --dev-credentials-file writes them)'}.`,
        dev.requireAuth
          ? 'Every call needs an API key (--require-auth).'
          : `Calls without a key on ${address} act as its owner on ${namespaces.join(', ')}; TLS calls and the account APIs need a key.`,
        ...(portalUrl && dev.portalEmail && dev.portalPassword
          ? [`Portal sign-in: ${dev.portalEmail} with password ${dev.portalPassword} (${consoleUrl ? `the console at ${consoleUrl}, or ` : ''}signIn at ${portalUrl}).`]
          : []),
        '',
      ]
    : [];
  return [
    // The first line is the ready line that scripts and the conformance harness wait for: keep its start.
    `Hourglass is serving WorkflowService on ${ip}:${port} (store: ${store}, ${names})`,
    ...tlsLines,
    ...(metricsUrl ? [`${METRICS_LINE_PREFIX} ${metricsUrl}`] : []),
    ...(portalUrl ? [`${PORTAL_LINE_PREFIX} ${portalUrl}`] : []),
    ...(consoleUrl ? [`${CONSOLE_LINE_PREFIX} ${consoleUrl}`] : []),
    '',
    ...devLines,
    'Next: run a worker with the official TypeScript SDK (npm install @temporalio/worker), e.g. in worker.ts:',
    "  import { NativeConnection, Worker } from '@temporalio/worker';",
    "  import * as activities from './activities';",
    `  const connection = await NativeConnection.connect({ address: '${address}' });`,
    `  const worker = await Worker.create({ connection, namespace: '${namespace}', taskQueue: 'hello', workflowsPath: require.resolve('./workflows'), activities });`,
    '  await worker.run();',
    'then start workflows with @temporalio/client at the same address.',
    ...tlsSnippet,
    'Ctrl-C stops the server; `hourglass start-dev --help` lists every option.',
  ];
}
