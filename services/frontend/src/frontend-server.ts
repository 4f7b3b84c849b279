/**
 * The gRPC server: each registered service (WorkflowService, OperatorService, and the TestService
 * of the time-skipping server) with every method of its descriptor behind the interceptor chain.
 * Methods without a handler pass the chain too and then answer UNIMPLEMENTED with their name.
 *
 * Requests larger than `Limits.grpcMaxMessageSize` are refused by grpc-js from the message's length
 * prefix, before the body is buffered or decoded (RESOURCE_EXHAUSTED); that applies to the
 * decompressed size of gzip requests too, which the worker's native connection sends by default
 * (small ones are inflated in one call: grpc/inflate.ts).
 *
 * With `config.tls` it listens twice: plaintext on `config.port` and TLS on `config.tls.port`, two
 * grpc-js servers over one method table (the same handlers, the same interceptor chain). Two servers
 * because each call must know which listener it came in on (`CallContext.transport`), and grpc-js's
 * `getAuthContext()` cannot tell: it is empty for a TLS connection without a client certificate,
 * exactly as for a plaintext one.
 */
import { HealthImplementation } from 'grpc-health-check';
import { Metadata, Server, ServerCredentials, type ServerUnaryCall, type ServiceError, type UntypedServiceImplementation, type sendUnaryData } from '@grpc/grpc-js';
import { CancelledError, DEFAULT_SETTINGS, Limits, UnimplementedError, type Logger, type Settings } from '@hourglass/common';
import { CallCancellation, type CallContext, type Transport } from './call-context';
import type { FrontendConfig } from './config';
import { toServiceError } from './grpc/errors';
import { installInflate } from './grpc/inflate';
import { buildServiceDefinition, type BuiltService } from './grpc/service-definition';
import { handlerContext, type Call, type InterceptorChain, type UnaryHandler } from './interceptors';
import { methodSpec, type MethodSpec } from './method-table';
import type { Principal } from '@hourglass/identity';

function deadlineMs(deadline: Date | number): number {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : 0;
}

export interface ServiceRegistration {
  serviceName: string;
  handlers: Record<string, UnaryHandler>;
}

/** One method as every listener serves it. */
interface ServedMethod {
  service: string;
  method: string;
  spec: MethodSpec;
  handler: UnaryHandler;
}

/** A service definition with its methods, built once and added to each listener's grpc-js server. */
interface ServedService {
  definition: BuiltService['definition'];
  methods: ServedMethod[];
}

interface Listener {
  readonly transport: Transport;
  readonly server: Server;
  port: number;
}

/** A listener could not be bound (its port is taken, its address is not this host's). */
export class ListenError extends Error {
  constructor(
    readonly transport: Transport,
    readonly address: string,
    cause: Error,
  ) {
    super(`cannot serve ${transport === 'tls' ? 'TLS' : 'plaintext gRPC'} on ${address}: ${cause.message}`, { cause });
    this.name = 'ListenError';
  }
}

/** "temporal.api.workflowservice.v1.WorkflowService" → "WorkflowService": how users name a service. */
function shortServiceName(service: string): string {
  return service.slice(service.lastIndexOf('.') + 1);
}

function unimplemented(service: string, method: string): UnaryHandler {
  const error = new UnimplementedError(`${shortServiceName(service)}/${method} is not implemented by Hourglass`);
  return async () => {
    throw error;
  };
}

/** The abort reason of a call its caller cancelled. */
const CALL_CANCELLED = new CancelledError('the caller cancelled the call');

export class FrontendServer {
  private readonly plaintext: Listener;
  private readonly tls: Listener | undefined;
  /**
   * grpc.health.v1.Health on every listener (the whole server as '' and each service by its full
   * name): what load balancers and Kubernetes probes ask. Outside the interceptor chain on purpose:
   * probes carry no API key and the answer says nothing about any tenant.
   */
  private readonly health: HealthImplementation;
  private readonly servedServiceNames: string[];
  /** `service/method` → the method as the listeners serve it, for in-process calls. */
  private readonly methods = new Map<string, ServedMethod>();

  constructor(
    private readonly config: FrontendConfig,
    private readonly logger: Logger,
    private readonly chain: InterceptorChain,
    registrations: ServiceRegistration[],
    settings: Settings = DEFAULT_SETTINGS,
  ) {
    installInflate();
    const services = registrations.map((registration) => served(buildServiceDefinition(registration.serviceName), registration.handlers));
    this.servedServiceNames = registrations.map((r) => r.serviceName);
    for (const service of services) for (const method of service.methods) this.methods.set(`${method.service}/${method.method}`, method);
    this.health = new HealthImplementation(Object.fromEntries(['', ...this.servedServiceNames].map((name) => [name, 'SERVING' as const])));
    const options = {
      'grpc.max_receive_message_length': settings.get(Limits.grpcMaxMessageSize),
      // Responses are not capped (grpc-js' default): a history page may legitimately exceed 4 MB,
      // and the SDKs accept up to 128 MB.
      'grpc.keepalive_permit_without_calls': 1,
    };
    this.plaintext = this.listener('plaintext', services, options);
    this.tls = config.tls ? this.listener('tls', services, options) : undefined;
  }

  private listener(transport: Transport, services: ServedService[], options: Record<string, number>): Listener {
    const server = new Server(options);
    for (const service of services) {
      const implementation: UntypedServiceImplementation = {};
      for (const method of service.methods) implementation[method.method] = this.unaryCall(method, transport);
      server.addService(service.definition, implementation);
    }
    this.health.addToServer(server);
    return { transport, server, port: 0 };
  }

  private unaryCall({ service, method, spec, handler }: ServedMethod, transport: Transport) {
    const fullMethod = `/${service}/${method}`;
    return (grpcCall: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
      const cancellation = new CallCancellation();
      // grpc-js reports 'cancelled' when any call's stream closes, answered or not: only a call
      // still running is aborted, and with a ready-made reason (a bare abort() builds a DOMException
      // with a stack trace, ~16 µs, on every call).
      let answered = false;
      grpcCall.on('cancelled', () => {
        if (!answered) cancellation.cancel(CALL_CANCELLED);
      });
      const context: CallContext = {
        deadline: deadlineMs(grpcCall.getDeadline()),
        get signal(): AbortSignal {
          return cancellation.signal;
        },
        metadata: grpcCall.metadata,
        transport,
      };
      const call: Call = {
        service,
        method,
        fullMethod,
        spec,
        request: grpcCall.request,
        context,
        logger: this.logger,
        namespaceName: '',
        namespace: undefined,
        principal: undefined,
        taskToken: undefined,
      };
      this.chain.run(call, (c) => handler(c.request, handlerContext(c))).then(
        (response) => {
          answered = true;
          callback(null, response);
        },
        (err: unknown) => {
          answered = true;
          callback(toServiceError(err, method, call.logger) as ServiceError);
        },
      );
    };
  }

  /**
   * Calls a method in process, through the same interceptor chain and method-table row as a gRPC
   * call (namespace resolution, authorization, rate limits, validation, metering), as `principal`,
   * whom the caller's own edge authenticated (the GraphQL API). Resolves with the handler's response
   * or rejects with the domain error (HourglassError) the chain or the handler threw.
   */
  invoke(service: string, method: string, request: object, caller: { principal: Principal; signal?: AbortSignal; deadline?: number }): Promise<unknown> {
    const served = this.methods.get(`${service}/${method}`);
    if (!served) return Promise.reject(new UnimplementedError(`${shortServiceName(service)}/${method} is not served`));
    // Without a caller's signal, one that is never aborted, made (as a gRPC call's) only if read.
    const cancellation = new CallCancellation();
    const context: CallContext = {
      deadline: caller.deadline ?? 0,
      get signal(): AbortSignal {
        return caller.signal ?? cancellation.signal;
      },
      metadata: new Metadata(),
      transport: 'tls',
      authenticated: caller.principal,
    };
    const call: Call = {
      service,
      method,
      fullMethod: `/${service}/${method}`,
      spec: served.spec,
      request,
      context,
      logger: this.logger,
      namespaceName: '',
      namespace: undefined,
      principal: undefined,
      taskToken: undefined,
    };
    return this.chain.run(call, (c) => served.handler(c.request, handlerContext(c)));
  }

  /**
   * Binds and serves, plaintext first, then TLS; resolves with the plaintext port (useful when
   * config.port is 0). When the TLS port cannot be bound, neither listener stays up.
   */
  async start(): Promise<number> {
    this.plaintext.port = await bind(this.plaintext, `${this.config.host}:${this.config.port}`, ServerCredentials.createInsecure());
    const tls = this.config.tls;
    if (this.tls && tls) {
      try {
        // No client certificates are asked for: callers authenticate with API keys in metadata.
        const credentials = ServerCredentials.createSsl(null, [{ cert_chain: tls.certChain, private_key: tls.privateKey }], false);
        this.tls.port = await bind(this.tls, `${this.config.host}:${tls.port}`, credentials);
      } catch (err) {
        this.plaintext.server.forceShutdown();
        throw err;
      }
    }
    return this.plaintext.port;
  }

  /** The plaintext listener's port, once started. */
  get port(): number {
    return this.plaintext.port;
  }

  /** The TLS listener's port once started; undefined without TLS. */
  get tlsPort(): number | undefined {
    return this.tls?.port;
  }

  /** Stops accepting calls on every listener, lets running ones finish for up to `graceMs`, then cuts the rest. */
  async stop(graceMs = 2000): Promise<void> {
    // Health watchers and probes learn first that this server is going away.
    for (const name of ['', ...this.servedServiceNames]) this.health.setStatus(name, 'NOT_SERVING');
    await Promise.all([this.plaintext, ...(this.tls ? [this.tls] : [])].map(({ server }) => shutdown(server, graceMs)));
  }
}

function served(service: BuiltService, handlers: Record<string, UnaryHandler>): ServedService {
  for (const name of Object.keys(handlers)) {
    if (!service.methodNames.includes(name)) throw new Error(`handler ${name} names no method of ${service.name}`);
  }
  const methods = service.methodNames.map((method): ServedMethod => {
    const spec = methodSpec(service.name, method);
    if (!spec) throw new Error(`${service.name}/${method} has no row in the method table (src/method-table.ts)`);
    return { service: service.name, method, spec, handler: handlers[method] ?? unimplemented(service.name, method) };
  });
  return { definition: service.definition, methods };
}

function bind({ server, transport }: Listener, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err ? reject(new ListenError(transport, address, err)) : resolve(port)));
  });
}

function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
