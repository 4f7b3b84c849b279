// Public entry of @hourglass/conformance: the harness (server process, SDK connections, workflow
// bundle, polling and history assertions) so load tests can reuse it, plus the test activities.
export * from './harness';
export { ActivityRecorder, createActivities } from './activities';
export type { Activities, CheckpointResult, Invocation } from './activities';
