/**
 * The client side of `hourglass admin`: calls of the operator API (proto/hourglass/operator/v1)
 * with an operator key, over plaintext or TLS. The key comes from HOURGLASS_OPERATOR_API_KEY, or
 * under start-dev from its dev credentials file; it is sent, never printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';

export const OPERATOR_API = 'hourglass.operator.v1.OperatorApi';
export const OPERATOR_KEY_ENV = 'HOURGLASS_OPERATOR_API_KEY';

export interface AdminConnection {
  address: string;
  /** PEM of the CA to trust; undefined: plaintext. */
  tlsCa?: Buffer | undefined;
  operatorKey: string;
}

/** Where a key was found, for the error that says none was. */
export function resolveOperatorKey(env: NodeJS.ProcessEnv, credentialsFile: string): string {
  const fromEnv = env[OPERATOR_KEY_ENV];
  if (fromEnv) return fromEnv;
  const file = path.resolve(credentialsFile);
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { operatorApiKey?: unknown };
    if (typeof parsed.operatorApiKey === 'string' && parsed.operatorApiKey) return parsed.operatorApiKey;
  }
  throw new Error(`no operator key: set ${OPERATOR_KEY_ENV}, or run start-dev, which writes one to ${file}`);
}

/** One unary call of the operator API; resolves with the decoded response as a plain object. */
export async function callOperatorApi(connection: AdminConnection, method: string, request: Record<string, unknown>, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  // Loaded here, not at the top: every `hourglass` command loads this module, few call the operator API.
  const { hourglassProtoRoot } = await import('@hourglass/frontend');
  const service = hourglassProtoRoot().lookupService(OPERATOR_API);
  const rpc = service.methods[method];
  if (!rpc) throw new Error(`the operator API has no method ${method}`);
  rpc.resolve();
  const requestType = rpc.resolvedRequestType as protobuf.Type;
  const responseType = rpc.resolvedResponseType as protobuf.Type;
  const problem = requestType.verify(request);
  if (problem) throw new Error(`bad ${method} request: ${problem}`);
  const client = new Client(connection.address, connection.tlsCa ? credentials.createSsl(connection.tlsCa) : credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${connection.operatorKey}`);
  try {
    const response = await new Promise<Buffer>((resolve, reject) => {
      client.makeUnaryRequest(
        `/${OPERATOR_API}/${method}`,
        (m: protobuf.Message) => Buffer.from(requestType.encode(m).finish()),
        (b: Buffer) => b,
        requestType.fromObject(request),
        metadata,
        { deadline: Date.now() + timeoutMs },
        (err: ServiceError | null, value?: Buffer) => (err ? reject(err) : resolve(value as Buffer)),
      );
    });
    return responseType.toObject(responseType.decode(response), { longs: Number, defaults: true }) as Record<string, unknown>;
  } finally {
    client.close();
  }
}
