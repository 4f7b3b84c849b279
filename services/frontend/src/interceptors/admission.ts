/**
 * Fair admission: at most `frontend.maxConcurrentCalls` short calls are served at once. Past that,
 * each waits in its namespace's queue, and a freed place goes to the next namespace in turn (round
 * robin), and within a namespace to the most urgent call first (the method table's priority: worker
 * progress before new starts, reads last). A tenant that sends thousands of calls at once therefore
 * holds at most its turn of the server, and a quiet tenant's call waits for one place to free, not
 * for the flood: everything behind admission (the store's lane, the event loop) sees a short queue.
 *
 * Polls and calls that wait on a worker (QueryWorkflow, UpdateWorkflowExecution, history long polls)
 * are not admitted here: they hold no CPU while they wait, and one that held a place while waiting
 * for another call could wait for ever. Calls without a namespace share the '' queue.
 */
import { CancelledError } from '@hourglass/common';
import { callPriority, isLongPoll, type MethodSpec } from '../method-table';
import type { Interceptor } from './chain';

/** Frees the place a call was admitted to; idempotent. */
export type Release = () => void;

interface Waiter {
  admit: (release: Release) => void;
  reject: (err: Error) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

const PRIORITIES = 6;

export class FairAdmission {
  private inFlight = 0;
  /** Namespace → its waiters, one FIFO per priority. */
  private readonly queues = new Map<string, Waiter[][]>();
  /** Namespaces with waiters, in turn order; `cursor` is the next to be served. */
  private readonly ring: string[] = [];
  private cursor = 0;

  /** `limit` is read at every admission, so a changed setting applies at once. */
  constructor(private readonly limit: () => number) {}

  /** Calls admitted and not yet released. */
  get admitted(): number {
    return this.inFlight;
  }

  /** Calls waiting for a place. */
  get waiting(): number {
    let n = 0;
    for (const queues of this.queues.values()) for (const q of queues) n += q.length;
    return n;
  }

  /**
   * A place now (a Release) or once one frees in this namespace's turn (a promise of one). The
   * caller's signal is read only when the call has to wait (a call's signal is made on first use).
   */
  enter(namespace: string, priority: number, cancellation: { readonly signal: AbortSignal }): Release | Promise<Release> {
    if (this.inFlight < this.limit() && this.ring.length === 0) {
      this.inFlight += 1;
      return this.releaser();
    }
    const signal = cancellation.signal;
    if (signal.aborted) return Promise.reject(new CancelledError('the caller cancelled the call while it waited to be admitted'));
    return new Promise<Release>((admit, reject) => {
      const waiter: Waiter = { admit, reject, signal, onAbort: () => this.abandon(namespace, waiter) };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      let queues = this.queues.get(namespace);
      if (!queues) {
        queues = Array.from({ length: PRIORITIES }, () => []);
        this.queues.set(namespace, queues);
        this.ring.push(namespace);
      }
      (queues[Math.min(Math.max(priority, 0), PRIORITIES - 1)] as Waiter[]).push(waiter);
      this.admitWaiting();
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      this.admitWaiting();
    };
  }

  private admitWaiting(): void {
    while (this.inFlight < this.limit() && this.ring.length > 0) {
      if (this.cursor >= this.ring.length) this.cursor = 0;
      const namespace = this.ring[this.cursor] as string;
      const waiter = this.takeFirst(namespace);
      if (!waiter) continue;
      this.cursor += 1;
      waiter.signal.removeEventListener('abort', waiter.onAbort);
      this.inFlight += 1;
      waiter.admit(this.releaser());
    }
  }

  /** The namespace's most urgent waiter; drops the namespace from the ring once it has none left. */
  private takeFirst(namespace: string): Waiter | undefined {
    const queues = this.queues.get(namespace);
    const waiter = queues?.find((q) => q.length > 0)?.shift();
    if (queues && !queues.some((q) => q.length > 0)) this.dropNamespace(namespace);
    return waiter;
  }

  private dropNamespace(namespace: string): void {
    this.queues.delete(namespace);
    const index = this.ring.indexOf(namespace);
    if (index < 0) return;
    this.ring.splice(index, 1);
    if (index < this.cursor) this.cursor -= 1;
  }

  private abandon(namespace: string, waiter: Waiter): void {
    const queues = this.queues.get(namespace);
    for (const q of queues ?? []) {
      const index = q.indexOf(waiter);
      if (index >= 0) {
        q.splice(index, 1);
        break;
      }
    }
    if (queues && !queues.some((q) => q.length > 0)) this.dropNamespace(namespace);
    waiter.reject(new CancelledError('the caller cancelled the call while it waited to be admitted'));
  }
}

/** Whether a call takes a place: short calls only (see the file comment). */
export function isAdmitted(spec: MethodSpec, request: unknown): boolean {
  return spec.rateLimit.bucket !== 'none' && !isLongPoll(spec, request);
}

export function admissionInterceptor(admission: FairAdmission): Interceptor {
  return {
    name: 'admission',
    async intercept(call, next) {
      if (!isAdmitted(call.spec, call.request)) return next();
      const entered = admission.enter(call.namespaceName, callPriority(call.spec, call.request), call.context);
      const release = typeof entered === 'function' ? entered : await entered;
      try {
        return await next();
      } finally {
        release();
      }
    },
  };
}
