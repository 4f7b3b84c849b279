/**
 * The pending items of a run (activities, timers, children, requests, updates…) as they are kept
 * in memory and persisted: one row per item. An ItemMap knows which of its items a change touched,
 * so a commit writes those rows and nothing else.
 *
 * Stored items are frozen: reading one is free, and changing one without `mutable()` throws
 * (TypeError in strict mode) instead of silently skipping its write. `mutable(id)` hands out a
 * fresh copy that the commit will persist.
 */
import type { ExecutionItemKey, ExecutionItemRow } from '@hourglass/persistence';

export interface ItemChanges {
  upserts: ExecutionItemRow[];
  deletes: ExecutionItemKey[];
}

export class ItemMap<T extends object> {
  // Allocated on first use: most runs leave most of their ten maps empty.
  private items: Map<string, T> | undefined;
  private dirty: Set<string> | undefined;
  private deleted: Set<string> | undefined;
  /** Items deleted by the change under way, as they were (until settle). */
  private removed: T[] | undefined;
  /** Encoded bytes of each item as last loaded or serialized, and their sum (the cache's byte budget). */
  private sizes: Map<string, number> | undefined;
  private totalBytes = 0;

  constructor(readonly kind: string) {}

  /** Encoded bytes of the items as last loaded or written (an estimate of what the map holds). */
  get bytes(): number {
    return this.totalBytes;
  }

  get size(): number {
    return this.items?.size ?? 0;
  }

  get(id: string): Readonly<T> | undefined {
    return this.items?.get(id);
  }

  has(id: string): boolean {
    return this.items?.has(id) ?? false;
  }

  values(): IterableIterator<Readonly<T>> {
    return (this.items ?? EMPTY).values() as IterableIterator<Readonly<T>>;
  }

  entries(): IterableIterator<[string, Readonly<T>]> {
    return (this.items ?? EMPTY).entries() as IterableIterator<[string, Readonly<T>]>;
  }

  /** Adds or replaces an item; it is written with the next commit. */
  set(id: string, item: T): void {
    (this.items ??= new Map()).set(id, item);
    (this.dirty ??= new Set()).add(id);
    this.deleted?.delete(id);
  }

  /** A writable copy of the item, written with the next commit; undefined when absent. */
  mutable(id: string): T | undefined {
    const current = this.items?.get(id);
    if (!current || !this.items) return undefined;
    if (this.dirty?.has(id) && !Object.isFrozen(current)) return current;
    const copy = { ...current };
    this.items.set(id, copy);
    (this.dirty ??= new Set()).add(id);
    return copy;
  }

  delete(id: string): boolean {
    const item = this.items?.get(id);
    if (!item || !this.items?.delete(id)) return false;
    (this.removed ??= []).push(item);
    this.setSize(id, 0);
    this.dirty?.delete(id);
    (this.deleted ??= new Set()).add(id);
    return true;
  }

  /** Loads a persisted item (not a change); `bytes`: its stored row's length. */
  load(id: string, item: T, bytes = 0): void {
    (this.items ??= new Map()).set(id, deepFreeze(item));
    this.setSize(id, bytes);
  }

  private setSize(id: string, bytes: number): void {
    const old = this.sizes?.get(id) ?? 0;
    this.totalBytes += bytes - old;
    if (bytes > 0) (this.sizes ??= new Map()).set(id, bytes);
    else this.sizes?.delete(id);
  }

  /** Every item is written with the next commit (a state upgraded from an older format). */
  markAllDirty(): void {
    for (const id of this.items?.keys() ?? []) (this.dirty ??= new Set()).add(id);
  }

  hasChanges(): boolean {
    return (this.dirty?.size ?? 0) > 0 || (this.deleted?.size ?? 0) > 0;
  }

  /** The rows the next commit must write for this map. */
  changes(serialize: (item: T) => string = JSON.stringify): ItemChanges {
    const upserts: ExecutionItemRow[] = [];
    for (const id of this.dirty ?? []) {
      const data = serialize(this.items?.get(id) as T);
      this.setSize(id, data.length);
      upserts.push({ kind: this.kind, id, data });
    }
    const deletes = [...(this.deleted ?? [])].map((id) => ({ kind: this.kind, id }));
    return { upserts, deletes };
  }

  /** After a commit: what was written is the stored state now. */
  settle(): void {
    for (const id of this.dirty ?? []) {
      const item = this.items?.get(id);
      if (item) deepFreeze(item);
    }
    this.dirty?.clear();
    this.deleted?.clear();
    this.removed = undefined;
  }

  /** The items the change under way deleted, as they were before. */
  removedItems(): readonly Readonly<T>[] {
    return this.removed ?? [];
  }
}

const EMPTY: ReadonlyMap<string, never> = new Map<string, never>();

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    const record = value as Record<string, unknown>;
    for (const key in record) deepFreeze(record[key]);
  }
  return value;
}
