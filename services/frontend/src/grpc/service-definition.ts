/**
 * grpc-js service definitions built from the protobufjs root that `@temporalio/proto` ships:
 * the same message types the official SDK encodes with, never a copy of Temporal's protos.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import protoRoot from '@temporalio/proto';
import type { ReflectedType } from '../validation/request-shape';
import { hourglassProtoRoot } from './hourglass-protos';

export { WORKFLOW_SERVICE, OPERATOR_SERVICE, TEST_SERVICE } from '../method-table';

interface MessageType extends ReflectedType {
  encode(message: unknown): { len: number; finish(): Uint8Array };
  decode(data: Uint8Array): unknown;
}

interface ReflectedMethod {
  resolve(): void;
  resolvedRequestType: MessageType | null;
  resolvedResponseType: MessageType | null;
  requestStream?: boolean;
  responseStream?: boolean;
}

interface ReflectedService {
  fullName: string;
  methods: Record<string, ReflectedMethod>;
}

const temporalRoot = protoRoot as unknown as { lookupService(name: string): ReflectedService };

/** Temporal's services from @temporalio/proto; Hourglass's own (`hourglass.*`) from proto/. */
function lookupService(name: string): ReflectedService {
  return name.startsWith('hourglass.') ? (hourglassProtoRoot().lookupService(name) as unknown as ReflectedService) : temporalRoot.lookupService(name);
}

export interface ServiceMethod {
  name: string;
  requestType: MessageType;
  responseType: MessageType;
  streaming: boolean;
}

const methodsCache = new Map<string, ServiceMethod[]>();

/** Every method of a service as @temporalio/proto describes it (resolved once). */
export function serviceMethods(serviceName: string): ServiceMethod[] {
  let methods = methodsCache.get(serviceName);
  if (!methods) {
    methods = Object.entries(lookupService(serviceName).methods).map(([name, method]) => {
      method.resolve();
      return {
        name,
        requestType: method.resolvedRequestType as MessageType,
        responseType: method.resolvedResponseType as MessageType,
        streaming: method.requestStream === true || method.responseStream === true,
      };
    });
    methodsCache.set(serviceName, methods);
  }
  return methods;
}

/** The request message type of one method; undefined when the service has no such method. */
export function requestTypeOf(serviceName: string, method: string): MessageType | undefined {
  return serviceMethods(serviceName).find((m) => m.name === method)?.requestType;
}

export interface BuiltService {
  name: string;
  methodNames: string[];
  definition: ServiceDefinition;
}

export function buildServiceDefinition(serviceName: string): BuiltService {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  const methods = serviceMethods(serviceName);
  for (const { name, requestType: req, responseType: res, streaming } of methods) {
    if (streaming) throw new Error(`${serviceName}/${name} streams; the frontend serves unary methods only`);
    definition[name] = {
      path: `/${serviceName}/${name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: unknown) => Buffer.from(req.encode(m).finish()),
      requestDeserialize: (b: Buffer) => req.decode(b),
      responseSerialize: (m: unknown) => Buffer.from(res.encode(m).finish()),
      responseDeserialize: (b: Buffer) => res.decode(b),
    };
  }
  return { name: serviceName, methodNames: methods.map((m) => m.name), definition: definition as ServiceDefinition };
}
