/**
 * Task tokens: opaque to workers, they name exactly one workflow task or activity attempt.
 * A token for anything that is no longer current is answered with NOT_FOUND.
 * Format (persisted in workers' hands, keep compatible): JSON with a version field.
 */
import { InvalidArgumentError } from '@hourglass/common';

export interface WorkflowTaskToken {
  kind: 'workflow';
  namespaceId: string;
  workflowId: string;
  runId: string;
  scheduledEventId: number;
  startedEventId: number;
  attempt: number;
}

export interface ActivityTaskToken {
  kind: 'activity';
  namespaceId: string;
  workflowId: string;
  runId: string;
  scheduledEventId: number;
  attempt: number;
  activityId: string;
}

/** A legacy query task: answered with RespondQueryTaskCompleted. */
export interface QueryTaskToken {
  kind: 'query';
  namespaceId: string;
  workflowId: string;
  runId: string;
  queryId: string;
}

export type TaskToken = WorkflowTaskToken | ActivityTaskToken | QueryTaskToken;

const TOKEN_VERSION = 1;

export function encodeTaskToken(token: TaskToken): Uint8Array {
  const compact =
    token.kind === 'workflow'
      ? [TOKEN_VERSION, 'w', token.namespaceId, token.workflowId, token.runId, token.scheduledEventId, token.startedEventId, token.attempt]
      : token.kind === 'activity'
        ? [TOKEN_VERSION, 'a', token.namespaceId, token.workflowId, token.runId, token.scheduledEventId, token.attempt, token.activityId]
        : [TOKEN_VERSION, 'q', token.namespaceId, token.workflowId, token.runId, 0, 0, token.queryId];
  return Buffer.from(JSON.stringify(compact), 'utf8');
}

function malformed(): InvalidArgumentError {
  return new InvalidArgumentError('task token is malformed: it was not issued by this server');
}

export function decodeTaskToken(bytes: Uint8Array | null | undefined): TaskToken {
  if (!bytes || bytes.length === 0) throw new InvalidArgumentError('task token is not set');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw malformed();
  }
  if (!Array.isArray(parsed) || parsed[0] !== TOKEN_VERSION || parsed.length !== 8) throw malformed();
  const [, kind, namespaceId, workflowId, runId, scheduledEventId, a, b] = parsed as unknown[];
  const strings = [namespaceId, workflowId, runId].every((v) => typeof v === 'string' && v.length > 0);
  if (!strings || !Number.isSafeInteger(scheduledEventId) || !Number.isSafeInteger(a)) throw malformed();
  if (kind === 'w' && Number.isSafeInteger(b)) {
    return { kind: 'workflow', namespaceId, workflowId, runId, scheduledEventId, startedEventId: a, attempt: b } as WorkflowTaskToken;
  }
  if (kind === 'q' && typeof b === 'string') {
    return { kind: 'query', namespaceId, workflowId, runId, queryId: b } as QueryTaskToken;
  }
  if (kind === 'a' && typeof b === 'string') {
    return { kind: 'activity', namespaceId, workflowId, runId, scheduledEventId, attempt: a, activityId: b } as ActivityTaskToken;
  }
  throw malformed();
}
