/**
 * The gRPC server: WorkflowService (handlers from workflow-service.ts; anything else answers
 * UNIMPLEMENTED with its name). grpc-js decompresses gzip requests itself, which the worker's
 * native connection sends by default.
 */
import { Server, ServerCredentials, status, type ServerUnaryCall, type ServiceError, type UntypedServiceImplementation, type sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from '@hourglass/common';
import type { CallContext } from './call-context';
import type { FrontendConfig } from './config';
import { toServiceError } from './grpc/errors';
import { buildServiceDefinition, WORKFLOW_SERVICE, type BuiltService } from './grpc/service-definition';
import type { UnaryHandler } from './workflow-service';

function deadlineMs(deadline: Date | number): number {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : 0;
}

export function unaryCall(method: string, handler: UnaryHandler, logger: Logger) {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    const context: CallContext = { deadline: deadlineMs(call.getDeadline()), signal: abort.signal, metadata: call.metadata };
    handler(call.request, context).then(
      (response) => callback(null, response),
      (err: unknown) => {
        const error = toServiceError(err, method, logger);
        logger.debug({ method, code: error.code, message: error.details }, 'rpc failed');
        callback(error as ServiceError);
      },
    );
  };
}

function unimplemented(service: string, method: string) {
  return (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
    callback({ code: status.UNIMPLEMENTED, details: `${service}/${method} is not implemented by Hourglass yet` } as ServiceError);
  };
}

export interface ServiceRegistration {
  serviceName: string;
  handlers: Record<string, UnaryHandler>;
}

export class FrontendServer {
  private readonly server: Server;
  private boundPort = 0;

  constructor(private readonly config: FrontendConfig, private readonly logger: Logger, registrations: ServiceRegistration[]) {
    this.server = new Server({
      'grpc.max_receive_message_length': config.maxReceiveMessageBytes,
      'grpc.max_send_message_length': config.maxReceiveMessageBytes,
      'grpc.keepalive_permit_without_calls': 1,
    });
    for (const registration of registrations) this.register(buildServiceDefinition(registration.serviceName), registration.handlers);
  }

  static forWorkflowService(config: FrontendConfig, logger: Logger, handlers: Record<string, UnaryHandler>): FrontendServer {
    return new FrontendServer(config, logger, [{ serviceName: WORKFLOW_SERVICE, handlers }]);
  }

  private register(service: BuiltService, handlers: Record<string, UnaryHandler>): void {
    const implementation: UntypedServiceImplementation = {};
    for (const method of service.methodNames) {
      const handler = handlers[method];
      implementation[method] = handler ? unaryCall(method, handler, this.logger) : unimplemented(service.name, method);
    }
    this.server.addService(service.definition, implementation);
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
