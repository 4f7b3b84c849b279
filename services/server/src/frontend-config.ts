/**
 * What `start-dev` and `hourglass start` give the frontend alike: its listeners (plaintext, and TLS
 * when there is a certificate) and the cluster it reports (GetClusterInfo, GetSystemInfo).
 */
import { createHash } from 'node:crypto';
import { DEFAULT_FRONTEND_CONFIG, type FrontendConfig, type FrontendDeps } from '@hourglass/frontend';
import type { ServerTls } from './tls/server-tls';
import { SERVER_VERSION } from './version';

/** A UUID-shaped id derived from `seed` (the same seed, the same id). */
export function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function frontendListeners(server: { ip: string; port: number; tlsPort: number }, tls: Pick<ServerTls, 'certChain' | 'privateKey'> | undefined): FrontendConfig {
  return {
    ...DEFAULT_FRONTEND_CONFIG,
    host: server.ip,
    port: server.port,
    ...(tls ? { tls: { port: server.tlsPort, certChain: tls.certChain, privateKey: tls.privateKey } } : {}),
    serverVersion: SERVER_VERSION,
  };
}

/** The cluster as the store recorded it; its id is stable for the store's life (derived from its name and creation time). */
export function frontendClusterInfo(metadata: { clusterName: string; createdAt: number; numHistoryShards: number }, backend: string): NonNullable<FrontendDeps['cluster']> {
  return {
    clusterName: metadata.clusterName,
    clusterId: stableUuid(`${metadata.clusterName}:${metadata.createdAt}`),
    historyShardCount: metadata.numHistoryShards,
    persistenceStore: backend,
    visibilityStore: backend,
  };
}
