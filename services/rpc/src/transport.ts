/**
 * The generic half of internal gRPC: a method table (one row per contract method) turned into a
 * grpc-js service definition, server handlers that call the in-process implementation, and a
 * client that calls them with a deadline, cancellation and retries.
 *
 * Deadlines: every call carries one: the caller's `CallOptions.deadline` when it set one, else the
 * row's default (long polls: LONG_POLL_DEFAULT_MS). The caller's own deadline (0 for none) travels
 * in metadata too, so the implementation sees exactly the CallOptions it would see in one process.
 * Cancellation: an aborted `CallOptions.signal` cancels the call; the server aborts the signal it
 * hands the implementation when the call is cancelled or its deadline passes.
 * Retries: rows marked `retry` (idempotent methods) are retried with exponential backoff when the
 * transport answers UNAVAILABLE (never on an error the implementation threw), while the deadline allows.
 */
import { Client, Metadata, credentials as grpcCredentials, status as Status, type ChannelCredentials, type ChannelOptions, type Server, type ServiceDefinition, type ServiceError, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type { CallOptions } from '@hourglass/contracts';
import protobuf from 'protobufjs';
import { encode, toPlain, toWire } from './codec';
import { errorFromStatus, errorToStatus, isTransportStatus } from './errors';
import { internalProtoRoot, isInternalType } from './protos';

/** One contract method: its rpc and how it is called. */
export interface MethodRow {
  /** The rpc's name in the proto service. */
  rpc: string;
  /** Idempotent: retried on a transport UNAVAILABLE. */
  retry: boolean;
  /** Default deadline when the caller sets none, in ms; 'long-poll' for LONG_POLL_DEFAULT_MS. */
  timeout?: number | 'long-poll';
  /**
   * How the contract's result maps to the rpc's response: `constant` for a response that carries
   * nothing (google.protobuf.Empty: void, or always null); `field` for a wrapper message of ours
   * (absent → `absent`). Without it the response message IS the result (a Temporal response passes
   * through, one of ours converts).
   */
  result?: { constant: null | undefined } | { field: string; absent: null | undefined };
}

export type MethodTable<S> = Record<keyof S & string, MethodRow>;

/** Default deadline of a call whose caller set none. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Default deadline of a long poll whose caller set none (longer than any server-side poll wait). */
export const LONG_POLL_DEFAULT_MS = 5 * 60_000;
const CALLER_DEADLINE_KEY = 'hourglass-caller-deadline';
const RETRY_ATTEMPTS = 8;
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 1_000;
/**
 * Internal messages are not limited (histories may be large; the frontend limits what comes in).
 * A peer that restarts is reconnected to within a fraction of a second, inside the retries' span.
 */
const CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

interface ResolvedMethod {
  name: string;
  row: MethodRow;
  path: string;
  requestType: protobuf.Type;
  responseType: protobuf.Type;
  /** The rpc takes google.protobuf.Empty: the contract method takes no request. */
  noRequest: boolean;
}

function resolveMethods(serviceName: string, table: Record<string, MethodRow>): Map<string, ResolvedMethod> {
  const service = internalProtoRoot().lookupService(serviceName);
  const methods = new Map<string, ResolvedMethod>();
  for (const [name, row] of Object.entries(table)) {
    const method = service.methods[row.rpc];
    if (!method) throw new Error(`${serviceName} has no rpc ${row.rpc} (for ${name})`);
    method.resolve();
    const requestType = method.resolvedRequestType as protobuf.Type;
    methods.set(name, { name, row, path: `/${serviceName}/${row.rpc}`, requestType, responseType: method.resolvedResponseType as protobuf.Type, noRequest: requestType.fullName === '.google.protobuf.Empty' });
  }
  return methods;
}

function requestToWire(m: ResolvedMethod, request: unknown): unknown {
  if (m.noRequest) return {};
  return isInternalType(m.requestType) ? toWire(m.requestType, request) : request;
}

function requestFromWire(m: ResolvedMethod, message: unknown): unknown {
  return isInternalType(m.requestType) ? toPlain(m.requestType, message as Record<string, unknown>) : message;
}

function resultToWire(m: ResolvedMethod, result: unknown): unknown {
  const shape = m.row.result;
  if (shape && 'constant' in shape) return {};
  if (shape) return result === undefined || result === null ? {} : toWire(m.responseType, { [shape.field]: result });
  return isInternalType(m.responseType) ? toWire(m.responseType, result) : result;
}

function resultFromWire(m: ResolvedMethod, message: unknown): unknown {
  const shape = m.row.result;
  if (shape && 'constant' in shape) return shape.constant;
  if (shape) {
    const value = (toPlain(m.responseType, message as Record<string, unknown>) as Record<string, unknown>)[shape.field];
    return value === undefined ? shape.absent : value;
  }
  return isInternalType(m.responseType) ? toPlain(m.responseType, message as Record<string, unknown>) : message;
}

function definitionOf(methods: Map<string, ResolvedMethod>): ServiceDefinition {
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const m of methods.values()) {
    definition[m.row.rpc] = {
      path: m.path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: unknown) => encode(m.requestType, value),
      requestDeserialize: (bytes: Buffer) => m.requestType.decode(bytes),
      responseSerialize: (value: unknown) => encode(m.responseType, value),
      responseDeserialize: (bytes: Buffer) => m.responseType.decode(bytes),
    };
  }
  return definition;
}

/** Serves `impl` (an in-process implementation of the contract) on `server` under `serviceName`. */
export function addContractService<S extends object>(server: Server, serviceName: string, table: MethodTable<S>, impl: S): void {
  const methods = resolveMethods(serviceName, table);
  const handlers: Record<string, (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void> = {};
  for (const m of methods.values()) {
    const fn = (impl as Record<string, unknown>)[m.name];
    if (typeof fn !== 'function') throw new Error(`the implementation served as ${serviceName} has no method ${m.name}`);
    handlers[m.row.rpc] = (call, callback) => {
      const controller = new AbortController();
      call.once('cancelled', () => controller.abort());
      const options: CallOptions = { deadline: Number(call.metadata.get(CALLER_DEADLINE_KEY)[0] ?? 0) || 0, signal: controller.signal };
      let result: Promise<unknown>;
      try {
        result = Promise.resolve(m.noRequest ? (fn as () => unknown).call(impl) : (fn as (r: unknown, c: CallOptions) => unknown).call(impl, requestFromWire(m, call.request), options));
      } catch (err) {
        result = Promise.reject(err);
      }
      result.then(
        (value) => {
          let response: unknown;
          try {
            response = resultToWire(m, value);
          } catch (err) {
            callback(errorToStatus(err));
            return;
          }
          callback(null, response);
        },
        (err: unknown) => callback(errorToStatus(err)),
      );
    };
  }
  server.addService(definitionOf(methods), handlers);
}

export interface ContractClientOptions {
  /** Default: insecure (loopback and private networks). */
  credentials?: ChannelCredentials;
  channelOptions?: ChannelOptions;
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'metadata' in err;
}

/** Calls a contract's methods on a remote server (the generic half of HistoryClient and MatchingClient). */
export class ContractClient {
  private readonly client: Client;
  private readonly methods: Map<string, ResolvedMethod>;

  constructor(
    readonly address: string,
    private readonly serviceName: string,
    table: Record<string, MethodRow>,
    options: ContractClientOptions = {},
  ) {
    this.methods = resolveMethods(serviceName, table);
    this.client = new Client(address, options.credentials ?? grpcCredentials.createInsecure(), { ...CHANNEL_OPTIONS, ...options.channelOptions });
  }

  async invoke(name: string, request: unknown, call: CallOptions | undefined): Promise<unknown> {
    const m = this.methods.get(name);
    if (!m) throw new Error(`${this.serviceName} has no method ${name}`);
    const wire = requestToWire(m, request);
    const defaultMs = m.row.timeout === 'long-poll' ? LONG_POLL_DEFAULT_MS : (m.row.timeout ?? DEFAULT_TIMEOUT_MS);
    const deadline = call?.deadline ? call.deadline : Date.now() + defaultMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return resultFromWire(m, await this.unary(m, wire, deadline, call));
      } catch (err) {
        if (!isServiceError(err)) throw err;
        const backoff = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempt - 1));
        const retry = m.row.retry && err.code === Status.UNAVAILABLE && isTransportStatus(err) && attempt < RETRY_ATTEMPTS && !call?.signal?.aborted && Date.now() + backoff < deadline;
        if (!retry) throw errorFromStatus(err, `${this.serviceName}/${m.row.rpc}`);
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  }

  private unary(m: ResolvedMethod, wire: unknown, deadline: number, call: CallOptions | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const metadata = new Metadata();
      metadata.set(CALLER_DEADLINE_KEY, String(call?.deadline ?? 0));
      const signal = call?.signal;
      const onAbort = (): void => pending.cancel();
      const pending = this.client.makeUnaryRequest(
        m.path,
        (value: unknown) => encode(m.requestType, value),
        (bytes: Buffer) => m.responseType.decode(bytes),
        wire,
        metadata,
        { deadline },
        (err, value) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve(value);
        },
      );
      if (signal?.aborted) pending.cancel();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.client.close();
  }
}
