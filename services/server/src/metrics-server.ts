/**
 * The metrics endpoint, over HTTP beside the gRPC listeners (`--metrics-address`):
 *
 * - `GET /metrics`: every metric of the process in Prometheus' text format, for the platform's own
 *   Prometheus (bind it to an address only operators reach; start-dev binds 127.0.0.1).
 * - `GET /v1/metrics` with `Authorization: Bearer <API key>`: a tenant's scrape, as Temporal Cloud's
 *   OpenMetrics endpoint: only the series of the namespaces the key may read metrics of (the
 *   account roles metrics-read, admin and owner, on their own account's namespaces); keys are
 *   verified by the same ApiKeyAuthenticator as gRPC calls (hashed at rest, never logged).
 *
 * - `GET /healthz`: 200 while the process serves (probes of orchestrators).
 *
 * Names and labels of every metric: docs/observability.md.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { filterExposition, isHourglassError, type Logger, type ServerMetrics } from '@hourglass/common';
import { assertAccountActive, mayReadMetrics, mayReadNamespaceMetrics, type ApiKeyAuthenticator } from '@hourglass/identity';
import type { NamespaceRecord } from '@hourglass/persistence';

export interface MetricsServerDeps {
  metrics: ServerMetrics;
  logger: Logger;
  /** Without identity, `/v1/metrics` answers 404. */
  keys?: ApiKeyAuthenticator;
  /** The namespace record of a name (cached by the registry); throws NOT_FOUND for an unknown one. */
  namespaceByName?: (name: string) => Promise<NamespaceRecord>;
}

const BEARER = /^Bearer\s+(\S+)$/i;

export class MetricsServer {
  private readonly server: Server;

  constructor(private readonly deps: MetricsServerDeps) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        deps.logger.error({ err }, 'metrics endpoint failed');
        if (!res.headersSent) answer(res, 500, 'internal error\n');
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'only GET\n');
    if (path === '/healthz') return answer(res, 200, 'ok\n');
    if (path === '/metrics') return answer(res, 200, await this.deps.metrics.exposition(), this.deps.metrics.contentType);
    if (path === '/v1/metrics' && this.deps.keys) return this.tenantScrape(req, res, this.deps.keys);
    return answer(res, 404, 'not found: /metrics (all metrics) or /v1/metrics (a namespace-scoped scrape with an API key)\n');
  }

  private async tenantScrape(req: IncomingMessage, res: ServerResponse, keys: ApiKeyAuthenticator): Promise<void> {
    const header = req.headers.authorization;
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    if (!token) return answer(res, 401, 'send an API key as "Authorization: Bearer <key>"\n', undefined, { 'www-authenticate': 'Bearer' });
    let principal;
    try {
      principal = await keys.authenticate(token);
      assertAccountActive(principal);
    } catch (err) {
      if (!isHourglassError(err)) throw err;
      return answer(res, err.code === 'PERMISSION_DENIED' ? 403 : 401, `${err.message}\n`);
    }
    if (!mayReadMetrics(principal)) return answer(res, 403, 'this key may not read metrics: it needs the account role metrics-read, admin or owner\n');
    // The decision per namespace name is made once per scrape, from the registry's cached records.
    const names = new Set<string>();
    const text = await this.deps.metrics.exposition();
    for (const match of text.matchAll(/[{,]namespace="([^"\\]*)"/g)) if (match[1]) names.add(match[1]);
    const readable = new Set<string>();
    for (const name of names) {
      const record = await this.deps.namespaceByName?.(name).catch(() => undefined);
      if (record && mayReadNamespaceMetrics(principal, record)) readable.add(name);
    }
    return answer(res, 200, filterExposition(text, (ns) => readable.has(ns)), this.deps.metrics.contentType);
  }

  /** Listens; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

function answer(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  res.end(body);
}
