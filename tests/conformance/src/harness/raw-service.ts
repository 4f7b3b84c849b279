/**
 * Any method of any service Hourglass serves, over a bare grpc-js client, with or without an API
 * key and TLS: the service descriptors come from @temporalio/proto (Temporal's services) or the
 * repository's proto/ (Hourglass's operator API). For authorization and bad-input tests, which
 * must see the server's own answer (no SDK retries, no client-side checks).
 */
import path from 'node:path';
import { Client, Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import protoRoot from '@temporalio/proto';

export const SERVICES = {
  workflow: 'temporal.api.workflowservice.v1.WorkflowService',
  operator: 'temporal.api.operatorservice.v1.OperatorService',
  cloud: 'temporal.api.cloud.cloudservice.v1.CloudService',
  operatorApi: 'hourglass.operator.v1.OperatorApi',
} as const;

let hourglassRoot: protobuf.Root | undefined;

function lookupService(name: string): protobuf.Service {
  if (name.startsWith('hourglass.')) {
    hourglassRoot ??= protobuf.loadSync(path.resolve(__dirname, '../../../../proto/hourglass/operator/v1/operator_service.proto'));
    return hourglassRoot.lookupService(name);
  }
  return (protoRoot as unknown as protobuf.Root).lookupService(name);
}

export interface MethodInfo {
  name: string;
  requestType: protobuf.Type;
  responseType: protobuf.Type;
}

/** Every method of a service, with its resolved message types. */
export function methodsOf(serviceName: string): MethodInfo[] {
  return Object.values(lookupService(serviceName).methods).map((m) => {
    m.resolve();
    return { name: m.name, requestType: m.resolvedRequestType as protobuf.Type, responseType: m.resolvedResponseType as protobuf.Type };
  });
}

export interface RawServiceOptions {
  /** Sent as `authorization: Bearer <key>`. */
  apiKey?: string;
  /** PEM of the CA to trust: TLS; absent: plaintext. */
  tlsCa?: Buffer;
  timeoutMs?: number;
}

export interface RawServiceClient {
  /** Resolves with the response as a plain object; rejects with the gRPC ServiceError. */
  call(service: string, method: string, request: Record<string, unknown>, options?: { apiKey?: string; timeoutMs?: number }): Promise<Record<string, unknown>>;
  /** The status code a call ends with (0: OK) and its message. */
  outcome(service: string, method: string, request: Record<string, unknown>, options?: { apiKey?: string; timeoutMs?: number }): Promise<{ code: number; details: string }>;
  close(): void;
}

export function rawServiceClient(address: string, options: RawServiceOptions = {}): RawServiceClient {
  const client = new Client(address, options.tlsCa ? credentials.createSsl(options.tlsCa) : credentials.createInsecure());
  const call = (service: string, method: string, request: Record<string, unknown>, callOptions: { apiKey?: string; timeoutMs?: number } = {}): Promise<Record<string, unknown>> => {
    const info = methodsOf(service).find((m) => m.name === method);
    if (!info) throw new Error(`${service} has no method ${method}`);
    const metadata = new Metadata();
    const apiKey = callOptions.apiKey ?? options.apiKey;
    if (apiKey !== undefined) metadata.set('authorization', `Bearer ${apiKey}`);
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        `/${service}/${method}`,
        (m: protobuf.Message) => Buffer.from(info.requestType.encode(m).finish()),
        (b: Buffer) => info.responseType.toObject(info.responseType.decode(b), { longs: Number, enums: Number, bytes: Buffer, defaults: false }),
        info.requestType.fromObject(request),
        metadata,
        { deadline: Date.now() + (callOptions.timeoutMs ?? options.timeoutMs ?? 15_000) },
        (err: ServiceError | null, response?: Record<string, unknown>) => (err ? reject(err) : resolve(response ?? {})),
      );
    });
  };
  return {
    call,
    async outcome(service, method, request, callOptions) {
      try {
        await call(service, method, request, callOptions);
        return { code: status.OK, details: '' };
      } catch (err) {
        const e = err as Partial<ServiceError>;
        if (typeof e.code !== 'number') throw err;
        return { code: e.code, details: e.details ?? '' };
      }
    },
    close: () => client.close(),
  };
}
