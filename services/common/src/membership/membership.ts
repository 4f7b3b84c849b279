/**
 * Cluster membership without ringpop: every host heartbeats a row of its own into a registry (the
 * cluster database in production), and reads back the hosts of the roles it cares about whose
 * heartbeat is recent enough. Shards and partitions are then placed on the live hosts by
 * rendezvous hashing (rendezvous.ts), each process computing the same answer from the same list.
 *
 * Liveness is decided with ONE clock, the registry's: a heartbeat is stamped with the registry's
 * time and compared with the registry's time (MySQL's NOW() in production), so clock skew between
 * hosts does not matter. A host's view of itself uses its own clock only to notice that its
 * heartbeats stopped landing: past the TTL since the last one that did, it declares itself not
 * live (the others already think so) and gives up what it owns.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import { InvalidArgumentError } from '../errors';
import type { Logger } from '../logger';
import type { Settings } from '../settings';
import { MembershipSettings } from '../settings-definitions';
import { ownerOf } from './rendezvous';

/** What a host serves. Persisted (the registry's role column): never rename one. */
export type HostRole = 'history' | 'matching' | 'frontend' | 'worker';

export const HOST_ROLES: readonly HostRole[] = ['history', 'matching', 'frontend', 'worker'];

/** One host of one role, as the registry holds it. */
export interface HostRecord {
  /** Stable identity of the host (a pod or machine name): rendezvous weights depend on it alone. */
  hostId: string;
  role: HostRole;
  /** Where the host's internal RPC listens, host:port ('' when it has none). */
  address: string;
  /** Incarnation: a new one per process start, so a restarted host never extends its predecessor's row. */
  sessionId: string;
  /** When this incarnation started, by its own clock (informational). */
  startedAt: number;
  /** The last heartbeat, by the registry's clock. */
  lastHeartbeatAt: number;
}

/** What a host writes when it joins. */
export type HostJoin = Omit<HostRecord, 'lastHeartbeatAt'>;

/** ok: stamped; missing: the row is gone (removed or pruned); superseded: another incarnation of this host id owns the row. */
export type HeartbeatOutcome = 'ok' | 'missing' | 'superseded';

/** The registry a Membership heartbeats into (persistence's MembershipStore implements it). */
export interface MembershipRegistry {
  /** Writes the host's row, replacing any other incarnation's, its heartbeat stamped with the registry's clock. */
  upsertHost(host: HostJoin): Promise<HostRecord>;
  /** Stamps the heartbeat (registry's clock) when the row is this incarnation's. */
  heartbeatHost(role: HostRole, hostId: string, sessionId: string): Promise<HeartbeatOutcome>;
  /** The hosts of a role whose last heartbeat is at most `ttlMs` old by the registry's clock, by host id; and that clock's now. */
  listLiveHosts(role: HostRole, ttlMs: number): Promise<{ now: number; hosts: HostRecord[] }>;
  /** Clean shutdown: removes the row when it is this incarnation's. */
  removeHost(role: HostRole, hostId: string, sessionId: string): Promise<boolean>;
  /** Removes the rows whose last heartbeat is older than `olderThanMs` by the registry's clock (hosts long gone); how many. */
  pruneHosts(olderThanMs: number): Promise<number>;
}

/** Rows of hosts silent this long are deleted (hosts with generated names would otherwise pile up). */
export const PRUNE_HOSTS_AFTER_MS = 3_600_000;
/** Besides at every join, a host prunes once per this many rounds. */
const PRUNE_EVERY_ROUNDS = 3_600;

/** The live hosts among `records` at `now`: a heartbeat at most `ttlMs` old; ordered by host id. */
export function liveHosts(records: readonly HostRecord[], now: number, ttlMs: number): HostRecord[] {
  return records.filter((r) => r.lastHeartbeatAt >= now - ttlMs).sort((a, b) => compareIds(a.hostId, b.hostId));
}

/** Hosts that joined and left between two lists. A restarted host (same id, new session) is in both. */
export function diffHosts(before: readonly HostRecord[], after: readonly HostRecord[]): { joined: HostRecord[]; left: HostRecord[] } {
  const key = (h: HostRecord): string => `${h.hostId}\u0000${h.sessionId}\u0000${h.address}`;
  const was = new Set(before.map(key));
  const is = new Set(after.map(key));
  return { joined: after.filter((h) => !was.has(key(h))), left: before.filter((h) => !is.has(key(h))) };
}

/**
 * Whether a host may still consider itself a member: it joined, no other incarnation took its
 * row, and its last heartbeat that landed is younger than the TTL by its own clock (a heartbeat
 * that landed at local time t was stamped no earlier than t minus the round trip, so the others
 * expire it no earlier than this host does).
 */
export function isSelfLive(state: { joined: boolean; superseded: boolean; lastHeartbeatOkAt: number | undefined }, now: number, ttlMs: number): boolean {
  return state.joined && !state.superseded && state.lastHeartbeatOkAt !== undefined && now - state.lastHeartbeatOkAt < ttlMs;
}

/** What `membershipOptionsFromSettings` needs besides the settings. */
export type MembershipDeps = Omit<MembershipOptions, 'heartbeatIntervalMs' | 'hostTtlMs'>;

/**
 * Membership options with the interval and TTL of the settings registry (membership.heartbeatInterval, membership.hostTtl).
 *
 * @example
 * const membership = new Membership(membershipOptionsFromSettings(settings, { self, registry: persistence.membership, clock, logger }));
 */
export function membershipOptionsFromSettings(settings: Settings, deps: MembershipDeps): MembershipOptions {
  return { ...deps, heartbeatIntervalMs: settings.get(MembershipSettings.heartbeatInterval), hostTtlMs: settings.get(MembershipSettings.hostTtl) };
}

export interface MembershipOptions {
  self: { hostId: string; role: HostRole; address: string };
  registry: MembershipRegistry;
  /** This host's clock: its start time and how long ago its last heartbeat landed. */
  clock: Clock;
  logger: Logger;
  /** membership.heartbeatInterval */
  heartbeatIntervalMs: number;
  /** membership.hostTtl: at least twice the interval. */
  hostTtlMs: number;
  /** Roles whose live hosts this host follows (default: its own). */
  watch?: readonly HostRole[];
  /** Default: a new random one. */
  sessionId?: string;
}

/** What a host knows of the cluster after a heartbeat round. */
export interface MembershipView {
  /** This host may act as a member (see isSelfLive). */
  readonly selfLive: boolean;
  /** The host lists were read in this round (false: the registry did not answer; they are the last ones read). */
  readonly fresh: boolean;
  hosts(role: HostRole): readonly HostRecord[];
}

export interface MembershipChange {
  role: HostRole;
  joined: HostRecord[];
  left: HostRecord[];
  /** The live hosts of the role now, by host id. */
  hosts: readonly HostRecord[];
}

/**
 * A host's membership: `start()` joins and heartbeats every interval; each round re-reads the live
 * hosts of the watched roles, tells `onView` listeners (every round) and `onChange` listeners (when
 * a role's live set changed). `stop()` ends the rounds and leaves the row to expire (as a crash or
 * a pause would); `leave()` also removes it, so the others move on at their next round.
 *
 * @example
 * const membership = new Membership({ self: { hostId: 'history-a', role: 'history', address: '10.0.0.5:7235' },
 *   registry: persistence.membership, clock, logger, heartbeatIntervalMs: 1000, hostTtlMs: 5000 });
 * membership.onChange((c) => logger.info({ role: c.role, hosts: c.hosts.map((h) => h.hostId) }, 'membership changed'));
 * await membership.start();
 * membership.ownerOf(historyShardKey(7), 'history'); // the host that serves shard 7
 * await membership.leave();
 */
export class Membership {
  readonly self: HostJoin;
  private readonly watch: readonly HostRole[];
  private readonly lists = new Map<HostRole, HostRecord[]>();
  private readonly viewListeners = new Set<(view: MembershipView) => void>();
  private readonly changeListeners = new Set<(change: MembershipChange) => void>();
  private joined = false;
  private superseded = false;
  private lastHeartbeatOkAt: number | undefined;
  private fresh = false;
  private timer: NodeJS.Timeout | undefined;
  private looping = false;
  private round: Promise<void> | undefined;
  private rounds = 0;

  constructor(private readonly options: MembershipOptions) {
    const { heartbeatIntervalMs: interval, hostTtlMs: ttl } = options;
    if (!(interval > 0)) throw new InvalidArgumentError(`membership.heartbeatInterval must be positive, got ${interval} ms`);
    if (!(ttl >= 2 * interval)) throw new InvalidArgumentError(`membership.hostTtl (${ttl} ms) must be at least twice membership.heartbeatInterval (${interval} ms)`);
    if (options.self.hostId === '') throw new InvalidArgumentError('a host id must not be empty');
    this.self = { ...options.self, sessionId: options.sessionId ?? randomUUID(), startedAt: options.clock.now() };
    this.watch = [...new Set(options.watch ?? [options.self.role])];
    for (const role of this.watch) this.lists.set(role, []);
  }

  /** Joins and heartbeats every interval until stop() or leave(). */
  async start(): Promise<void> {
    await this.join();
    this.looping = true;
    this.schedule();
  }

  /** Writes this host's row and reads the live hosts once (no loop: see start). */
  async join(): Promise<void> {
    await this.prune();
    await this.options.registry.upsertHost(this.self);
    this.joined = true;
    this.superseded = false;
    this.lastHeartbeatOkAt = this.options.clock.now();
    await this.refresh();
  }

  /** One round: heartbeat, then re-read the live hosts. Never rejects (failures are logged). */
  tick(): Promise<void> {
    this.round ??= this.runRound().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /** Ends the rounds; the row stays and expires after the TTL (what the others see of a crash or a pause). */
  async stop(): Promise<void> {
    this.looping = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** Clean shutdown: ends the rounds and removes the row, so the others move on at their next round. */
  async leave(): Promise<void> {
    await this.stop();
    if (!this.joined) return;
    this.joined = false;
    await this.options.registry.removeHost(this.self.role, this.self.hostId, this.self.sessionId);
  }

  get selfLive(): boolean {
    return isSelfLive({ joined: this.joined, superseded: this.superseded, lastHeartbeatOkAt: this.lastHeartbeatOkAt }, this.options.clock.now(), this.options.hostTtlMs);
  }

  /** The live hosts of a watched role, by host id, as of the last round. */
  hosts(role: HostRole): readonly HostRecord[] {
    const list = this.lists.get(role);
    if (!list) throw new InvalidArgumentError(`this membership does not watch role ${role} (it watches ${this.watch.join(', ')})`);
    return list;
  }

  /** The live host of `role` that owns `key` by rendezvous hashing; undefined when none is live. */
  ownerOf(key: string, role: HostRole): HostRecord | undefined {
    return ownerOf(key, this.hosts(role));
  }

  view(): MembershipView {
    return { selfLive: this.selfLive, fresh: this.fresh, hosts: (role) => this.hosts(role) };
  }

  /** Called after every round. Returns the unsubscribe function. */
  onView(listener: (view: MembershipView) => void): () => void {
    this.viewListeners.add(listener);
    return () => this.viewListeners.delete(listener);
  }

  /** Called when a watched role's live set changed. Returns the unsubscribe function. */
  onChange(listener: (change: MembershipChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private schedule(): void {
    if (!this.looping) return;
    // Infrastructure heartbeat, not workflow state: a real timer is right here.
    this.timer = setTimeout(() => {
      void this.tick().then(() => this.schedule());
    }, this.options.heartbeatIntervalMs);
    this.timer.unref();
  }

  private async runRound(): Promise<void> {
    if (!this.joined || this.superseded) return;
    const { registry, logger } = this.options;
    const { role, hostId, sessionId } = this.self;
    try {
      const outcome = await registry.heartbeatHost(role, hostId, sessionId);
      if (outcome === 'superseded') {
        this.superseded = true;
        this.looping = false;
        logger.error({ hostId, role, sessionId }, `another process joined as host ${hostId} (${role}): this one is no longer a member and gives up what it owns`);
      } else {
        // A missing row (removed or pruned while this host was slow): join again, same incarnation.
        if (outcome === 'missing') await registry.upsertHost(this.self);
        this.lastHeartbeatOkAt = this.options.clock.now();
      }
    } catch (err) {
      logger.warn({ err, hostId, role }, 'membership heartbeat failed');
    }
    await this.refresh();
    if (++this.rounds % PRUNE_EVERY_ROUNDS === 0) await this.prune();
  }

  /** Housekeeping: never fails the caller. */
  private async prune(): Promise<void> {
    try {
      const pruned = await this.options.registry.pruneHosts(Math.max(PRUNE_HOSTS_AFTER_MS, this.options.hostTtlMs));
      if (pruned > 0) this.options.logger.info({ pruned }, 'membership: removed the rows of hosts gone for long');
    } catch (err) {
      this.options.logger.warn({ err }, 'membership: pruning the rows of hosts gone for long failed');
    }
  }

  private async refresh(): Promise<void> {
    const lists = new Map<HostRole, HostRecord[]>();
    try {
      for (const role of this.watch) lists.set(role, (await this.options.registry.listLiveHosts(role, this.options.hostTtlMs)).hosts);
      this.fresh = true;
    } catch (err) {
      this.fresh = false;
      this.options.logger.warn({ err }, 'membership: reading the live hosts failed; keeping the last list');
    }
    for (const [role, hosts] of lists) {
      const before = this.lists.get(role) ?? [];
      this.lists.set(role, hosts);
      const { joined, left } = diffHosts(before, hosts);
      if (joined.length > 0 || left.length > 0) this.emit(this.changeListeners, { role, joined, left, hosts });
    }
    this.emit(this.viewListeners, this.view());
  }

  private emit<T>(listeners: Set<(value: T) => void>, value: T): void {
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (err) {
        this.options.logger.error({ err }, 'a membership listener threw');
      }
    }
  }
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
