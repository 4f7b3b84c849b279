/**
 * The gRPC server: each registered service (WorkflowService, OperatorService, and the TestService
 * of the time-skipping server) with every method of its descriptor behind the interceptor chain.
 * Methods without a handler pass the chain too and then answer UNIMPLEMENTED with their name.
 *
 * Requests larger than `Limits.grpcMaxMessageSize` are refused by grpc-js from the message's length
 * prefix, before the body is buffered or decoded (RESOURCE_EXHAUSTED); that applies to the
 * decompressed size of gzip requests too, which the worker's native connection sends by default
 * (small ones are inflated in one call: grpc/inflate.ts).
 */
import { Server, ServerCredentials, type ServerUnaryCall, type ServiceError, type UntypedServiceImplementation, type sendUnaryData } from '@grpc/grpc-js';
import { CancelledError, DEFAULT_SETTINGS, Limits, UnimplementedError, type Logger, type Settings } from '@hourglass/common';
import type { CallContext } from './call-context';
import type { FrontendConfig } from './config';
import { toServiceError } from './grpc/errors';
import { installInflate } from './grpc/inflate';
import { buildServiceDefinition, type BuiltService } from './grpc/service-definition';
import { handlerContext, type Call, type InterceptorChain, type UnaryHandler } from './interceptors';
import { methodSpec, type MethodSpec } from './method-table';

function deadlineMs(deadline: Date | number): number {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : 0;
}

export interface ServiceRegistration {
  serviceName: string;
  handlers: Record<string, UnaryHandler>;
}

function unimplemented(service: string, method: string): UnaryHandler {
  return async () => {
    throw new UnimplementedError(`${service}/${method} is not implemented by Hourglass yet`);
  };
}

/** The abort reason of a call its caller cancelled. */
const CALL_CANCELLED = new CancelledError('the caller cancelled the call');

export class FrontendServer {
  private readonly server: Server;
  private boundPort = 0;

  constructor(
    private readonly config: FrontendConfig,
    private readonly logger: Logger,
    private readonly chain: InterceptorChain,
    registrations: ServiceRegistration[],
    settings: Settings = DEFAULT_SETTINGS,
  ) {
    installInflate();
    this.server = new Server({
      'grpc.max_receive_message_length': settings.get(Limits.grpcMaxMessageSize),
      // Responses are not capped (grpc-js' default): a history page may legitimately exceed 4 MB,
      // and the SDKs accept up to 128 MB.
      'grpc.keepalive_permit_without_calls': 1,
    });
    for (const registration of registrations) this.register(buildServiceDefinition(registration.serviceName), registration.handlers);
  }

  private register(service: BuiltService, handlers: Record<string, UnaryHandler>): void {
    for (const name of Object.keys(handlers)) {
      if (!service.methodNames.includes(name)) throw new Error(`handler ${name} names no method of ${service.name}`);
    }
    const implementation: UntypedServiceImplementation = {};
    for (const method of service.methodNames) {
      const spec = methodSpec(service.name, method);
      if (!spec) throw new Error(`${service.name}/${method} has no row in the method table (src/method-table.ts)`);
      implementation[method] = this.unaryCall(service.name, method, spec, handlers[method] ?? unimplemented(service.name, method));
    }
    this.server.addService(service.definition, implementation);
  }

  private unaryCall(service: string, method: string, spec: MethodSpec, handler: UnaryHandler) {
    const fullMethod = `/${service}/${method}`;
    return (grpcCall: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
      const abort = new AbortController();
      // grpc-js reports 'cancelled' when any call's stream closes, answered or not: only a call
      // still running is aborted, and with a ready-made reason (a bare abort() builds a DOMException
      // with a stack trace, ~16 µs, on every call).
      let answered = false;
      grpcCall.on('cancelled', () => {
        if (!answered) abort.abort(CALL_CANCELLED);
      });
      const context: CallContext = { deadline: deadlineMs(grpcCall.getDeadline()), signal: abort.signal, metadata: grpcCall.metadata, transport: 'plaintext' };
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

  /** Binds and serves; resolves with the port (useful when config.port is 0). */
  async start(): Promise<number> {
    const address = `${this.config.host}:${this.config.port}`;
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  /** Stops accepting calls, lets running ones finish for up to `graceMs`, then cuts the rest. */
  async stop(graceMs = 2000): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
