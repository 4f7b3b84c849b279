/**
 * Namespace lookups by name and id, cached (namespaces change rarely; a change made through this
 * registry refreshes the cache at once).
 */
import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, KeyedMutex, NamespaceNotFoundError, type Clock } from '@hourglass/common';
import type { ListPage, NamespaceRecord, NamespaceStore } from '@hourglass/persistence';

const CACHE_TTL_MS = 10_000;

export interface RegisterNamespaceArgs {
  name: string;
  /** The owning account. */
  accountId: string;
  description?: string;
  ownerEmail?: string;
  retentionMs: number;
  data?: Record<string, string>;
}

export class NamespaceRegistry {
  private readonly byName = new Map<string, { record: NamespaceRecord; loadedAt: number }>();
  private readonly byId = new Map<string, { record: NamespaceRecord; loadedAt: number }>();
  /** Read-modify-write changes of one namespace, one at a time in this process. */
  private readonly writes = new KeyedMutex();

  constructor(private readonly store: NamespaceStore, private readonly clock: Clock) {}

  /** Throws NamespaceNotFoundError (NOT_FOUND + NamespaceNotFoundFailure) for unknown or deleted names. */
  async getByName(name: string): Promise<NamespaceRecord> {
    const cached = this.byName.get(name);
    if (cached && this.clock.now() - cached.loadedAt < CACHE_TTL_MS) {
      if (cached.record.state === 'deleted') throw new NamespaceNotFoundError(name);
      return cached.record;
    }
    const record = await this.store.getNamespaceByName(name);
    if (!record || record.state === 'deleted') throw new NamespaceNotFoundError(name);
    this.remember(record);
    return record;
  }

  async getById(id: string): Promise<NamespaceRecord> {
    const cached = this.byId.get(id);
    if (cached && this.clock.now() - cached.loadedAt < CACHE_TTL_MS) return cached.record;
    const record = await this.store.getNamespaceById(id);
    if (!record) throw new NamespaceNotFoundError(id);
    this.remember(record);
    return record;
  }

  async register(args: RegisterNamespaceArgs): Promise<NamespaceRecord> {
    const now = this.clock.now();
    const record: NamespaceRecord = {
      id: randomUUID(),
      name: args.name,
      accountId: args.accountId,
      resourceVersion: 1,
      limits: {},
      state: 'registered',
      description: args.description ?? '',
      ownerEmail: args.ownerEmail ?? '',
      retentionMs: args.retentionMs,
      data: args.data ?? {},
      createdAt: now,
      updatedAt: now,
    };
    await this.store.createNamespace(record);
    this.remember(record);
    return record;
  }

  /** Creates the namespace unless it exists (start-dev's `default`). */
  async ensure(args: RegisterNamespaceArgs): Promise<NamespaceRecord> {
    try {
      return await this.register(args);
    } catch (err) {
      if (err instanceof AlreadyExistsError) return this.getByName(args.name);
      throw err;
    }
  }

  /** Without accounts: changes a namespace in place (WorkflowService UpdateNamespace, DeprecateNamespace). */
  async update(name: string, change: (record: NamespaceRecord) => Partial<Pick<NamespaceRecord, 'description' | 'ownerEmail' | 'retentionMs' | 'data' | 'state'>>): Promise<NamespaceRecord> {
    const current = await this.store.getNamespaceByName(name);
    if (!current || current.state === 'deleted') throw new NamespaceNotFoundError(name);
    const updated: NamespaceRecord = { ...current, ...change(current), resourceVersion: current.resourceVersion + 1, updatedAt: Math.max(this.clock.now(), current.updatedAt + 1) };
    await this.store.updateNamespace(updated);
    this.remember(updated);
    return updated;
  }

  list(pageSize: number, nextPageToken?: string): Promise<ListPage<NamespaceRecord>> {
    return this.store.listNamespaces({ pageSize, ...(nextPageToken ? { nextPageToken } : {}) });
  }

  /**
   * Replaces the namespace's custom search attributes with what `change` returns for the stored
   * ones (it may throw to refuse the change: nothing is written). Bumps the resource version.
   */
  async updateSearchAttributes(id: string, change: (current: Record<string, string>) => Record<string, string>): Promise<NamespaceRecord> {
    return this.writes.run(id, async () => {
      const record = await this.store.getNamespaceById(id);
      if (!record || record.state === 'deleted') throw new NamespaceNotFoundError(id);
      const next: NamespaceRecord = {
        ...record,
        searchAttributes: change({ ...(record.searchAttributes ?? {}) }),
        resourceVersion: record.resourceVersion + 1,
        updatedAt: this.clock.now(),
      };
      await this.store.updateNamespace(next);
      this.remember(next);
      return next;
    });
  }

  /** Caches a record this process just wrote (or was told of), so lookups see the change at once. */
  remember(record: NamespaceRecord): void {
    const entry = { record, loadedAt: this.clock.now() };
    this.byName.set(record.name, entry);
    this.byId.set(record.id, entry);
  }
}
