/**
 * Worker deployments (Temporal's worker versioning, service/worker/workerdeployment), as a durable
 * entity of the history service instead of system workflows: every deployment of a namespace lives
 * in ONE entity row, in the shard that owns `temporal-sys-worker-deployments` (no current-run
 * pointer, so no workflow API sees it), changed in one conditional, fenced commit like a schedule.
 * A namespace has a handful of deployments, so listing is one read and a change is one write.
 *
 * Versions register themselves: a versioned worker's poll names its deployment, build id and task
 * queue, and the first poll of each (deployment, version, queue, type) adds it. What is registered
 * is served from a per-namespace cache, so a poll only writes when it brings something new.
 *
 * Routing: a task of a queue that belongs to a deployment with a current version goes to the pollers
 * of that version (or of the ramping version for the ramp's share of workflow ids, chosen by a hash
 * of the workflow id so a workflow always lands on the same side); a PINNED workflow's tasks go to
 * its own version. A queue of no deployment, or of one without a current version, stays unversioned.
 */
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  fnv1a32,
  int64,
  msToDuration,
  msToTimestamp,
  quote,
  temporal,
} from '@hourglass/common';
import { versionedTaskQueueName, type DeploymentVersionRef, type Ws } from '@hourglass/contracts';
import type { ExecutionKey } from '@hourglass/persistence';
import type { Clock, Logger } from '@hourglass/common';
import type { MatchingService } from '@hourglass/contracts';
import type { ShardContext } from '../shard/shard-context';

/** What the registry works with (a part of the engine's context, which carries the registry itself). */
export interface WorkerDeploymentsDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly matching: MatchingService;
  shardFor(namespaceId: string, workflowId: string): ShardContext;
}

const VersionStatus = temporal.api.enums.v1.WorkerDeploymentVersionStatus;
const TaskQueueType = temporal.api.enums.v1.TaskQueueType;
const VersioningBehavior = temporal.api.enums.v1.VersioningBehavior;

/** The workflow id of a namespace's deployment registry row. */
export const WORKER_DEPLOYMENTS_WORKFLOW_ID = 'temporal-sys-worker-deployments';
/** The run id of the registry row (rows of a workflow id are otherwise keyed by run). */
const REGISTRY_RUN_ID = '00000000-0000-4000-8000-de9107000000';
/** How long a host trusts its cached copy of a namespace's registry (another host may have changed it). */
const CACHE_TTL_MS = 2_000;
/** A version has pollers when one waits now or one was seen this recently (workers poll back to back). */
const LIVE_POLLER_WINDOW_MS = 10_000;
const MAX_NAME_LENGTH = 255;
/** Temporal's default limits (matching.maxDeployments, matching.maxVersionsInDeployment, matching.maxTaskQueuesInDeploymentVersion). */
const MAX_DEPLOYMENTS = 100;
const MAX_VERSIONS_PER_DEPLOYMENT = 100;
const MAX_TASK_QUEUES_PER_VERSION = 100;
const DEFAULT_PAGE_SIZE = 100;
/** Temporal's separator in the string form of a version (`<deployment>.<buildId>`). */
const VERSION_SEPARATOR = '.';
/** Temporal's name for "no version": routing to unversioned workers. */
const UNVERSIONED = '__unversioned__';

type QueueType = 'workflow' | 'activity';

interface StoredVersion {
  buildId: string;
  createTime: number;
  taskQueues: { name: string; type: QueueType }[];
  /** When it last became current or ramping (absent: never). */
  firstActivationTime?: number;
  lastCurrentTime?: number;
  lastDeactivationTime?: number;
  routingUpdateTime?: number;
}

interface StoredDeployment {
  name: string;
  createTime: number;
  versions: StoredVersion[];
  current: string | null;
  currentChangedTime: number | null;
  ramping: string | null;
  rampPercentage: number;
  rampingChangedTime: number | null;
  rampPercentageChangedTime: number | null;
  lastModifierIdentity: string;
  /** Bumped by every routing change (current, ramping); the conflict token is its 8 bytes. */
  revision: number;
}

interface StoredRegistry {
  v: 1;
  deployments: StoredDeployment[];
}

const EMPTY: StoredRegistry = { v: 1, deployments: [] };

/** Whether an execution row is a namespace's deployment registry (not a run). */
export function isWorkerDeploymentsKey(key: { workflowId: string; runId: string }): boolean {
  return key.workflowId === WORKER_DEPLOYMENTS_WORKFLOW_ID && key.runId === REGISTRY_RUN_ID;
}

function keyOf(namespaceId: string): ExecutionKey {
  return { namespaceId, workflowId: WORKER_DEPLOYMENTS_WORKFLOW_ID, runId: REGISTRY_RUN_ID };
}

function conflictToken(revision: number): Uint8Array {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(revision));
  return bytes;
}

function checkConflictToken(d: StoredDeployment, token: Uint8Array | null | undefined): void {
  if (!token || token.length === 0) return;
  if (token.length !== 8 || Buffer.from(token).readBigUInt64BE() !== BigInt(d.revision)) {
    throw new FailedPreconditionError(`conflict token mismatch: worker deployment ${quote(d.name)} changed since it was read`);
  }
}

function checkName(value: string | null | undefined, field: string): string {
  const name = value ?? '';
  if (name.length === 0) throw new InvalidArgumentError(`${field} must not be empty`);
  if (name.length > MAX_NAME_LENGTH) throw new InvalidArgumentError(`${field} ${quote(name)} is longer than ${MAX_NAME_LENGTH} characters`);
  if (name === UNVERSIONED) throw new InvalidArgumentError(`${field} must not be ${UNVERSIONED}`);
  return name;
}

/** A deployment name: a name without the separator of a version's string form. */
function checkDeploymentName(value: string | null | undefined, field: string): string {
  const name = checkName(value, field);
  if (name.includes(VERSION_SEPARATOR)) throw new InvalidArgumentError(`${field} ${quote(name)} must not contain '${VERSION_SEPARATOR}'`);
  return name;
}

function checkPercentage(value: number | null | undefined): number {
  const p = value ?? 0;
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new InvalidArgumentError(`percentage ${p} is not between 0 and 100`);
  return p;
}

/** A version named by the request: its deploymentVersion, else Temporal's deprecated `<deployment>.<buildId>` string. */
function versionOf(ref: temporal.api.deployment.v1.IWorkerDeploymentVersion | null | undefined, legacy: string | null | undefined, field: string): DeploymentVersionRef {
  if (ref && (ref.deploymentName || ref.buildId)) {
    return { deploymentName: checkDeploymentName(ref.deploymentName, `${field}.deploymentName`), buildId: checkName(ref.buildId, `${field}.buildId`) };
  }
  const text = legacy ?? '';
  const at = text.indexOf(VERSION_SEPARATOR);
  if (at <= 0) throw new InvalidArgumentError(`${field} must name a deployment and a build id`);
  return { deploymentName: checkName(text.slice(0, at), `${field}.deploymentName`), buildId: checkName(text.slice(at + 1), `${field}.buildId`) };
}

const versionString = (deploymentName: string, buildId: string): string => `${deploymentName}${VERSION_SEPARATOR}${buildId}`;
const ts = (ms: number | null | undefined) => (ms ? { ...msToTimestamp(ms) } : undefined);

function typeEnum(type: QueueType): number {
  return type === 'workflow' ? TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW : TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
}

function statusOf(d: StoredDeployment, v: StoredVersion): number {
  if (d.current === v.buildId) return VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT;
  if (d.ramping === v.buildId) return VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING;
  // Drainage is not measured: a version that once took new work is reported as draining until deleted.
  return v.firstActivationTime ? VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING : VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE;
}

function versionSummary(d: StoredDeployment, v: StoredVersion): temporal.api.deployment.v1.WorkerDeploymentInfo.IWorkerDeploymentVersionSummary {
  return {
    version: versionString(d.name, v.buildId),
    status: statusOf(d, v),
    deploymentVersion: { deploymentName: d.name, buildId: v.buildId },
    createTime: ts(v.createTime) ?? null,
    currentSinceTime: d.current === v.buildId ? (ts(d.currentChangedTime) ?? null) : null,
    rampingSinceTime: d.ramping === v.buildId ? (ts(d.rampingChangedTime) ?? null) : null,
    routingUpdateTime: ts(v.routingUpdateTime) ?? null,
    firstActivationTime: ts(v.firstActivationTime) ?? null,
    lastCurrentTime: ts(v.lastCurrentTime) ?? null,
    lastDeactivationTime: ts(v.lastDeactivationTime) ?? null,
  };
}

function routingConfig(d: StoredDeployment): temporal.api.deployment.v1.IRoutingConfig {
  return {
    ...(d.current ? { currentDeploymentVersion: { deploymentName: d.name, buildId: d.current }, currentVersion: versionString(d.name, d.current) } : { currentVersion: UNVERSIONED }),
    ...(d.ramping ? { rampingDeploymentVersion: { deploymentName: d.name, buildId: d.ramping }, rampingVersion: versionString(d.name, d.ramping), rampingVersionPercentage: d.rampPercentage } : {}),
    currentVersionChangedTime: ts(d.currentChangedTime) ?? null,
    rampingVersionChangedTime: ts(d.rampingChangedTime) ?? null,
    rampingVersionPercentageChangedTime: ts(d.rampPercentageChangedTime) ?? null,
    revisionNumber: int64(d.revision),
  };
}

/** Where a workflow's share of a ramp falls: [0, 100), the same for a workflow id every time. */
export function rampBucket(workflowId: string): number {
  return (fnv1a32(workflowId) % 10_000) / 100;
}

export class WorkerDeployments {
  private readonly cache = new Map<string, { registry: StoredRegistry; at: number }>();
  /** Bumped by every change this host commits: a read that began before one must not cache what it read. */
  private generation = 0;

  constructor(private readonly env: WorkerDeploymentsDeps) {}

  private shard(namespaceId: string) {
    return this.env.shardFor(namespaceId, WORKER_DEPLOYMENTS_WORKFLOW_ID);
  }

  /** The registry as stored (read through the cache unless `fresh`). */
  private async registry(namespaceId: string, fresh = false): Promise<StoredRegistry> {
    const cached = this.cache.get(namespaceId);
    const now = this.env.clock.now();
    if (!fresh && cached && now - cached.at < CACHE_TTL_MS) return cached.registry;
    const generation = this.generation;
    // Any host routes by the registry, whoever owns its shard: the committed row (at most CACHE_TTL_MS stale here).
    const record = await this.shard(namespaceId).readCommittedEntity(keyOf(namespaceId));
    const registry = record ? (JSON.parse(record.state) as StoredRegistry) : EMPTY;
    if (generation === this.generation) this.cache.set(namespaceId, { registry, at: now });
    return registry;
  }

  /**
   * One change of the registry: `fn` mutates a copy (or throws); nothing is written when it returns
   * false. What was committed becomes the cached registry at once, so routing follows the change.
   */
  private async change<T>(namespaceId: string, fn: (registry: StoredRegistry) => { changed: boolean; result: T }): Promise<T> {
    const key = keyOf(namespaceId);
    let committed: StoredRegistry | undefined;
    try {
      const result = await this.shard(namespaceId).updateEntity(key, (record) => {
        const registry = record ? (JSON.parse(record.state) as StoredRegistry) : structuredClone(EMPTY);
        const { changed, result: answer } = fn(registry);
        if (!changed) return { write: undefined, result: answer };
        const write = JSON.stringify(registry);
        committed = JSON.parse(write) as StoredRegistry;
        return { write, result: answer };
      });
      return result;
    } finally {
      this.generation += 1;
      if (committed) this.cache.set(namespaceId, { registry: committed, at: this.env.clock.now() });
      else this.cache.delete(namespaceId);
    }
  }

  /**
   * A change of a deployment's routing; when it changed something, the tasks waiting in the queues
   * it no longer targets (the unversioned queue and versions neither current nor ramping) are handed
   * back to be routed anew, in the background (a PINNED workflow's go back to its version).
   */
  private async routingChange<T>(namespaceId: string, name: string, fn: (registry: StoredRegistry) => { changed: boolean; result: T }): Promise<T> {
    let changed: StoredDeployment | undefined;
    const result = await this.change(namespaceId, (registry) => {
      const outcome = fn(registry);
      if (outcome.changed) changed = structuredClone(registry.deployments.find((d) => d.name === name));
      return outcome;
    });
    if (changed) {
      const d = changed;
      this.redirectStranded(namespaceId, d).catch((err: unknown) => this.env.logger.warn({ err, deployment: d.name }, 'could not route waiting tasks anew after a routing change'));
    }
    return result;
  }

  private async redirectStranded(namespaceId: string, d: StoredDeployment): Promise<void> {
    const queues = new Map<string, { name: string; type: QueueType }>();
    for (const v of d.versions) for (const q of v.taskQueues) queues.set(`${q.type}\u0000${q.name}`, q);
    for (const q of queues.values()) {
      await this.env.matching.redirectBacklog({ namespaceId, taskQueueName: q.name, type: q.type });
      for (const v of d.versions) {
        if (v.buildId === d.current || v.buildId === d.ramping || !v.taskQueues.some((x) => x.name === q.name && x.type === q.type)) continue;
        await this.env.matching.redirectBacklog({ namespaceId, taskQueueName: versionedTaskQueueName(q.name, { deploymentName: d.name, buildId: v.buildId }), type: q.type });
      }
    }
  }

  private static find(registry: StoredRegistry, name: string): StoredDeployment {
    const d = registry.deployments.find((x) => x.name === name);
    if (!d) throw new NotFoundError(`worker deployment ${quote(name)} not found`);
    return d;
  }

  /** The version a routing change names; with allowNoPollers, one no worker polled yet is created (as Temporal does). */
  private static targetVersionOf(d: StoredDeployment, buildId: string, allowNoPollers: boolean, now: number): StoredVersion {
    const found = d.versions.find((x) => x.buildId === buildId);
    if (found || !allowNoPollers) return found ?? WorkerDeployments.findVersion(d, buildId);
    if (d.versions.length >= MAX_VERSIONS_PER_DEPLOYMENT) throw new FailedPreconditionError(`worker deployment ${quote(d.name)} has ${MAX_VERSIONS_PER_DEPLOYMENT} versions, the most it may have`);
    const created: StoredVersion = { buildId, createTime: now, taskQueues: [] };
    d.versions.push(created);
    return created;
  }

  private static findVersion(d: StoredDeployment, buildId: string): StoredVersion {
    const v = d.versions.find((x) => x.buildId === buildId);
    if (!v) throw new NotFoundError(`worker deployment version ${quote(versionString(d.name, buildId))} not found`);
    return v;
  }

  /**
   * A versioned poll: registers its deployment, version and task queue the first time they are seen.
   * Polls of what is registered already only read the cache.
   */
  async register(namespaceId: string, version: DeploymentVersionRef, taskQueue: { name: string; type: QueueType }, identity: string): Promise<void> {
    const has = (registry: StoredRegistry) =>
      registry.deployments.find((d) => d.name === version.deploymentName)?.versions.find((v) => v.buildId === version.buildId)?.taskQueues.some((q) => q.name === taskQueue.name && q.type === taskQueue.type) ?? false;
    if (has(await this.registry(namespaceId))) return;
    await this.change(namespaceId, (registry) => {
      if (has(registry)) return { changed: false, result: undefined };
      const now = this.env.clock.now();
      let d = registry.deployments.find((x) => x.name === version.deploymentName);
      if (!d) {
        if (registry.deployments.length >= MAX_DEPLOYMENTS) throw new FailedPreconditionError(`this namespace has ${MAX_DEPLOYMENTS} worker deployments, the most it may have; delete unused ones first`);
        d = {
          name: version.deploymentName,
          createTime: now,
          versions: [],
          current: null,
          currentChangedTime: null,
          ramping: null,
          rampPercentage: 0,
          rampingChangedTime: null,
          rampPercentageChangedTime: null,
          lastModifierIdentity: identity,
          revision: 0,
        };
        registry.deployments.push(d);
      }
      let v = d.versions.find((x) => x.buildId === version.buildId);
      if (!v) {
        if (d.versions.length >= MAX_VERSIONS_PER_DEPLOYMENT) {
          throw new FailedPreconditionError(`worker deployment ${quote(d.name)} has ${MAX_VERSIONS_PER_DEPLOYMENT} versions, the most it may have; delete drained versions first`);
        }
        v = { buildId: version.buildId, createTime: now, taskQueues: [] };
        d.versions.push(v);
      }
      if (v.taskQueues.length >= MAX_TASK_QUEUES_PER_VERSION) {
        throw new FailedPreconditionError(`version ${quote(versionString(d.name, v.buildId))} has ${MAX_TASK_QUEUES_PER_VERSION} task queues, the most it may have`);
      }
      // Not a routing change: the conflict token (the routing revision, as Temporal's) stays.
      v.taskQueues.push({ name: taskQueue.name, type: taskQueue.type });
      return { changed: true, result: undefined };
    });
  }

  /**
   * The version a task of this queue goes to, or undefined for unversioned pollers. `pinned`: the
   * version a PINNED workflow declared, kept when the queue belongs to that version's deployment.
   */
  async targetVersion(namespaceId: string, taskQueue: { name: string; type: QueueType }, workflowId: string, pinned: DeploymentVersionRef | undefined): Promise<DeploymentVersionRef | undefined> {
    const registry = await this.registry(namespaceId);
    if (registry.deployments.length === 0) return undefined;
    const inDeployment = (d: StoredDeployment) => d.versions.some((v) => v.taskQueues.some((q) => q.name === taskQueue.name && q.type === taskQueue.type));
    if (pinned) {
      const d = registry.deployments.find((x) => x.name === pinned.deploymentName);
      if (d && inDeployment(d)) return pinned;
    }
    // A queue belongs to the deployment that registered it last (a worker fleet moves, it is not shared).
    const owners = registry.deployments.filter(inDeployment);
    const d = owners[owners.length - 1];
    if (!d) return undefined;
    if (d.ramping && d.rampPercentage > 0 && rampBucket(workflowId) < d.rampPercentage) return { deploymentName: d.name, buildId: d.ramping };
    return d.current ? { deploymentName: d.name, buildId: d.current } : undefined;
  }

  /** The versions a task queue is registered in. */
  async taskQueueVersions(namespaceId: string, taskQueue: { name: string; type: QueueType }): Promise<DeploymentVersionRef[]> {
    const registry = await this.registry(namespaceId);
    return registry.deployments.flatMap((d) =>
      d.versions.filter((v) => v.taskQueues.some((q) => q.name === taskQueue.name && q.type === taskQueue.type)).map((v) => ({ deploymentName: d.name, buildId: v.buildId })),
    );
  }

  /** Whether a task queue is in a version (registered by that version's pollers). */
  async versionHasQueue(namespaceId: string, version: DeploymentVersionRef, taskQueue: { name: string; type: QueueType }): Promise<boolean> {
    const registry = await this.registry(namespaceId);
    const v = registry.deployments.find((d) => d.name === version.deploymentName)?.versions.find((x) => x.buildId === version.buildId);
    return v?.taskQueues.some((q) => q.name === taskQueue.name && q.type === taskQueue.type) ?? false;
  }

  async describeDeployment(namespaceId: string, r: Ws<'DescribeWorkerDeploymentRequest'>): Promise<Ws<'DescribeWorkerDeploymentResponse'>> {
    const name = checkDeploymentName(r.deploymentName, 'deploymentName');
    const d = WorkerDeployments.find(await this.registry(namespaceId, true), name);
    return {
      conflictToken: conflictToken(d.revision),
      workerDeploymentInfo: {
        name: d.name,
        createTime: ts(d.createTime) ?? null,
        versionSummaries: d.versions.map((v) => versionSummary(d, v)),
        routingConfig: routingConfig(d),
        lastModifierIdentity: d.lastModifierIdentity,
      },
    };
  }

  async listDeployments(namespaceId: string, r: Ws<'ListWorkerDeploymentsRequest'>): Promise<Ws<'ListWorkerDeploymentsResponse'>> {
    const pageSize = r.pageSize && r.pageSize > 0 ? r.pageSize : DEFAULT_PAGE_SIZE;
    let offset = 0;
    if (r.nextPageToken && r.nextPageToken.length > 0) {
      offset = Number(Buffer.from(r.nextPageToken).toString('utf8'));
      if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgumentError('nextPageToken is not a token this server issued');
    }
    const all = [...(await this.registry(namespaceId, true)).deployments].sort((a, b) => a.createTime - b.createTime || a.name.localeCompare(b.name));
    const page = all.slice(offset, offset + pageSize);
    const summaryOf = (d: StoredDeployment, buildId: string | null) => {
      const v = buildId ? d.versions.find((x) => x.buildId === buildId) : undefined;
      return v ? versionSummary(d, v) : null;
    };
    return {
      workerDeployments: page.map((d) => {
        const latest = d.versions.reduce<StoredVersion | undefined>((best, v) => (!best || v.createTime >= best.createTime ? v : best), undefined);
        return {
          name: d.name,
          createTime: ts(d.createTime) ?? null,
          routingConfig: routingConfig(d),
          latestVersionSummary: latest ? versionSummary(d, latest) : null,
          currentVersionSummary: summaryOf(d, d.current),
          rampingVersionSummary: summaryOf(d, d.ramping),
        };
      }),
      ...(offset + pageSize < all.length ? { nextPageToken: Buffer.from(String(offset + pageSize), 'utf8') } : {}),
    };
  }

  async describeVersion(namespaceId: string, r: Ws<'DescribeWorkerDeploymentVersionRequest'>): Promise<Ws<'DescribeWorkerDeploymentVersionResponse'>> {
    const ref = versionOf(r.deploymentVersion, r.version, 'deploymentVersion');
    const d = WorkerDeployments.find(await this.registry(namespaceId, true), ref.deploymentName);
    const v = WorkerDeployments.findVersion(d, ref.buildId);
    const summary = versionSummary(d, v);
    return {
      workerDeploymentVersionInfo: {
        version: summary.version ?? '',
        status: summary.status ?? 0,
        deploymentVersion: summary.deploymentVersion ?? null,
        deploymentName: d.name,
        createTime: summary.createTime ?? null,
        routingChangedTime: summary.routingUpdateTime ?? null,
        currentSinceTime: summary.currentSinceTime ?? null,
        rampingSinceTime: summary.rampingSinceTime ?? null,
        firstActivationTime: summary.firstActivationTime ?? null,
        lastCurrentTime: summary.lastCurrentTime ?? null,
        lastDeactivationTime: summary.lastDeactivationTime ?? null,
        rampPercentage: d.ramping === v.buildId ? d.rampPercentage : 0,
        taskQueueInfos: v.taskQueues.map((q) => ({ name: q.name, type: typeEnum(q.type) })),
      },
      versionTaskQueues: await Promise.all(
        v.taskQueues.map(async (q) => ({ name: q.name, type: typeEnum(q.type), ...(r.reportTaskQueueStats ? { stats: await this.statsOf(namespaceId, ref, q) } : {}) })),
      ),
    };
  }

  /** The backlog of a version's queue as matching holds it. */
  private async statsOf(namespaceId: string, version: DeploymentVersionRef, q: { name: string; type: QueueType }): Promise<temporal.api.taskqueue.v1.ITaskQueueStats> {
    const d = await this.env.matching.describeTaskQueue({ namespaceId, taskQueueName: versionedTaskQueueName(q.name, version), type: q.type, kind: 'normal' });
    const now = this.env.clock.now();
    return {
      approximateBacklogCount: int64(d.backlogTasks),
      approximateBacklogAge: msToDuration(d.oldestBacklogTime === undefined ? 0 : Math.max(0, now - d.oldestBacklogTime)),
      tasksAddRate: 0,
      tasksDispatchRate: 0,
    };
  }

  async setCurrentVersion(namespaceId: string, r: Ws<'SetWorkerDeploymentCurrentVersionRequest'>): Promise<Ws<'SetWorkerDeploymentCurrentVersionResponse'>> {
    const name = checkDeploymentName(r.deploymentName, 'deploymentName');
    const buildId = this.targetBuildId(r.buildId, r.version, name);
    return this.routingChange(namespaceId, name, (registry) => {
      const d = WorkerDeployments.find(registry, name);
      checkConflictToken(d, r.conflictToken);
      const previous = d.current;
      if (previous === buildId) return { changed: false, result: this.previousOf(d, previous, d.revision) };
      const now = this.env.clock.now();
      if (buildId !== null) {
        const v = WorkerDeployments.targetVersionOf(d, buildId, r.allowNoPollers ?? false, now);
        v.firstActivationTime ??= now;
        v.lastCurrentTime = now;
        v.routingUpdateTime = now;
        // The ramping version that becomes current stops ramping.
        if (d.ramping === buildId) this.clearRamp(d, now);
      }
      if (previous !== null) this.deactivate(d, previous, now);
      d.current = buildId;
      d.currentChangedTime = now;
      d.lastModifierIdentity = r.identity ?? '';
      d.revision += 1;
      return { changed: true, result: this.previousOf(d, previous, d.revision) };
    });
  }

  async setRampingVersion(namespaceId: string, r: Ws<'SetWorkerDeploymentRampingVersionRequest'>): Promise<Ws<'SetWorkerDeploymentRampingVersionResponse'>> {
    const name = checkDeploymentName(r.deploymentName, 'deploymentName');
    const buildId = this.targetBuildId(r.buildId, r.version, name);
    const percentage = checkPercentage(r.percentage);
    if (buildId === null && percentage > 0) throw new InvalidArgumentError('ramping to unversioned workers is not supported by Hourglass: name a build id, or percentage 0 to stop the ramp');
    return this.routingChange(namespaceId, name, (registry) => {
      const d = WorkerDeployments.find(registry, name);
      checkConflictToken(d, r.conflictToken);
      const previous = d.ramping;
      const previousPercentage = d.rampPercentage;
      // No ramp before: no previous version (not "unversioned", which is a ramp's possible target in Temporal).
      const answer = () => ({ ...this.previousOf(d, previous, d.revision), ...(previous === null ? { previousVersion: '' } : {}), previousPercentage });
      if (buildId !== null && d.current === buildId) throw new FailedPreconditionError(`version ${quote(versionString(name, buildId))} is the current version of worker deployment ${quote(name)}; it cannot ramp`);
      if (previous === buildId && previousPercentage === percentage) return { changed: false, result: answer() };
      const now = this.env.clock.now();
      if (buildId === null) {
        this.clearRamp(d, now);
      } else {
        const v = WorkerDeployments.targetVersionOf(d, buildId, r.allowNoPollers ?? false, now);
        if (previous !== buildId) {
          if (previous !== null) this.deactivate(d, previous, now);
          d.ramping = buildId;
          d.rampingChangedTime = now;
          v.firstActivationTime ??= now;
          v.routingUpdateTime = now;
        }
        d.rampPercentage = percentage;
        d.rampPercentageChangedTime = now;
      }
      d.lastModifierIdentity = r.identity ?? '';
      d.revision += 1;
      return { changed: true, result: answer() };
    });
  }

  async deleteVersion(namespaceId: string, r: Ws<'DeleteWorkerDeploymentVersionRequest'>): Promise<void> {
    const ref = versionOf(r.deploymentVersion, r.version, 'deploymentVersion');
    const label = quote(versionString(ref.deploymentName, ref.buildId));
    // Pollers are in matching's memory, not in the row: checked before the change, as Temporal does.
    const registry = await this.registry(namespaceId, true);
    const v0 = WorkerDeployments.findVersion(WorkerDeployments.find(registry, ref.deploymentName), ref.buildId);
    if (await this.hasPollers(namespaceId, ref, v0)) throw new FailedPreconditionError(`version ${label} has active pollers; stop its workers first`);
    await this.change(namespaceId, (registry) => {
      const d = WorkerDeployments.find(registry, ref.deploymentName);
      WorkerDeployments.findVersion(d, ref.buildId);
      if (d.current === ref.buildId) throw new FailedPreconditionError(`version ${label} is the current version of its deployment; make another version current first`);
      if (d.ramping === ref.buildId) throw new FailedPreconditionError(`version ${label} is the ramping version of its deployment; stop the ramp first`);
      d.versions = d.versions.filter((x) => x.buildId !== ref.buildId);
      d.lastModifierIdentity = r.identity ?? '';
      return { changed: true, result: undefined };
    });
  }

  async deleteDeployment(namespaceId: string, r: Ws<'DeleteWorkerDeploymentRequest'>): Promise<void> {
    const name = checkDeploymentName(r.deploymentName, 'deploymentName');
    await this.change(namespaceId, (registry) => {
      const d = WorkerDeployments.find(registry, name);
      if (d.versions.length > 0) throw new FailedPreconditionError(`worker deployment ${quote(name)} still has ${d.versions.length} version(s); delete them first`);
      registry.deployments = registry.deployments.filter((x) => x !== d);
      return { changed: true, result: undefined };
    });
  }

  /** A request's target build id: null for "unversioned" (an empty build id, or Temporal's `__unversioned__`). */
  private targetBuildId(buildId: string | null | undefined, legacy: string | null | undefined, deploymentName: string): string | null {
    if (buildId) return checkName(buildId, 'buildId');
    if (!legacy || legacy === UNVERSIONED) return null;
    const ref = versionOf(null, legacy, 'version');
    if (ref.deploymentName !== deploymentName) throw new InvalidArgumentError(`version ${quote(legacy)} is not of worker deployment ${quote(deploymentName)}`);
    return ref.buildId;
  }

  private previousOf(d: StoredDeployment, buildId: string | null, revision: number) {
    return {
      conflictToken: conflictToken(revision),
      previousVersion: buildId ? versionString(d.name, buildId) : UNVERSIONED,
      ...(buildId ? { previousDeploymentVersion: { deploymentName: d.name, buildId } } : {}),
    };
  }

  private clearRamp(d: StoredDeployment, now: number): void {
    d.ramping = null;
    d.rampPercentage = 0;
    d.rampingChangedTime = now;
    d.rampPercentageChangedTime = now;
  }

  private deactivate(d: StoredDeployment, buildId: string, now: number): void {
    const v = d.versions.find((x) => x.buildId === buildId);
    if (!v) return;
    v.lastDeactivationTime = now;
    v.routingUpdateTime = now;
  }

  private async hasPollers(namespaceId: string, ref: DeploymentVersionRef, v: StoredVersion): Promise<boolean> {
    const since = this.env.clock.now() - LIVE_POLLER_WINDOW_MS;
    for (const q of v.taskQueues) {
      const described = await this.env.matching.describeTaskQueue({ namespaceId, taskQueueName: versionedTaskQueueName(q.name, ref), type: q.type, kind: 'normal' });
      if (described.waitingPollers > 0 || described.pollers.some((p) => p.lastAccessTime >= since)) return true;
    }
    return false;
  }
}

type StoredVersioning = { behavior: number; deploymentName: string; buildId: string };

/** The versioning info of a run, as DescribeWorkflowExecution shows it (what workers declared, and the override). */
export function versioningInfoOf(info: { versioningInfo?: StoredVersioning; versioningOverride?: StoredVersioning }): temporal.api.workflow.v1.IWorkflowExecutionVersioningInfo | undefined {
  const declared = info.versioningInfo && info.versioningInfo.behavior !== VersioningBehavior.VERSIONING_BEHAVIOR_UNSPECIFIED ? info.versioningInfo : undefined;
  const override = info.versioningOverride;
  if (!declared && !override) return undefined;
  return {
    ...(declared
      ? { behavior: declared.behavior, deploymentVersion: { deploymentName: declared.deploymentName, buildId: declared.buildId }, version: versionString(declared.deploymentName, declared.buildId) }
      : {}),
    ...(override ? { versioningOverride: versioningOverrideProto(override) } : {}),
  };
}

/** A stored override as the protos carry it (the current fields and the deprecated ones). */
export function versioningOverrideProto(o: StoredVersioning): temporal.api.workflow.v1.IVersioningOverride {
  if (o.behavior !== VersioningBehavior.VERSIONING_BEHAVIOR_PINNED) return { autoUpgrade: true, behavior: o.behavior };
  const version = { deploymentName: o.deploymentName, buildId: o.buildId };
  return {
    pinned: { behavior: temporal.api.workflow.v1.VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED, version },
    behavior: o.behavior,
    pinnedVersion: versionString(o.deploymentName, o.buildId),
  };
}

/**
 * A start's versioning override, checked: PINNED to a named version (the `pinned` field, or the
 * deprecated behavior with `pinnedVersion`), or AUTO_UPGRADE. Undefined for none.
 */
export function normalizeVersioningOverride(o: temporal.api.workflow.v1.IVersioningOverride | null | undefined, field: string): StoredVersioning | undefined {
  if (!o) return undefined;
  if (o.oneTime) throw new InvalidArgumentError(`${field}.oneTime is not supported by Hourglass`);
  if (o.autoUpgrade || (!o.pinned && o.behavior === VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE)) {
    return { behavior: VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE, deploymentName: '', buildId: '' };
  }
  if (o.pinned || o.behavior === VersioningBehavior.VERSIONING_BEHAVIOR_PINNED) {
    const version = versionOf(o.pinned?.version, o.pinnedVersion, `${field}.pinned.version`);
    return { behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED, ...version };
  }
  if (o.behavior || o.pinnedVersion || o.deployment) throw new InvalidArgumentError(`${field} must be pinned (with a version) or autoUpgrade`);
  return undefined;
}
