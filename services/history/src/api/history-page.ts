/**
 * History is read in pages everywhere a caller can ask for much of it (GetWorkflowExecutionHistory,
 * the history a workflow task carries, legacy query tasks): bounded by a count and by bytes, so a
 * 50,000-event history never becomes one message or one long synchronous read.
 */
import { InvalidArgumentError } from '@hourglass/common';

/** Encoded events per page past its first event: well below the 4 MB gRPC message limit. */
export const HISTORY_PAGE_BYTES = 3 * 1024 * 1024;

/** Page token: the run and the next event id to read. Opaque to clients. */
export interface PageToken {
  runId: string;
  nextEventId: number;
}

export function encodePageToken(token: PageToken): Uint8Array {
  return Buffer.from(JSON.stringify([token.runId, token.nextEventId]), 'utf8');
}

export function decodePageToken(bytes: Uint8Array): PageToken {
  try {
    const [runId, nextEventId] = JSON.parse(Buffer.from(bytes).toString('utf8')) as [unknown, unknown];
    if (typeof runId === 'string' && Number.isSafeInteger(nextEventId) && (nextEventId as number) > 0) return { runId, nextEventId: nextEventId as number };
  } catch {
    // fall through
  }
  throw new InvalidArgumentError('nextPageToken is malformed: it was not issued by this server');
}
