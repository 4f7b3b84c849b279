/**
 * DescribeTaskQueue in both of Temporal's modes, from what matching holds: pollers (identity and
 * last access time, seen within five minutes) and the backlog (count and age) per task queue type.
 * The legacy mode answers one type (`taskQueueType`, workflow by default) with `pollers` and, when
 * asked, `taskQueueStatus` and `stats`; the enhanced mode answers `versionsInfo` keyed by build id
 * ('' for unversioned workers: Hourglass does not version task queues) with each requested type.
 */
import { InvalidArgumentError, int64, msToDuration, msToTimestamp, temporal } from '@hourglass/common';
import { versionedTaskQueueName, type DeploymentVersionRef, type MatchingService, type TaskQueueDescription } from '@hourglass/contracts';

type Request = temporal.api.workflowservice.v1.IDescribeTaskQueueRequest;
type Response = temporal.api.workflowservice.v1.IDescribeTaskQueueResponse;
type PollerInfo = temporal.api.taskqueue.v1.IPollerInfo;
type TaskQueueStats = temporal.api.taskqueue.v1.ITaskQueueStats;

const TaskQueueType = temporal.api.enums.v1.TaskQueueType;
const TYPES: Readonly<Record<number, 'workflow' | 'activity'>> = {
  [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW]: 'workflow',
  [TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]: 'activity',
};

/** What matching holds for a queue, and for each of its versions. */
interface Described {
  d: TaskQueueDescription;
  versions: { version: DeploymentVersionRef; d: TaskQueueDescription }[];
}

function pollersOf({ d, versions }: Described): PollerInfo[] {
  const unversioned = d.pollers.map((p) => ({ identity: p.identity, lastAccessTime: msToTimestamp(p.lastAccessTime), ratePerSecond: 0 }));
  const versioned = versions.flatMap(({ version, d: vd }) =>
    vd.pollers.map((p) => ({
      identity: p.identity,
      lastAccessTime: msToTimestamp(p.lastAccessTime),
      ratePerSecond: 0,
      deploymentOptions: { ...version, workerVersioningMode: temporal.api.enums.v1.WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED },
    })),
  );
  return [...unversioned, ...versioned];
}

/** One queue's description with its versions' backlogs added. */
function merged({ d, versions }: Described): TaskQueueDescription {
  let backlogTasks = d.backlogTasks;
  let oldest = d.oldestBacklogTime;
  for (const { d: vd } of versions) {
    backlogTasks += vd.backlogTasks;
    if (vd.oldestBacklogTime !== undefined && (oldest === undefined || vd.oldestBacklogTime < oldest)) oldest = vd.oldestBacklogTime;
  }
  return { ...d, backlogTasks, oldestBacklogTime: oldest };
}

function statsOf(d: TaskQueueDescription, now: number): TaskQueueStats {
  return {
    approximateBacklogCount: int64(d.backlogTasks),
    approximateBacklogAge: msToDuration(d.oldestBacklogTime === undefined ? 0 : Math.max(0, now - d.oldestBacklogTime)),
    tasksAddRate: 0,
    tasksDispatchRate: 0,
  };
}

/** The worker deployment versions a task queue (name, type) is registered in. */
export type TaskQueueVersions = (namespaceId: string, taskQueue: { name: string; type: 'workflow' | 'activity' }) => Promise<DeploymentVersionRef[]>;

export async function describeTaskQueue(matching: MatchingService, versionsOf: TaskQueueVersions, namespaceId: string, r: Request, now: number): Promise<Response> {
  const name = r.taskQueue?.name ?? '';
  const kind = r.taskQueue?.kind === temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY ? 'sticky' : 'normal';
  const found: Partial<Record<'workflow' | 'activity', DeploymentVersionRef[]>> = {};
  for (const type of ['workflow', 'activity'] as const) found[type] = kind === 'normal' ? await versionsOf(namespaceId, { name, type }) : [];
  const describe = async (type: 'workflow' | 'activity'): Promise<Described> => ({
    d: await matching.describeTaskQueue({ namespaceId, taskQueueName: name, type, kind }),
    versions: await Promise.all(
      (found[type] ?? []).map(async (version) => ({ version, d: await matching.describeTaskQueue({ namespaceId, taskQueueName: versionedTaskQueueName(name, version), type, kind }) })),
    ),
  });
  const typeOf = (value: number, field: string): 'workflow' | 'activity' => {
    const type = TYPES[value];
    if (!type) {
      if (value === TaskQueueType.TASK_QUEUE_TYPE_NEXUS) throw new InvalidArgumentError(`${field} TASK_QUEUE_TYPE_NEXUS: Hourglass has no Nexus task queues`);
      throw new InvalidArgumentError(`${field} ${value} is not a task queue type`);
    }
    return type;
  };
  if (r.apiMode === temporal.api.enums.v1.DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED) {
    const requested = r.taskQueueTypes && r.taskQueueTypes.length > 0 ? r.taskQueueTypes : [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY];
    const typesInfo: Record<number, temporal.api.taskqueue.v1.ITaskQueueTypeInfo> = {};
    for (const value of requested) {
      const d = await describe(typeOf(value, 'taskQueueTypes'));
      typesInfo[value] = { ...(r.reportPollers ? { pollers: pollersOf(d) } : {}), ...(r.reportStats ? { stats: statsOf(merged(d), now) } : {}) };
    }
    return { versionsInfo: { '': { typesInfo, taskReachability: temporal.api.enums.v1.BuildIdTaskReachability.BUILD_ID_TASK_REACHABILITY_REACHABLE } } };
  }
  const d = await describe(typeOf(r.taskQueueType || TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, 'taskQueueType'));
  const all = merged(d);
  return {
    pollers: pollersOf(d),
    ...(r.reportStats ? { stats: statsOf(all, now) } : {}),
    ...(r.includeTaskQueueStatus ? { taskQueueStatus: { backlogCountHint: int64(all.backlogTasks), ratePerSecond: 0 } } : {}),
  };
}
