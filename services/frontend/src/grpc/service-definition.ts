/**
 * grpc-js service definitions built from the protobufjs root that `@temporalio/proto` ships:
 * the same message types the official SDK encodes with, never a copy of Temporal's protos.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import protoRoot from '@temporalio/proto';

interface MessageType {
  encode(message: unknown): { finish(): Uint8Array };
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

const root = protoRoot as unknown as { lookupService(name: string): ReflectedService };

export const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
export const OPERATOR_SERVICE = 'temporal.api.operatorservice.v1.OperatorService';
export const TEST_SERVICE = 'temporal.api.testservice.v1.TestService';

export interface BuiltService {
  name: string;
  methodNames: string[];
  definition: ServiceDefinition;
}

export function buildServiceDefinition(serviceName: string): BuiltService {
  const service = root.lookupService(serviceName);
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service.methods)) {
    method.resolve();
    const req = method.resolvedRequestType as MessageType;
    const res = method.resolvedResponseType as MessageType;
    definition[name] = {
      path: `/${serviceName}/${name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: (m: unknown) => Buffer.from(req.encode(m).finish()),
      requestDeserialize: (b: Buffer) => req.decode(b),
      responseSerialize: (m: unknown) => Buffer.from(res.encode(m).finish()),
      responseDeserialize: (b: Buffer) => res.decode(b),
    };
  }
  return { name: serviceName, methodNames: Object.keys(service.methods), definition: definition as ServiceDefinition };
}
