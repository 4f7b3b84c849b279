/**
 * `@hourglass/testing`: testing Temporal workflows offline against Hourglass — a time-skipping
 * `TestEnvironment` that embeds the Hourglass server (in-memory store) in the test process, and
 * the launcher that lets `@temporalio/testing`'s `TestWorkflowEnvironment.createTimeSkipping` run
 * Hourglass. A dev dependency next to `@hourglass/sdk`: it brings the whole server with it, which
 * is why it is not part of `@hourglass/sdk`.
 *
 * ```ts
 * import { TestEnvironment, hourglassTestServer } from '@hourglass/testing';
 * ```
 */
export { TestEnvironment, type TestEnvironmentOptions, type TestWorkerOptions } from './environment';
export { hourglassTestServer, hourglassTestServerPath } from './launcher';
