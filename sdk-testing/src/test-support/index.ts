/**
 * Helpers for this package's own tests (not exported, not shipped): a quiet SDK runtime, the test
 * workflows bundled once per test file, unique names, deadlines.
 */
import { after, before } from 'node:test';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TestEnvironment } from '../environment';

let runtimeInstalled = false;

/** Installs the SDK runtime with an ERROR logger (once per process), before any connection or worker. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** `./workflows` bundled once per process (each test file is a process). */
export function testWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  installQuietRuntime();
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('WARN') });
  return bundle;
}

let counter = 0;

/** A task queue or workflow id no other test uses. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}

/** Rejects if `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** What {@link useTestEnvironment} gives a test file once its `before` hook ran. */
export interface TestFileEnvironment {
  env: TestEnvironment;
  workflowBundle: WorkflowBundleWithSourceMap;
}

/**
 * Registers `before`/`after` hooks (in the calling `describe`) that start a time-skipping
 * TestEnvironment and the test workflow bundle, and tear the environment down. The returned
 * object is filled in by `before`.
 */
export function useTestEnvironment(): TestFileEnvironment {
  const file = {} as TestFileEnvironment;
  before(async () => {
    installQuietRuntime();
    [file.env, file.workflowBundle] = await Promise.all([TestEnvironment.create(), testWorkflowBundle()]);
  });
  after(() => file.env?.teardown());
  return file;
}
