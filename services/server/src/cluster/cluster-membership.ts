/**
 * A `hourglass start` process in membership: one row per role it runs (frontend, history,
 * matching; an indexer needs none), each heartbeating into the cluster database, and every one
 * watching the live history and matching hosts, whose view places shards and task queues
 * (rendezvous hashing). The host id is the advertised address: stable across restarts on the same
 * address, so a restarted host gets its shards back.
 */
import { Membership, type Clock, type HostRole, type Logger, type MembershipRegistry } from '@hourglass/common';
import type { ServiceRole } from '../config';

const MEMBER_ROLE: Partial<Record<ServiceRole, HostRole>> = { frontend: 'frontend', history: 'history', matching: 'matching' };

export interface ClusterMembershipOptions {
  roles: readonly ServiceRole[];
  hostId: string;
  address: string;
  registry: MembershipRegistry;
  clock: Clock;
  logger: Logger;
  heartbeatIntervalMs: number;
  hostTtlMs: number;
}

export class ClusterMembership {
  readonly byRole = new Map<HostRole, Membership>();

  constructor(options: ClusterMembershipOptions) {
    for (const role of options.roles.flatMap((r) => MEMBER_ROLE[r] ?? [])) {
      this.byRole.set(
        role,
        new Membership({
          self: { hostId: options.hostId, role, address: options.address },
          registry: options.registry,
          clock: options.clock,
          logger: options.logger.child({ component: 'membership', role }),
          heartbeatIntervalMs: options.heartbeatIntervalMs,
          hostTtlMs: options.hostTtlMs,
          watch: ['history', 'matching'],
        }),
      );
    }
  }

  /** The membership whose view routes this process's calls; undefined for an indexer alone. */
  get watcher(): Membership | undefined {
    return this.byRole.values().next().value;
  }

  /** The history role's membership, which the history engine follows. */
  get history(): Membership | undefined {
    return this.byRole.get('history');
  }

  async start(): Promise<void> {
    for (const membership of this.byRole.values()) await membership.start();
  }

  /** Clean shutdown: the rows are removed, so the other hosts move on at their next round. */
  async leave(): Promise<void> {
    await Promise.all([...this.byRole.values()].map((m) => m.leave()));
  }
}
