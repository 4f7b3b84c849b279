/**
 * The portal's web console (the Next.js app in web/) on the portal listener, beside /graphql.
 *
 * Next is loaded lazily, on the first request that is not /graphql, and only when the web build
 * exists (web/.next/BUILD_ID, written by `npm run build`) and `--no-portal-web` was not given:
 * servers that never show a page (the test harness's) never pay Next's start-up.
 *
 * Next runs in this process (`next({ dev: false, dir })`, its request handler); its route handlers
 * reach GraphQL over loopback at HOURGLASS_PORTAL_GRAPHQL_URL. next-auth signs its session cookie
 * with NEXTAUTH_SECRET: a random secret persisted beside the dev credentials (mode 0600), a fresh
 * one per process when there is no credentials file. The secret is never logged.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from '@hourglass/common';

/** web/ of this checkout (services/server/dist → ../../../web). */
export const WEB_DIR = path.resolve(__dirname, '..', '..', '..', 'web');

/** Whether `npm run build` produced the web build. */
export function webBuildExists(dir = WEB_DIR): boolean {
  return existsSync(path.join(dir, '.next', 'BUILD_ID'));
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
interface NextApp {
  prepare(): Promise<void>;
  getRequestHandler(): RequestHandler;
  close?(): Promise<void>;
}
type NextFactory = (options: { dev: boolean; dir: string; quiet?: boolean; hostname?: string; port?: number; customServer?: boolean }) => NextApp;

/** The secret next-auth signs sessions with: read from `file`, created there (0600) the first time. */
export function portalWebSecret(file: string | undefined): string {
  if (!file) return randomBytes(32).toString('base64url');
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

export interface PortalWebOptions {
  logger: Logger;
  /** Where the next-auth secret is kept (beside the dev credentials); undefined: a fresh one. */
  secretFile: string | undefined;
  /** What the console's route handlers call: `http://127.0.0.1:<port>/graphql` (known once the listener is bound). */
  graphqlUrl: () => string;
  /** Shown in the namespace "connect" panel. */
  grpcAddress: string;
  tlsAddress: string | undefined;
  dir?: string;
}

export interface PortalWeb {
  handle: RequestHandler;
  stop(): Promise<void>;
}

/** A handler that loads Next on first use; undefined when there is no web build. */
export function portalWeb(options: PortalWebOptions): PortalWeb | undefined {
  const dir = options.dir ?? WEB_DIR;
  if (!webBuildExists(dir)) {
    options.logger.info(`no portal web build in ${dir} (npm run build makes it): the portal serves /graphql only`);
    return undefined;
  }
  let loading: Promise<{ app: NextApp; handler: RequestHandler }> | undefined;
  const load = () => {
    loading ??= (async () => {
      process.env.NEXT_TELEMETRY_DISABLED = '1';
      process.env.NEXTAUTH_SECRET = portalWebSecret(options.secretFile);
      // next-auth takes its origin from the request's Host (a dev server reached as localhost or 127.0.0.1).
      process.env.AUTH_TRUST_HOST = 'true';
      process.env.HOURGLASS_PORTAL_GRAPHQL_URL = options.graphqlUrl();
      process.env.HOURGLASS_GRPC_ADDRESS = options.grpcAddress;
      if (options.tlsAddress) process.env.HOURGLASS_TLS_ADDRESS = options.tlsAddress;
      else delete process.env.HOURGLASS_TLS_ADDRESS;
      const next = createRequire(path.join(dir, 'package.json'))('next') as NextFactory | { default: NextFactory };
      const factory = typeof next === 'function' ? next : next.default;
      const app = factory({ dev: false, dir, quiet: true, customServer: true });
      await app.prepare();
      options.logger.info('portal web console loaded');
      return { app, handler: app.getRequestHandler() };
    })();
    return loading;
  };
  return {
    handle: async (req, res) => {
      // next-auth builds its URLs from these; a plain-HTTP listener.
      req.headers['x-forwarded-proto'] ??= 'http';
      const { handler } = await load();
      await handler(req, res);
    },
    stop: async () => {
      if (!loading) return;
      const { app } = await loading.catch(() => ({ app: undefined }));
      await app?.close?.().catch(() => undefined);
    },
  };
}
