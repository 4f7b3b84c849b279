/**
 * Visibility changes as Kafka messages. The key is the namespace id and workflow id, so every
 * change of one workflow lands in one partition, in order; the value is versioned JSON (memo bytes
 * as base64) that a consumer of an older or newer build can recognise.
 */
import { InvalidArgumentError } from '@hourglass/common';
import type { VisibilityChange, VisibilityDeletion, VisibilityRecord } from '../record';

/** Format of the message value: bump when its shape changes incompatibly. */
export const VISIBILITY_MESSAGE_FORMAT = 1;

export interface VisibilityMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

interface WireRecord extends Omit<VisibilityRecord, 'memo'> {
  memo: string | null;
}

type WireValue =
  | { format: number; kind: 'upsert'; committedAt: number; record: WireRecord }
  | { format: number; kind: 'delete'; committedAt: number; deletion: VisibilityDeletion };

/** namespace id + workflow id: Kafka's partitioner keeps one workflow's changes in one partition, in order. */
export function visibilityMessageKey(namespaceId: string, workflowId: string): string {
  return `${namespaceId}/${workflowId}`;
}

export function encodeVisibilityMessage(change: VisibilityChange): VisibilityMessage {
  const target = change.kind === 'upsert' ? change.record : change.deletion;
  const value: WireValue =
    change.kind === 'upsert'
      ? {
          format: VISIBILITY_MESSAGE_FORMAT,
          kind: 'upsert',
          committedAt: change.committedAt,
          record: { ...change.record, memo: change.record.memo ? Buffer.from(change.record.memo).toString('base64') : null },
        }
      : { format: VISIBILITY_MESSAGE_FORMAT, kind: 'delete', committedAt: change.committedAt, deletion: change.deletion };
  return {
    key: visibilityMessageKey(target.namespaceId, target.workflowId),
    value: Buffer.from(JSON.stringify(value), 'utf8'),
    headers: { 'hourglass-visibility-format': String(VISIBILITY_MESSAGE_FORMAT) },
  };
}

/** The change a message carries; InvalidArgumentError for a value this build cannot read. */
export function decodeVisibilityMessage(value: Buffer | null): VisibilityChange {
  if (!value) throw new InvalidArgumentError('visibility message without a value');
  let parsed: Partial<WireValue>;
  try {
    parsed = JSON.parse(value.toString('utf8')) as Partial<WireValue>;
  } catch {
    throw new InvalidArgumentError('visibility message is not JSON');
  }
  if (parsed.format !== VISIBILITY_MESSAGE_FORMAT) throw new InvalidArgumentError(`visibility message format ${String(parsed.format)} is not ${VISIBILITY_MESSAGE_FORMAT}`);
  if (typeof parsed.committedAt !== 'number') throw new InvalidArgumentError('visibility message has no committedAt');
  if (parsed.kind === 'upsert' && parsed.record && typeof parsed.record.runId === 'string' && typeof parsed.record.version === 'number') {
    const { memo, ...rest } = parsed.record;
    return { kind: 'upsert', committedAt: parsed.committedAt, record: { ...rest, memo: memo ? new Uint8Array(Buffer.from(memo, 'base64')) : null } };
  }
  if (parsed.kind === 'delete' && parsed.deletion && typeof parsed.deletion.runId === 'string' && typeof parsed.deletion.version === 'number') {
    return { kind: 'delete', committedAt: parsed.committedAt, deletion: parsed.deletion };
  }
  throw new InvalidArgumentError(`visibility message of kind ${String(parsed.kind)} is incomplete`);
}
