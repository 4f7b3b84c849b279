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

/**
 * `unassigned` (an event encoded with event id 0) with event id `id` instead, or undefined when it
 * does not look like such an encoding. protobuf.js writes fields in field-number order and leaves a
 * zero int64 out, so such an encoding has no field 1 (or, from an encoder that writes zeros, begins
 * with its tag and a zero varint, 0x08 0x00); the id's field put first gives what encoding the
 * event with its id would (a test checks it for every event type), for a copy instead of an
 * encode: flushing thousands of buffered events stays cheap.
 */
export function withEventId(unassigned: Uint8Array, id: number): Uint8Array | undefined {
  if (!Number.isSafeInteger(id) || id < 1) return undefined;
  let rest = unassigned;
  if (unassigned[0] === EVENT_ID_TAG) {
    if (unassigned[1] !== 0) return undefined;
    rest = unassigned.subarray(2);
  }
  let length = 1;
  for (let v = id; v >= 0x80; v = Math.floor(v / 0x80)) length += 1;
  const out = new Uint8Array(1 + length + rest.length);
  out[0] = EVENT_ID_TAG;
  let i = 1;
  let v = id;
  while (v >= 0x80) {
    out[i++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[i++] = v;
  out.set(rest, i);
  return out;
}

/** HistoryEvent.event_id: field 1, varint. */
const EVENT_ID_TAG = 0x08;
