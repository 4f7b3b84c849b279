import type { Metadata } from '@grpc/grpc-js';

/** What a handler knows about the gRPC call it serves. */
export interface CallContext {
  /** Absolute ms deadline of the call; 0 when the caller set none. */
  deadline: number;
  /** Aborted when the caller cancels the call (or its deadline passes). */
  signal: AbortSignal;
  metadata: Metadata;
  /** Which listener the call came in on: key-less dev calls are allowed on plaintext only. */
  transport: 'tls' | 'plaintext';
}
