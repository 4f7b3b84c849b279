import path from 'node:path';

/**
 * Absolute path of `hourglass-test-server`, the launcher of Hourglass's time-skipping test server
 * (`<path> <port>`, in memory, time skipping locked until a client unlocks it): what
 * `@temporalio/testing` spawns as an `existing-path` executable.
 *
 * ```ts
 * const env = await TestWorkflowEnvironment.createTimeSkipping({
 *   server: { executable: { type: 'existing-path', path: hourglassTestServerPath() } },
 * });
 * ```
 */
export function hourglassTestServerPath(): string {
  return path.resolve(__dirname, '../bin/hourglass-test-server');
}

/**
 * The `server` option of `@temporalio/testing`'s `TestWorkflowEnvironment.createTimeSkipping`
 * that runs Hourglass instead of downloading Temporal's test server.
 *
 * ```ts
 * import { TestWorkflowEnvironment } from '@temporalio/testing';
 * import { hourglassTestServer } from '@hourglass/testing';
 *
 * const env = await TestWorkflowEnvironment.createTimeSkipping({ server: hourglassTestServer() });
 * ```
 */
export function hourglassTestServer(): { executable: { type: 'existing-path'; path: string } } {
  return { executable: { type: 'existing-path', path: hourglassTestServerPath() } };
}
