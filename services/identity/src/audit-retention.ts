/**
 * Audit records are kept `identity.auditRetention` (30 days, as Temporal Cloud keeps them); older
 * ones are deleted in the background, in batches of at most AUDIT_PRUNE_BATCH rows with the event
 * loop given a turn between them, so pruning a large backlog never holds up a call. Losing the
 * timer in a crash loses nothing: the next start prunes what is due.
 */
import { IdentitySettings, type Clock, type Logger, type Settings } from '@hourglass/common';
import type { IdentityStore } from '@hourglass/persistence';

export const AUDIT_PRUNE_BATCH = 1000;

export class AuditRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly options: { store: IdentityStore; clock: Clock; settings: Settings; logger: Logger }) {}

  /** Deletes every record older than the retention; resolves with how many. */
  pruneOnce(): Promise<number> {
    this.running ??= this.prune().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Prunes now and then every `identity.auditPruneInterval`, until stopped. */
  start(): void {
    const tick = (): void => {
      this.pruneOnce().catch((err: unknown) => this.options.logger.warn({ err }, 'could not prune the audit log'));
    };
    tick();
    this.timer = setInterval(tick, this.options.settings.get(IdentitySettings.auditPruneInterval));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async prune(): Promise<number> {
    const before = this.options.clock.now() - this.options.settings.get(IdentitySettings.auditRetention);
    let total = 0;
    for (;;) {
      const deleted = await this.options.store.deleteAuditBefore(before, AUDIT_PRUNE_BATCH);
      total += deleted;
      if (deleted < AUDIT_PRUNE_BATCH) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
