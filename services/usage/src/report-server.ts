/**
 * The HTTP listener that serves billing report downloads: GET /billing-reports/<id>?expires=&sig=
 * answers the CSV when the signed URL holds and has not expired, 403 otherwise. Nothing else is
 * served. Plain HTTP: put it behind the deployment's TLS ingress (billing.reportBaseUrl) outside
 * development.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PermissionDeniedError, NotFoundError, type Logger } from '@hourglass/common';
import type { Billing } from './billing';

export interface ReportServer {
  /** The base URL downloads are under. */
  readonly baseUrl: string;
  stop(): Promise<void>;
}

export async function startReportServer(billing: Billing, host: string, logger: Logger): Promise<ReportServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://report');
    const match = /^\/billing-reports\/([A-Za-z0-9_.-]{1,4000})$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const id = match[1] as string;
    billing.download(id, url.searchParams.get('expires'), url.searchParams.get('sig')).then(
      (csv) => {
        res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="billing-report.csv"', 'cache-control': 'no-store' }).end(csv);
      },
      (err: unknown) => {
        const forbidden = err instanceof PermissionDeniedError || err instanceof NotFoundError;
        if (!forbidden) logger.warn({ err }, 'billing report download failed');
        res.writeHead(forbidden ? 403 : 500, { 'content-type': 'text/plain' }).end(forbidden ? `${(err as Error).message}\n` : 'internal error\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(billing.config?.reportPort ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    baseUrl: (billing.config?.reportBaseUrl ?? `http://${shownHost}:${port}`).replace(/\/$/, ''),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
