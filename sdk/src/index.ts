/**
 * `@hourglass/sdk`: what a customer adds next to the official Temporal TypeScript SDK to use
 * Hourglass — connection helpers, error helpers and an offline, time-skipping test environment.
 * Workflow-side helpers (the `Saga`) live in the workflow-safe entry `@hourglass/sdk/workflow`.
 *
 * ```ts
 * import { connect, TestEnvironment, isApplicationFailure } from '@hourglass/sdk';
 * import { Saga } from '@hourglass/sdk/workflow'; // in workflow code
 * ```
 */
export {
  connect,
  resolveConnectSettings,
  CONNECT_ENV_VARS,
  DEFAULT_ADDRESS,
  DEFAULT_NAMESPACE,
  type ConnectOptions,
  type ConnectSettings,
  type HourglassConnection,
} from './connect';
export { causeChain, rootCause, findApplicationFailure, isApplicationFailure, findTimeoutFailure, isTimeoutFailure, isCancellation } from './errors';
export { TestEnvironment, type TestEnvironmentOptions, type TestWorkerOptions } from './testing/environment';
export { hourglassTestServer, hourglassTestServerPath } from './testing/launcher';
