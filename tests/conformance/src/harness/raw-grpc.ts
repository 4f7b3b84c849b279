import { readFileSync } from 'node:fs';
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { temporal } from '@temporalio/proto';

type Ws = typeof temporal.api.workflowservice.v1;
type MethodName = { [K in keyof Ws]: K extends `${infer M}Request` ? (`${M}Response` extends keyof Ws ? M : never) : never }[keyof Ws];
/** The request interface of a WorkflowService method, e.g. `WsRequest<'StartWorkflowExecution'>`. */
export type WsRequest<M extends MethodName> = Ws[`${M}Request`] extends { encode(message: infer R, ...rest: never[]): unknown } ? R : never;
export type WsResponse<M extends MethodName> = Ws[`${M}Response`] extends { decode(...args: never[]): infer R } ? R : never;

interface Codec {
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
}

export const WORKFLOW_SERVICE_PATH = '/temporal.api.workflowservice.v1.WorkflowService';

export interface RawCallOptions {
  /** Default 15 s. */
  timeoutMs?: number;
}

/**
 * The WorkflowService over a bare grpc-js client: no SDK retries (the SDK retries RESOURCE_EXHAUSTED,
 * which would resend a refused 5 MB request ten times), no client-side checks, and the encoded
 * bytes under the test's control. For bad-input tests.
 *
 * ```ts
 * const raw = rawWorkflowService(server.address);
 * const err = await refusal(raw.call('StartWorkflowExecution', { namespace: 'default', workflowId: '' }));
 * raw.close();
 * ```
 */
export interface RawWorkflowService {
  /** `request` is loosely typed on purpose: bad-input tests send what the types forbid (undefined enum values…). */
  call<M extends MethodName>(method: M, request: WsRequest<M> | Record<string, unknown>, options?: RawCallOptions): Promise<WsResponse<M>>;
  /** Sends bytes as they are (any size, any content). */
  callBytes(method: MethodName, body: Uint8Array, options?: RawCallOptions): Promise<Buffer>;
  close(): void;
}

export function rawWorkflowService(address: string): RawWorkflowService {
  const client = new Client(address, credentials.createInsecure(), { 'grpc.max_receive_message_length': 128 * 1024 * 1024 });
  const ws = temporal.api.workflowservice.v1 as unknown as Record<string, Codec>;
  const callBytes = (method: string, body: Uint8Array, options: RawCallOptions = {}): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        `${WORKFLOW_SERVICE_PATH}/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        { deadline: Date.now() + (options.timeoutMs ?? 15_000) },
        (err: ServiceError | null, response?: Buffer) => (err ? reject(err) : resolve(response as Buffer)),
      );
    });
  return {
    async call(method, request, options) {
      const requestCodec = ws[`${method}Request`] as Codec;
      const responseCodec = ws[`${method}Response`] as Codec;
      const bytes = await callBytes(method, requestCodec.encode(request).finish(), options);
      return responseCodec.decode(bytes) as never;
    },
    callBytes,
    close: () => client.close(),
  };
}

/** Resolves with the gRPC error `call` fails with; fails if it succeeds or fails with something else. */
export async function refusal(call: Promise<unknown>): Promise<ServiceError> {
  let value: unknown;
  try {
    value = await call;
  } catch (err) {
    const e = err as Partial<ServiceError>;
    if (typeof e.code !== 'number' || typeof e.details !== 'string') throw new Error(`expected a gRPC error, got ${String(err)}`, { cause: err });
    return err as ServiceError;
  }
  throw new Error(`expected the request to be refused, but it succeeded: ${JSON.stringify(value)?.slice(0, 300)}`);
}

/** Resident set size of a process in bytes, from /proc (Linux); undefined elsewhere. For informal measurements. */
export function residentBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
