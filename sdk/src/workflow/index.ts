/**
 * `@hourglass/sdk/workflow`: helpers for workflow code. Everything here imports only
 * `@temporalio/workflow`, so it bundles into the workflow sandbox (never import the main
 * `@hourglass/sdk` entry from a workflow: it pulls in Node-only code).
 *
 * ```ts
 * import { Saga } from '@hourglass/sdk/workflow';
 * ```
 */
export { Saga, SagaCompensationError, SAGA_COMPENSATION_ERROR_TYPE, type SagaOptions } from './saga';
