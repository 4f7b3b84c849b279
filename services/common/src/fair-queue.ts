/**
 * A FIFO per key (a namespace), served round robin: one tenant's burst of thousands of tasks
 * waits behind nobody else's, and nobody else waits behind it — each key gets its turn, in order
 * within the key. O(1) per push and shift.
 */
export class FairQueue<T> {
  private readonly lanes = new Map<string, { items: T[]; head: number }>();
  /** Keys with items, in the order they get their next turn. */
  private readonly turns: string[] = [];
  private turnHead = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(key: string, item: T): void {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { items: [], head: 0 };
      this.lanes.set(key, lane);
      this.turns.push(key);
    }
    lane.items.push(item);
    this.count += 1;
  }

  /** The item `shift` would return next, left in place. */
  peek(): T | undefined {
    for (let i = this.turnHead; i < this.turns.length; i++) {
      const lane = this.lanes.get(this.turns[i] as string);
      if (lane) return lane.items[lane.head];
    }
    return undefined;
  }

  shift(): T | undefined {
    while (this.turnHead < this.turns.length) {
      const key = this.turns[this.turnHead++] as string;
      const lane = this.lanes.get(key);
      if (!lane) continue;
      const item = lane.items[lane.head++] as T;
      this.count -= 1;
      if (lane.head === lane.items.length) this.lanes.delete(key);
      else {
        if (lane.head > 1024 && lane.head * 2 > lane.items.length) {
          lane.items.splice(0, lane.head);
          lane.head = 0;
        }
        this.turns.push(key);
      }
      if (this.turnHead > 1024 && this.turnHead * 2 > this.turns.length) {
        this.turns.splice(0, this.turnHead);
        this.turnHead = 0;
      }
      return item;
    }
    return undefined;
  }
}
