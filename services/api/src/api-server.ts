/**
 * The GraphQL API over HTTP: POST (or GET) /graphql on its own listener (start-dev: 127.0.0.1:8233,
 * the port of Temporal's dev UI; the portal's web pages are served on the same listener through
 * `fallback`).
 * Apollo Server executes; this file only moves bytes: a body limit, the bearer credential read once
 * per request, and every answer's `extensions.serviceCalls`.
 *
 * Introspection and the Apollo Sandbox landing page only in development; query depth and cost
 * limits always (graphql-armor's rules), so one request cannot fan out without bound.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { unwrapResolverError } from '@apollo/server/errors';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { GraphQLError, GraphQLScalarType, Kind, type GraphQLFormattedError } from 'graphql';
import { HourglassError, type Logger } from '@hourglass/common';
import { createContext, type ApiContext, type ApiDeps } from './context';
import { GRAPHQL_CODE } from './errors';
import type { Caller } from './portal-auth';
import { identityResolvers } from './resolvers/identity.resolver';
import { namespaceResolvers } from './resolvers/namespace.resolver';
import { usageResolvers } from './resolvers/usage.resolver';
import { workflowResolvers } from './resolvers/workflow.resolver';
import { typeDefs } from './schema';

export const GRAPHQL_PATH = '/graphql';
const MAX_BODY_BYTES = 1024 * 1024;
/** Nesting deeper than this is refused before execution. */
export const MAX_QUERY_DEPTH = 10;
/** graphql-armor's cost: objects 2, scalars 1, times a depth factor; a full workflow detail costs a few hundred. */
export const MAX_QUERY_COST = 2000;

export interface ApiServerOptions {
  deps: ApiDeps;
  logger: Logger;
  /** Introspection and the Apollo Sandbox landing page (start-dev only). */
  development: boolean;
  /**
   * Serves every path but /graphql on the same listener (start-dev: the portal's web pages);
   * without it those paths answer 404.
   */
  fallback?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An ISO 8601 instant in UTC.',
  serialize: (value) => value,
  parseValue: (value) => {
    if (typeof value !== 'string' || !Number.isFinite(Date.parse(value))) throw new GraphQLError(`a DateTime is an ISO 8601 string such as 2026-12-01T00:00:00Z`, { extensions: { code: 'BAD_USER_INPUT' } });
    return value;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || !Number.isFinite(Date.parse(ast.value))) throw new GraphQLError(`a DateTime is an ISO 8601 string such as 2026-12-01T00:00:00Z`, { extensions: { code: 'BAD_USER_INPUT' } });
    return ast.value;
  },
});

function literalValue(ast: import('graphql').ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map(literalValue);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalValue(f.value)]));
    default:
      throw new GraphQLError('JSON literals may not use variables inside them', { extensions: { code: 'BAD_USER_INPUT' } });
  }
}

const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: literalValue,
});

/** Domain errors keep their message and get their code; anything unexpected is logged and hidden. */
function formatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof HourglassError) {
      const code = GRAPHQL_CODE[original.code] ?? 'INTERNAL_SERVER_ERROR';
      if (code === 'INTERNAL_SERVER_ERROR') {
        logger.error({ err: original, path: formatted.path }, 'GraphQL resolver failed');
        return { message: 'internal error', ...(formatted.path ? { path: formatted.path } : {}), extensions: { code } };
      }
      return { message: original.message, ...(formatted.path ? { path: formatted.path } : {}), extensions: { code } };
    }
    if (original instanceof GraphQLError || formatted.extensions?.code !== 'INTERNAL_SERVER_ERROR') return { ...formatted, extensions: { code: formatted.extensions?.code ?? 'BAD_REQUEST' } };
    logger.error({ err: original, path: formatted.path }, 'GraphQL resolver failed');
    return { message: 'internal error', ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

/** Every answer says how many service calls it cost. */
const serviceCallsPlugin: ApolloServerPlugin<ApiContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind === 'single') response.body.singleResult.extensions = { ...response.body.singleResult.extensions, serviceCalls: contextValue.stats.serviceCalls };
      },
    };
  },
};

function mergeResolvers(...parts: { Query: object; Mutation: object }[]) {
  return {
    DateTime,
    JSON: JSONScalar,
    Query: Object.assign({}, ...parts.map((p) => p.Query)) as object,
    Mutation: Object.assign({}, ...parts.map((p) => p.Mutation)) as object,
  };
}

export class ApiServer {
  private readonly apollo: ApolloServer<ApiContext>;
  private server: Server | undefined;

  constructor(private readonly options: ApiServerOptions) {
    this.apollo = new ApolloServer<ApiContext>({
      typeDefs,
      resolvers: mergeResolvers(identityResolvers, namespaceResolvers, workflowResolvers, usageResolvers),
      introspection: options.development,
      // The process's owner (start-dev's signal handlers) stops the server, not Apollo.
      stopOnTerminationSignals: false,
      // Reported as validation errors (GRAPHQL_VALIDATION_FAILED), not thrown from the visitor.
      validationRules: [
        maxDepthRule({ n: MAX_QUERY_DEPTH, exposeLimits: true, propagateOnRejection: false, onReject: [(context, error) => context?.reportError(error)] }),
        costLimitRule({ maxCost: MAX_QUERY_COST, exposeLimits: true, propagateOnRejection: false, onReject: [(context, error) => context?.reportError(error)] }),
      ],
      formatError: formatError(options.logger),
      includeStacktraceInErrorResponses: false,
      plugins: [options.development ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }) : ApolloServerPluginLandingPageDisabled(), serviceCallsPlugin],
    });
  }

  /** Starts Apollo and listens; resolves with the bound port (useful with port 0). */
  async listen(host: string, port: number): Promise<number> {
    await this.apollo.start();
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.options.logger.error({ err }, 'GraphQL request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await this.apollo.stop();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== GRAPHQL_PATH && this.options.fallback) {
      await this.options.fallback(req, res);
      return;
    }
    if (url.pathname !== GRAPHQL_PATH) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `nothing here: the GraphQL API is at ${GRAPHQL_PATH}` }));
      return;
    }
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    if (body instanceof GraphQLError) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: body.message, extensions: body.extensions }] }));
      return;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const authorization = req.headers.authorization;
    const { deps } = this.options;
    const response = await this.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: async () => {
        // Authenticated once per request; a missing or bad credential fails each field that needs one (signIn needs none).
        let authenticated: { caller?: Caller; error?: unknown } = {};
        if (authorization) {
          try {
            authenticated = { caller: await deps.auth.authenticate(authorization) };
          } catch (error) {
            authenticated = { error };
          }
        }
        return createContext(deps, authenticated, { xForwardedFor: req.socket.remoteAddress ?? '', signal: abort.signal });
      },
    });
    const outHeaders: Record<string, string> = {};
    for (const [key, value] of response.headers) outHeaders[key] = value;
    res.writeHead(response.status ?? 200, outHeaders);
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }
}

/** The request body as JSON, at most MAX_BODY_BYTES; a GraphQLError (BAD_REQUEST) otherwise. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return new GraphQLError(`the request body is larger than ${MAX_BODY_BYTES} bytes`, { extensions: { code: 'BAD_REQUEST' } });
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return new GraphQLError('the request body is not JSON', { extensions: { code: 'BAD_REQUEST' } });
  }
}
