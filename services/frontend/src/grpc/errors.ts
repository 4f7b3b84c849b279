/**
 * Domain errors → gRPC status + the Temporal error details the SDK decodes
 * (grpc-status-details-bin carrying a google.rpc.Status whose details are Anys).
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { QUOTE_LIMIT, google, isHourglassError, quote, temporal, type ErrorCode, type ErrorDetail, type Logger } from '@hourglass/common';

const STATUS_BY_CODE: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: status.UNAVAILABLE,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  UNIMPLEMENTED: status.UNIMPLEMENTED,
  CANCELLED: status.CANCELLED,
  INTERNAL: status.INTERNAL,
};

const errordetails = temporal.api.errordetails.v1;

function packDetail(detail: ErrorDetail): google.protobuf.IAny {
  const pack = (typeName: string, bytes: Uint8Array): google.protobuf.IAny => ({
    type_url: `type.googleapis.com/temporal.api.errordetails.v1.${typeName}`,
    value: bytes,
  });
  switch (detail.type) {
    case 'WorkflowExecutionAlreadyStartedFailure':
      return pack(detail.type, errordetails.WorkflowExecutionAlreadyStartedFailure.encode({ startRequestId: detail.startRequestId, runId: detail.runId }).finish());
    case 'ActivityExecutionAlreadyStartedFailure':
      return pack(detail.type, errordetails.ActivityExecutionAlreadyStartedFailure.encode({ startRequestId: detail.startRequestId, runId: detail.runId }).finish());
    case 'NamespaceNotFoundFailure':
      return pack(detail.type, errordetails.NamespaceNotFoundFailure.encode({ namespace: detail.namespace }).finish());
    case 'NamespaceAlreadyExistsFailure':
      return pack(detail.type, errordetails.NamespaceAlreadyExistsFailure.encode({}).finish());
    case 'NotFoundFailure':
      return pack(detail.type, errordetails.NotFoundFailure.encode({ currentCluster: detail.currentCluster ?? '', activeCluster: detail.activeCluster ?? '' }).finish());
    case 'QueryFailedFailure':
      return pack(detail.type, errordetails.QueryFailedFailure.encode({ ...(detail.failure ? { failure: detail.failure as temporal.api.failure.v1.IFailure } : {}) }).finish());
    case 'ResourceExhaustedFailure':
      return pack(detail.type, errordetails.ResourceExhaustedFailure.encode({ cause: detail.cause, ...(detail.scope ? { scope: detail.scope } : {}) }).finish());
    case 'PermissionDeniedFailure':
      return pack(detail.type, errordetails.PermissionDeniedFailure.encode({ reason: detail.reason }).finish());
    case 'MultiOperationExecutionFailure':
      return pack(
        detail.type,
        errordetails.MultiOperationExecutionFailure.encode({
          statuses: detail.statuses.map((s) =>
            s.aborted
              ? { code: status.ABORTED, message: 'Operation was aborted.' }
              : { code: STATUS_BY_CODE[s.code], message: capStatusMessage(s.message), details: s.detail ? [packDetail(s.detail)] : [] },
          ),
        }).finish(),
      );
  }
}

/** Longest status message sent: it travels in an HTTP/2 trailer, and callers read it. */
export const MAX_STATUS_MESSAGE_LENGTH = 1000;

/** A JSON string literal (what `JSON.stringify(value)` puts in a message). */
const JSON_STRING = /"(?:[^"\\]|\\.)*"/g;

/**
 * The safety net under every status message: a caller's value quoted whole somewhere below the
 * frontend (`JSON.stringify(workflowId)` in a history error) is cut to QUOTE_LIMIT characters with
 * its length, as quote() would have; then the message is capped at MAX_STATUS_MESSAGE_LENGTH. A
 * 100,000-character value never goes back to the caller, and never stalls its connection.
 */
export function capStatusMessage(message: string): string {
  let capped = message;
  if (capped.length > QUOTE_LIMIT + 2) {
    capped = capped.replace(JSON_STRING, (literal) => {
      if (literal.length <= QUOTE_LIMIT + 2) return literal;
      try {
        const value = JSON.parse(literal) as string;
        // quote()'s own output (QUOTE_LIMIT characters and '…') is already short.
        return value.length > QUOTE_LIMIT + 1 ? quote(value) : literal;
      } catch {
        return literal;
      }
    });
  }
  if (capped.length > MAX_STATUS_MESSAGE_LENGTH) capped = `${capped.slice(0, MAX_STATUS_MESSAGE_LENGTH)}… (message of ${capped.length} characters cut)`;
  return capped;
}

/** A grpc-js error for the callback. Unknown errors become INTERNAL and are logged loudly. */
export function toServiceError(err: unknown, method: string, logger: Logger): Partial<ServiceError> {
  if (!isHourglassError(err)) {
    logger.error({ err, method }, 'unexpected error in RPC handler');
    return { code: status.INTERNAL, details: `internal error in ${method}` };
  }
  if (err.kind === 'invariant') logger.error({ err, method }, 'invariant violated');
  const code = STATUS_BY_CODE[err.code];
  const message = capStatusMessage(err.message);
  const metadata = new Metadata();
  if (err.detail) {
    const statusProto = google.rpc.Status.encode({ code, message, details: [packDetail(err.detail)] }).finish();
    metadata.set('grpc-status-details-bin', Buffer.from(statusProto));
  }
  return { code, details: message, metadata };
}
