/**
 * `@hourglass/sdk`: what a customer adds next to the official Temporal TypeScript SDK to use
 * Hourglass — connection helpers and error helpers. Workflow-side helpers (the `Saga`) live in
 * the workflow-safe entry `@hourglass/sdk/workflow`; the offline, time-skipping test environment
 * is the separate dev dependency `@hourglass/testing` (it embeds the whole server).
 *
 * ```ts
 * import { connect, isApplicationFailure } from '@hourglass/sdk';
 * import { Saga } from '@hourglass/sdk/workflow'; // in workflow code
 * ```
 */
export {
  connect,
  resolveConnectSettings,
  ConnectConfigError,
  CONNECT_ENV_VARS,
  TEMPORAL_ENV_VARS,
  DEFAULT_ADDRESS,
  DEFAULT_NAMESPACE,
  type ConnectOptions,
  type ConnectSettings,
  type HourglassConnection,
} from './connect';
export { causeChain, rootCause, findApplicationFailure, isApplicationFailure, findTimeoutFailure, isTimeoutFailure, isCancellation } from './errors';
