/**
 * Checks every backend applies the same way, with the same messages: they are part of the store
 * contract, not of one database.
 */
import { InvalidArgumentError } from '@hourglass/common';
import { ConditionFailedError } from './errors';
import type { ExecutionKey, ExecutionWrite } from './types';

export function describeRun(key: ExecutionKey): string {
  return `workflow ${key.workflowId} run ${key.runId} (namespace ${key.namespaceId})`;
}

/**
 * Appended events must continue the stored history exactly: `firstExpected` is the stored
 * max + 1 (1 for a new run), ids are contiguous, and nextEventId follows the last one.
 */
export function checkAppendedEvents(write: ExecutionWrite, firstExpected: number): void {
  const { events } = write;
  const first = events[0];
  if (!first) return;
  const run = describeRun(write.key);
  if (first.eventId !== firstExpected) {
    throw new ConditionFailedError(
      `${run}: first appended event id is ${first.eventId}, expected ${firstExpected} (stored history ends at ${firstExpected - 1})`,
    );
  }
  events.forEach((event, i) => {
    if (event.eventId !== first.eventId + i) {
      throw new ConditionFailedError(`${run}: appended event ids are not contiguous: ${events[i - 1]?.eventId} is followed by ${event.eventId}`);
    }
  });
  const lastId = first.eventId + events.length - 1;
  if (write.nextEventId !== lastId + 1) {
    throw new ConditionFailedError(`${run}: nextEventId is ${write.nextEventId}, but the last appended event id is ${lastId}`);
  }
}

/** Namespace page tokens: the last name of the page, base64url. */
export function encodeNamespacePageToken(lastName: string): string {
  return Buffer.from(lastName, 'utf8').toString('base64url');
}

/** Rejects tokens this store did not issue instead of silently restarting from the top. */
export function decodeNamespacePageToken(token: string): string {
  const lastName = Buffer.from(token, 'base64url').toString('utf8');
  if (lastName === '' || encodeNamespacePageToken(lastName) !== token) {
    throw new InvalidArgumentError(`invalid namespace page token ${JSON.stringify(token)}`);
  }
  return lastName;
}
