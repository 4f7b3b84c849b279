import { EventType, temporal, type HistoryEvent } from '@hourglass/common';

type IHistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The attribute field names of HistoryEvent's `attributes` oneof. */
export type EventAttributesKey = Extract<keyof IHistoryEvent, `${string}EventAttributes`>;
export type EventAttributes<K extends EventAttributesKey> = NonNullable<IHistoryEvent[K]>;

/** EventType for each attributes field: EVENT_TYPE_TIMER_FIRED ⇔ timerFiredEventAttributes. */
const typeByKey = new Map<string, number>();
const keyByType = new Map<number, EventAttributesKey>();
for (const [name, value] of Object.entries(EventType)) {
  if (typeof value !== 'number' || name === 'EVENT_TYPE_UNSPECIFIED') continue;
  const key = name
    .slice('EVENT_TYPE_'.length)
    .toLowerCase()
    .replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())
    .concat('EventAttributes') as EventAttributesKey;
  typeByKey.set(key, value);
  keyByType.set(value, key);
}

export function eventTypeOf(key: EventAttributesKey): number {
  const type = typeByKey.get(key);
  if (type === undefined) throw new Error(`no event type for ${key}`);
  return type;
}

export function attributesKeyOf(event: HistoryEvent): EventAttributesKey | undefined {
  return keyByType.get(event.eventType ?? 0);
}

export function eventTypeName(type: number | null | undefined): string {
  return EventType[type ?? 0] ?? `EVENT_TYPE_${type}`;
}

export function encodeEvent(event: HistoryEvent): Uint8Array {
  return temporal.api.history.v1.HistoryEvent.encode(event).finish();
}

export function decodeEvent(data: Uint8Array): temporal.api.history.v1.HistoryEvent {
  return temporal.api.history.v1.HistoryEvent.decode(data);
}
