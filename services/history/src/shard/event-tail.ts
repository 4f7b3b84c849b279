/**
 * The last events a run committed, kept with its cached mutable state so the reads that follow a
 * change (the poll response of the workflow task it scheduled, the scheduled event of an activity
 * being started, the close event a result long-poll waits for) are served without a store round
 * trip or a decode. Only committed events enter it, in id order, and it drops its oldest events
 * past its bounds; a range it does not hold entirely is read from the store.
 */
import type { HistoryEvent } from '@hourglass/common';

export interface EventTailLimits {
  maxEvents: number;
  maxBytes: number;
}

export class EventTail {
  private events: HistoryEvent[] = [];
  private sizes: number[] = [];
  private bytes = 0;

  /** `firstEventId`: the id the next appended event must carry (the run's next event id when loaded). */
  constructor(private firstEventId: number) {}

  /** Encoded bytes of the events held. */
  get encodedBytes(): number {
    return this.bytes;
  }

  /** Id after the last held event. */
  get endEventId(): number {
    return this.firstEventId + this.events.length;
  }

  /**
   * Appends a commit's events (`sizes`: their encoded lengths). Events that do not continue the
   * tail (it missed a commit) replace it.
   */
  append(events: readonly HistoryEvent[], sizes: readonly number[], limits: EventTailLimits): void {
    const first = events[0];
    if (!first) return;
    const firstId = Number(first.eventId);
    if (firstId !== this.endEventId) {
      this.events = [];
      this.sizes = [];
      this.bytes = 0;
      this.firstEventId = firstId;
    }
    events.forEach((event, i) => {
      const size = sizes[i] ?? 0;
      this.events.push(event);
      this.sizes.push(size);
      this.bytes += size;
    });
    let drop = 0;
    while (drop < this.events.length && (this.events.length - drop > limits.maxEvents || this.bytes > limits.maxBytes)) {
      this.bytes -= this.sizes[drop] ?? 0;
      drop += 1;
    }
    if (drop > 0) {
      this.events = this.events.slice(drop);
      this.sizes = this.sizes.slice(drop);
      this.firstEventId += drop;
    }
  }

  /**
   * Events [fromEventId, toEventId) when the tail holds the whole range, at most `limit` of them
   * and, past the first, at most `maxBytes` of encoded events; undefined when it does not.
   */
  read(fromEventId: number, toEventId: number, limit: number, maxBytes = Infinity): { events: HistoryEvent[]; complete: boolean } | undefined {
    if (fromEventId < this.firstEventId || toEventId > this.endEventId) return undefined;
    const events: HistoryEvent[] = [];
    let bytes = 0;
    for (let id = fromEventId; id < toEventId && events.length < limit; id++) {
      const i = id - this.firstEventId;
      const size = this.sizes[i] ?? 0;
      if (events.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      events.push(this.events[i] as HistoryEvent);
    }
    return { events, complete: fromEventId + events.length === toEventId || toEventId <= fromEventId };
  }
}
