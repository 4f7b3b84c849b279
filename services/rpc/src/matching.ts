/**
 * Internal gRPC of the matching service: MatchingService, served and called.
 */
import type { Server } from '@grpc/grpc-js';
import type { CallOptions, MatchingService } from '@hourglass/contracts';
import { MATCHING_SERVICE } from './protos';
import { ContractClient, addContractService, type ContractClientOptions, type MethodTable } from './transport';

/** One row per MatchingService method: its rpc, whether it is retried (idempotent), its default deadline. */
export const MATCHING_METHODS: MethodTable<MatchingService> = {
  describeTaskQueue: { rpc: 'DescribeTaskQueue', retry: true },
  recordWorkerHeartbeat: { rpc: 'RecordWorkerHeartbeat', retry: true, result: { constant: undefined } },
  listWorkers: { rpc: 'ListWorkers', retry: true },
  countWorkers: { rpc: 'CountWorkers', retry: true, result: { field: 'count', absent: undefined } },
  describeWorker: { rpc: 'DescribeWorker', retry: true, result: { field: 'worker', absent: undefined } },
  addWorkflowTask: { rpc: 'AddWorkflowTask', retry: false, result: { constant: undefined } },
  addActivityTask: { rpc: 'AddActivityTask', retry: false, result: { constant: undefined } },
  pollWorkflowTaskQueue: { rpc: 'PollWorkflowTaskQueue', retry: true, timeout: 'long-poll', result: { field: 'response', absent: null } },
  pollActivityTaskQueue: { rpc: 'PollActivityTaskQueue', retry: true, timeout: 'long-poll', result: { field: 'response', absent: null } },
  pollNexusTaskQueue: { rpc: 'PollNexusTaskQueue', retry: true, timeout: 'long-poll', result: { constant: null } },
  dispatchQueryTask: { rpc: 'DispatchQueryTask', retry: false, timeout: 'long-poll', result: { field: 'taken', absent: undefined } },
  // Not retried: an offer that reached its target may have been started there even if its answer
  // was lost. Unanswered, the sender keeps the task in its backlog; a second delivery of it is
  // dropped as stale when a poller asks history to start it.
  offerForwardedTask: { rpc: 'OfferForwardedTask', retry: false, timeout: 'long-poll', result: { field: 'taken', absent: undefined } },
  redirectBacklog: { rpc: 'RedirectBacklog', retry: false, result: { field: 'moved', absent: undefined } },
  shutdownStickyQueue: { rpc: 'ShutdownStickyQueue', retry: true, result: { constant: undefined } },
};

/** Serves an in-process MatchingService (the engine) as matching over internal gRPC. */
export function addMatchingService(server: Server, impl: MatchingService): void {
  addContractService(server, MATCHING_SERVICE, MATCHING_METHODS, impl);
}

/** MatchingService of a remote process, over internal gRPC (see transport.ts for deadlines, cancellation, retries). */
export class MatchingClient implements MatchingService {
  private readonly rpc: ContractClient;
  readonly describeTaskQueue = this.method('describeTaskQueue');
  readonly recordWorkerHeartbeat = this.method('recordWorkerHeartbeat');
  readonly listWorkers = this.method('listWorkers');
  readonly countWorkers = this.method('countWorkers');
  readonly describeWorker = this.method('describeWorker');
  readonly addWorkflowTask = this.method('addWorkflowTask');
  readonly addActivityTask = this.method('addActivityTask');
  readonly pollWorkflowTaskQueue = this.method('pollWorkflowTaskQueue');
  readonly pollActivityTaskQueue = this.method('pollActivityTaskQueue');
  readonly pollNexusTaskQueue = this.method('pollNexusTaskQueue');
  readonly dispatchQueryTask = this.method('dispatchQueryTask');
  readonly offerForwardedTask = this.method('offerForwardedTask');
  readonly redirectBacklog = this.method('redirectBacklog');
  readonly shutdownStickyQueue = this.method('shutdownStickyQueue');

  constructor(address: string, options: ContractClientOptions = {}) {
    this.rpc = new ContractClient(address, MATCHING_SERVICE, MATCHING_METHODS, options);
  }

  /** Closes the channel; calls after this fail. */
  close(): void {
    this.rpc.close();
  }

  private method<K extends keyof MatchingService>(name: K): MatchingService[K] {
    return ((request?: unknown, call?: CallOptions) => this.rpc.invoke(name, request, call)) as MatchingService[K];
  }
}
