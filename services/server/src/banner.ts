/**
 * What `hourglass start-dev` prints once it serves: where, on which store, and the next step, a
 * worker with the official SDK pointed at this address and namespace.
 */

export interface BannerInput {
  /** The bound address, `ip:port`. */
  ip: string;
  port: number;
  store: string;
  namespaces: readonly string[];
}

/** The address a client on this machine dials: a wildcard bind is reached on loopback. */
export function clientAddress(ip: string, port: number): string {
  const host = ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function startBanner({ ip, port, store, namespaces }: BannerInput): string[] {
  const address = clientAddress(ip, port);
  const namespace = namespaces[0] ?? 'default';
  const names = namespaces.length > 1 ? `namespaces: ${namespaces.join(', ')}` : `namespace: ${namespace}`;
  return [
    // The first line is the ready line that scripts and the conformance harness wait for: keep its start.
    `Hourglass is serving WorkflowService on ${ip}:${port} (store: ${store}, ${names})`,
    '',
    'Next: run a worker with the official TypeScript SDK (npm install @temporalio/worker), e.g. in worker.ts:',
    "  import { NativeConnection, Worker } from '@temporalio/worker';",
    "  import * as activities from './activities';",
    `  const connection = await NativeConnection.connect({ address: '${address}' });`,
    `  const worker = await Worker.create({ connection, namespace: '${namespace}', taskQueue: 'hello', workflowsPath: require.resolve('./workflows'), activities });`,
    '  await worker.run();',
    `then start workflows with @temporalio/client at the same address. Ctrl-C stops the server; \`hourglass start-dev --help\` lists every option.`,
  ];
}
