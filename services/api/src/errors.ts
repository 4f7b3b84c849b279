/**
 * Domain errors (HourglassError, one taxonomy for every edge) as GraphQL errors: the message as the
 * domain wrote it (it already says what was wrong and quotes at most a prefix of the caller's
 * value) and `extensions.code` in Apollo's vocabulary. Anything else is an internal error whose
 * message is not shown to the caller.
 */
import { GraphQLError } from 'graphql';
import { HourglassError, type ErrorCode } from '@hourglass/common';

/** `extensions.code` of each domain error code. */
export const GRAPHQL_CODE: Readonly<Record<ErrorCode, string>> = {
  INVALID_ARGUMENT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  FAILED_PRECONDITION: 'FAILED_PRECONDITION',
  PERMISSION_DENIED: 'FORBIDDEN',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  RESOURCE_EXHAUSTED: 'RATE_LIMITED',
  UNAVAILABLE: 'UNAVAILABLE',
  DEADLINE_EXCEEDED: 'TIMEOUT',
  CANCELLED: 'CANCELLED',
  UNIMPLEMENTED: 'NOT_IMPLEMENTED',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
};

export function toGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  if (err instanceof HourglassError) {
    const code = GRAPHQL_CODE[err.code] ?? 'INTERNAL_SERVER_ERROR';
    const internal = code === 'INTERNAL_SERVER_ERROR';
    return new GraphQLError(internal ? 'internal error' : err.message, { extensions: { code } });
  }
  return new GraphQLError('internal error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

/** A refusal of bad input that the GraphQL layer itself finds (an unparsable date, an empty name). */
export function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}
