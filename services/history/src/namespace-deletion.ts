/**
 * Deleting a namespace's executions (OperatorService DeleteNamespace) as a durable background job.
 * The job's persisted state is the namespace record itself: state `deleted`. This process works
 * through every deleted namespace's runs in each shard it owns (all of them in start-dev; with dynamic
 * ownership the ones this host holds now, a shard acquired later being looked at again), a bounded batch at a time: a running
 * run is terminated, then deleted with everything it has (the same deletion as retention's). After a
 * crash or restart the job starts again from what the store still holds, so nothing is left behind;
 * each step is idempotent. A periodic recheck (and a kick from DeleteNamespace) drives it: the
 * recheck is not a deadline of its own, only how soon persisted work is picked up again.
 */
import { type Logger } from '@hourglass/common';
import type { ExecutionKey, ExecutionStore, NamespaceRecord } from '@hourglass/persistence';
import type { NamespaceRegistry } from './namespace-registry';
import type { ShardContext } from './shard/shard-context';
import { terminateWorkflow } from './workflow/close';
import { isRunning } from './workflow/mutable-state';
import { isWorkerDeploymentsKey } from './worker-deployments/worker-deployments';
import { isScheduleKey } from './schedules/scheduler';
import { isStandaloneActivityKey } from './activities/standalone-activity';

/** Runs listed (and deleted) per batch; the event loop gets a turn between runs. */
const BATCH = 100;
/** How often deleted namespaces are looked at again (new runs cannot start in them; stragglers can). */
const RECHECK_MS = 60_000;
const NAMESPACE_PAGE = 100;

export interface NamespaceDeletionDeps {
  store: ExecutionStore;
  namespaces: NamespaceRegistry;
  /** The shards this host owns now. */
  shards: () => readonly ShardContext[];
  logger: Logger;
}

export class NamespaceDeletion {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** Per namespace, the shards whose runs of it this process has all deleted (looked at again after a restart or a re-acquisition). */
  private readonly finished = new Map<string, Set<number>>();

  constructor(private readonly deps: NamespaceDeletionDeps) {}

  start(): void {
    // kick() never rejects: a failed pass is logged and retried at the next recheck.
    void this.kick();
    this.timer = setInterval(() => void this.kick(), RECHECK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** This host (again) owns a shard: whatever it holds of deleted namespaces is looked at in a pass now. */
  shardAcquired(shardId: number): void {
    for (const shards of this.finished.values()) shards.delete(shardId);
    void this.kick();
  }

  /** Look for work now (a namespace was just deleted). Resolves when that pass is over. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pass()
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'namespace deletion pass failed; it is retried at the next recheck'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.kick();
        }
      });
    return this.running;
  }

  private async pass(): Promise<void> {
    let token: string | undefined;
    do {
      const page = await this.deps.namespaces.list(NAMESPACE_PAGE, token);
      for (const ns of page.items) {
        if (this.stopped) return;
        if (ns.state === 'deleted') await this.deleteExecutionsOf(ns);
      }
      token = page.nextPageToken;
    } while (token);
  }

  private async deleteExecutionsOf(ns: NamespaceRecord): Promise<void> {
    let deleted = 0;
    let finished = this.finished.get(ns.id);
    if (!finished) this.finished.set(ns.id, (finished = new Set()));
    const shards = this.deps.shards().filter((shard) => !finished.has(shard.shardId));
    if (shards.length === 0) return;
    for (const shard of shards) {
      let after: ExecutionKey | undefined;
      for (;;) {
        if (this.stopped) return;
        const keys = await this.deps.store.listExecutionKeys(shard.shardId, ns.id, after, BATCH);
        for (const key of keys) {
          await this.deleteRun(shard, key, ns);
          deleted += 1;
        }
        if (keys.length < BATCH) break;
        after = keys[keys.length - 1];
      }
      finished.add(shard.shardId);
    }
    this.deps.logger.info({ namespace: ns.name, namespaceId: ns.id, deleted, shards: shards.map((s) => s.shardId) }, 'deleted namespace: its executions are deleted from these shards');
  }

  /** Terminates the run if it still runs, then deletes it, each through the one mutation path. */
  private async deleteRun(shard: ShardContext, key: ExecutionKey, ns: NamespaceRecord): Promise<void> {
    // The namespace's worker deployments, schedules and standalone activities are entity rows, not
    // runs: each removed as it is (their pending timers find no row and do nothing).
    if (isWorkerDeploymentsKey(key) || isScheduleKey(key) || isStandaloneActivityKey(key)) {
      await shard.updateEntity(key, () => ({ write: 'delete', result: undefined }));
      return;
    }
    await shard.updateWorkflow(key.namespaceId, key.workflowId, async (tx) => {
      const ctx = await tx.run(key.runId);
      if (ctx && isRunning(ctx.ms)) terminateWorkflow(ctx, { reason: `namespace ${ns.name} was deleted`, identity: 'hourglass namespace deletion', retentionMs: 0 });
    });
    await shard.updateWorkflow(key.namespaceId, key.workflowId, async (tx) => {
      const ctx = await tx.run(key.runId);
      if (ctx && !isRunning(ctx.ms)) tx.deleteRun(ctx);
    });
  }
}
