/**
 * hourglass_billable_actions_total: billable actions folded into the durable hourly counters by
 * this process since it started, by namespace and action type — what a metrics endpoint exports
 * as a counter. It only mirrors the durable counters (it grows when a fold takes effect), so a
 * restart starts it at zero as a Prometheus counter reset; bills always read the store.
 */
import type { UsageIncrement } from '@hourglass/persistence';
import { actionOfRecordType, BillableActions, type BillableAction } from '@hourglass/usage';

export interface BillableActionSample {
  namespaceId: string;
  /** The action's record type (`workflow_started`, `signal`, ...): the metric's `action` label. */
  action: string;
  value: number;
}

export class BillableActionCounter {
  static readonly metricName = 'hourglass_billable_actions_total';
  private readonly counts = new Map<string, Map<BillableAction, number>>();
  private readonly listeners = new Set<(namespaceId: string, action: BillableAction, amount: number) => void>();

  /** Adds a fold's action increments (storage increments are not actions and are ignored). */
  add(namespaceId: string, increments: readonly UsageIncrement[]): void {
    for (const i of increments) {
      const action = actionOfRecordType(i.recordType);
      if (!action || i.amount === 0) continue;
      let byAction = this.counts.get(namespaceId);
      if (!byAction) this.counts.set(namespaceId, (byAction = new Map()));
      byAction.set(action, (byAction.get(action) ?? 0) + i.amount);
      for (const listener of this.listeners) listener(namespaceId, action, i.amount);
    }
  }

  /** Every (namespace, action) counted so far. */
  samples(): BillableActionSample[] {
    const out: BillableActionSample[] = [];
    for (const [namespaceId, byAction] of this.counts) {
      for (const [action, value] of byAction) out.push({ namespaceId, action: BillableActions[action].recordType, value });
    }
    return out;
  }

  /** Called on every increment (a push-style metrics exporter); returns the unsubscribe function. */
  onIncrement(listener: (namespaceId: string, action: BillableAction, amount: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
