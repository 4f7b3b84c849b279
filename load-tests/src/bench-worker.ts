/**
 * The worker every benchmark process runs: the official SDK's, on the bench workflows, with the
 * no-op activity, sized so the worker is never what limits the server.
 */
import { DefaultLogger, NativeConnection, Worker, bundleWorkflowCode, type NativeConnectionOptions } from '@temporalio/worker';

export type WorkflowBundle = Awaited<ReturnType<typeof bundleWorkflowCode>>;

/** The bench workflows (./workflows), bundled once per process. */
export function bundleBenchWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('WARN') });
}

export interface BenchWorker {
  connection: NativeConnection;
  worker: Worker;
}

export async function createBenchWorker(
  connectionOptions: NativeConnectionOptions,
  namespace: string,
  taskQueue: string,
  workflowBundle: WorkflowBundle,
): Promise<BenchWorker> {
  const connection = await NativeConnection.connect(connectionOptions);
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue,
    workflowBundle,
    activities: { noop: async (input: string) => input },
    maxConcurrentWorkflowTaskExecutions: 100,
    maxConcurrentActivityTaskExecutions: 200,
  });
  return { connection, worker };
}
