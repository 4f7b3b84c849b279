/**
 * The routed history and matching clients of a `hourglass start` process: placement by this
 * process's membership view (rendezvous hashing of the shard or task queue over the live hosts of
 * the role), transport by internal gRPC clients made once per host address. A call whose owner is
 * this very process goes to its engine directly, without a hop through the network.
 */
import { MatchingSettings, historyShardKey, type HostRole, type Membership, type Settings } from '@hourglass/common';
import type { HistoryService, MatchingService } from '@hourglass/contracts';
import type { Logger } from '@hourglass/common';
import type { Server } from '@grpc/grpc-js';
import { routingHistoryClient } from './history-routing';
import { routingMatchingClient } from './matching-routing';
import type { Placement } from './routing';

/** The internal gRPC transport (@hourglass/rpc): a server side per role and a client per remote host. */
export interface InternalRpc {
  serveHistory(server: Server, impl: HistoryService): void;
  serveMatching(server: Server, impl: MatchingService): void;
  historyClient(address: string): HistoryService;
  matchingClient(address: string): MatchingService;
}

export interface RoutedClients {
  history: HistoryService;
  matching: MatchingService;
  close(): Promise<void>;
}

/** Clients of each host address, made once. */
class ClientCache<S> {
  private readonly clients = new Map<string, S>();
  constructor(
    private readonly make: (address: string) => S,
    private readonly local: S | undefined,
  ) {}
  get(address: string): S {
    let client = this.clients.get(address);
    if (!client) {
      client = this.make(address);
      this.clients.set(address, client);
    }
    return client;
  }
  close(): void {
    for (const client of this.clients.values()) if (client !== this.local) (client as { close?: () => void }).close?.();
    this.clients.clear();
  }
}

export function routedClients(deps: {
  watcher: Membership;
  rpc: InternalRpc;
  numHistoryShards: number;
  /** The engines' settings: the routed matching client picks partitions by `matching.numTaskQueuePartitions`. */
  settings: Settings;
  logger: Logger;
  /** This process: its advertised address and the engines it runs. */
  self: { address: string; history?: HistoryService; matching?: MatchingService };
}): RoutedClients {
  const { watcher, rpc, self } = deps;
  const histories = new ClientCache((address) => (address === self.address && self.history ? self.history : rpc.historyClient(address)), self.history);
  const matchings = new ClientCache((address) => (address === self.address && self.matching ? self.matching : rpc.matchingClient(address)), self.matching);
  const placement = <S>(role: HostRole, keyOf: (key: string) => string, cache: ClientCache<S>): Placement<S> => ({
    ownerOf: async (key, fresh) => {
      // A fresh view: one more membership round (shared with any running one).
      if (fresh) await watcher.tick();
      return watcher.ownerOf(keyOf(key), role)?.address;
    },
    all: () => Promise.resolve(watcher.hosts(role).map((h) => h.address)),
    client: (address) => cache.get(address),
    watch: (listener) =>
      watcher.onChange((change) => {
        if (change.role === role) listener();
      }),
  });
  const onRetry = (info: { method: string; key: string; address: string | undefined; attempt: number; reason: string }): void => deps.logger.debug(info, 'routing: trying again');
  const historyPlacement = placement<HistoryService>('history', (shard) => historyShardKey(Number(shard)), histories);
  return {
    history: routingHistoryClient({ ...historyPlacement, ownerOf: (shardId, fresh) => historyPlacement.ownerOf(String(shardId), fresh) }, { numHistoryShards: deps.numHistoryShards, onRetry }),
    matching: routingMatchingClient(placement<MatchingService>('matching', (key) => key, matchings), { onRetry, settings: deps.settings, placePartitions: deps.settings.get(MatchingSettings.placePartitionsAcrossHosts) }),
    close: () => {
      histories.close();
      matchings.close();
      return Promise.resolve();
    },
  };
}
