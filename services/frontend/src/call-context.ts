import type { Metadata } from '@grpc/grpc-js';
import type { Principal } from '@hourglass/identity';

/**
 * How a call reached the server: over the TLS listener or the plaintext one. Authentication keys
 * on it (a call without an API key is allowed only over plaintext, the local development port),
 * so it comes from the listener that accepted the connection, never from anything the caller sends.
 */
export type Transport = 'tls' | 'plaintext';

/** What a handler knows about the gRPC call it serves. */
export interface CallContext {
  /** Absolute ms deadline of the call; 0 when the caller set none. */
  deadline: number;
  /** Aborted when the caller cancels the call (or its deadline passes). */
  signal: AbortSignal;
  metadata: Metadata;
  /** The listener the call arrived on: key-less dev calls are allowed on plaintext only. */
  transport: Transport;
  /**
   * An in-process caller that its own edge already authenticated (the GraphQL API, which accepts
   * API keys and portal sessions): authentication takes it as the principal. Never set for calls
   * that arrive over gRPC.
   */
  authenticated?: Principal;
}

/**
 * A gRPC call's cancellation signal, made on first use: most calls finish without anything reading
 * it, and an AbortController with its listeners was a visible share of each call's CPU. A signal
 * made after the call was cancelled is aborted already, with the same reason.
 */
export class CallCancellation {
  private controller: AbortController | undefined;
  private cancelled = false;
  private reason: unknown;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  cancel(reason: unknown): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
