/** One call of an activity function in this test process. */
export interface Invocation {
  workflowId: string;
  runId: string;
  activityId: string;
  activityType: string;
  attempt: number;
  /** `Date.now()` when the function was entered. */
  startedAt: number;
  /** `Date.now()` when it returned or threw; undefined while running. */
  endedAt?: number;
  outcome?: 'completed' | 'failed';
  /** The heartbeat details the attempt was given (`info.heartbeatDetails`). */
  heartbeatDetails?: unknown;
}

/**
 * Records every activity invocation and every saga/compensation step, so tests can count calls and
 * check ordering. Tests look up their own records by workflow id, so one recorder can serve a whole
 * test file without tests seeing each other's calls.
 */
export class ActivityRecorder {
  readonly invocations: Invocation[] = [];
  private readonly steps = new Map<string, string[]>();
  /** Switches a test flips to change activity behaviour between runs (e.g. "the bug is fixed"). */
  readonly flags = new Map<string, boolean>();

  begin(invocation: Omit<Invocation, 'endedAt' | 'outcome'>): Invocation {
    const record: Invocation = { ...invocation };
    this.invocations.push(record);
    return record;
  }

  /** Appends a named step (e.g. "compensate:hotel") to the workflow's ordered step log. */
  step(workflowId: string, step: string): void {
    const list = this.steps.get(workflowId) ?? [];
    list.push(step);
    this.steps.set(workflowId, list);
  }

  stepsOf(workflowId: string): string[] {
    return [...(this.steps.get(workflowId) ?? [])];
  }

  forWorkflow(workflowId: string): Invocation[] {
    return this.invocations.filter((i) => i.workflowId === workflowId);
  }

  /** Invocations of one activity (all attempts), oldest first. */
  forActivity(workflowId: string, activityId: string): Invocation[] {
    return this.invocations.filter((i) => i.workflowId === workflowId && i.activityId === activityId);
  }

  /** `workflowId/activityId` → number of invocations. */
  countsByActivity(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const i of this.invocations) {
      const key = `${i.workflowId}/${i.activityId}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }
}
