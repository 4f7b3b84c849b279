/**
 * Every setting of the platform, each defined once. Keys and defaults follow Temporal's dynamic
 * config (common/dynamicconfig/constants.go) where Temporal has the same knob, so an operator's
 * knowledge carries over. Keys are persisted in configuration files: never rename one.
 */
import { booleanSetting, defineSetting, durationSetting, integerSetting, numberSetting } from './settings';

const MB = 1024 * 1024;
const KB = 1024;

/** Limits enforced on requests, commands and histories (Temporal's `limit.*`). */
export const Limits = {
  /** Largest gRPC message accepted; refused before it is decoded. */
  grpcMaxMessageSize: defineSetting({
    key: 'frontend.maxMessageSize',
    scope: 'global',
    defaultValue: 4 * MB,
    parse: integerSetting(64 * KB),
    description: 'Largest gRPC request message in bytes; larger ones are refused with RESOURCE_EXHAUSTED before decoding.',
  }),
  blobSizeError: defineSetting({
    key: 'limit.blobSize.error',
    scope: 'namespace',
    defaultValue: 2 * MB,
    parse: integerSetting(1),
    description: 'Largest payload field (input, result, details, signal data…) in bytes.',
  }),
  blobSizeWarn: defineSetting({
    key: 'limit.blobSize.warn',
    scope: 'namespace',
    defaultValue: 512 * KB,
    parse: integerSetting(1),
    description: 'Payload size in bytes above which a warning is logged.',
  }),
  memoSizeError: defineSetting({
    key: 'limit.memoSize.error',
    scope: 'namespace',
    defaultValue: 2 * MB,
    parse: integerSetting(1),
    description: 'Largest memo in bytes.',
  }),
  maxIdLength: defineSetting({
    key: 'limit.maxIDLength',
    scope: 'namespace',
    defaultValue: 1000,
    parse: integerSetting(1),
    description: 'Longest id or name (workflow, run, activity, timer, task queue, type, signal, identity, request id) in UTF-8 bytes.',
  }),
  transactionSize: defineSetting({
    key: 'limit.transactionSize',
    scope: 'global',
    defaultValue: 4 * MB,
    parse: integerSetting(64 * KB),
    description: 'Largest batch of history events one change may write, in bytes.',
  }),
  historySizeError: defineSetting({
    key: 'limit.historySize.error',
    scope: 'namespace',
    defaultValue: 50 * MB,
    parse: integerSetting(1),
    description: 'History size in bytes past which a running workflow is terminated.',
  }),
  historySizeWarn: defineSetting({
    key: 'limit.historySize.warn',
    scope: 'namespace',
    defaultValue: 10 * MB,
    parse: integerSetting(1),
    description: 'History size in bytes past which a warning is logged.',
  }),
  historySizeSuggestContinueAsNew: defineSetting({
    key: 'limit.historySize.suggestContinueAsNew',
    scope: 'namespace',
    defaultValue: 4 * MB,
    parse: integerSetting(1),
    description: 'History size in bytes from which workflow tasks carry suggestContinueAsNew.',
  }),
  historyCountError: defineSetting({
    key: 'limit.historyCount.error',
    scope: 'namespace',
    defaultValue: 51_200,
    parse: integerSetting(1),
    description: 'Number of history events past which a running workflow is terminated.',
  }),
  historyCountWarn: defineSetting({
    key: 'limit.historyCount.warn',
    scope: 'namespace',
    defaultValue: 10_240,
    parse: integerSetting(1),
    description: 'Number of history events past which a warning is logged.',
  }),
  historyCountSuggestContinueAsNew: defineSetting({
    key: 'limit.historyCount.suggestContinueAsNew',
    scope: 'namespace',
    defaultValue: 4_096,
    parse: integerSetting(1),
    description: 'Number of history events from which workflow tasks carry suggestContinueAsNew.',
  }),
  numPendingActivities: defineSetting({
    key: 'limit.numPendingActivities.error',
    scope: 'namespace',
    defaultValue: 2_000,
    parse: integerSetting(1),
    description: 'Most activities one run may have pending; more fail the workflow task (PENDING_ACTIVITIES_LIMIT_EXCEEDED).',
  }),
  numPendingChildExecutions: defineSetting({
    key: 'limit.numPendingChildExecutions.error',
    scope: 'namespace',
    defaultValue: 2_000,
    parse: integerSetting(1),
    description: 'Most child workflows one run may have pending (PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED).',
  }),
  numPendingSignals: defineSetting({
    key: 'limit.numPendingSignals.error',
    scope: 'namespace',
    defaultValue: 2_000,
    parse: integerSetting(1),
    description: 'Most signals to other workflows one run may have pending (PENDING_SIGNALS_LIMIT_EXCEEDED).',
  }),
  numPendingCancelRequests: defineSetting({
    key: 'limit.numPendingCancelRequests.error',
    scope: 'namespace',
    defaultValue: 2_000,
    parse: integerSetting(1),
    description: 'Most cancellation requests to other workflows one run may have pending (PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED).',
  }),
  maxSignalsPerExecution: defineSetting({
    key: 'history.maximumSignalsPerExecution',
    scope: 'namespace',
    defaultValue: 10_000,
    parse: integerSetting(1),
    description: 'Most signals one run may receive; later ones are refused.',
  }),
  maxUpdatesPerExecution: defineSetting({
    key: 'history.maxTotalUpdates',
    scope: 'namespace',
    defaultValue: 2_000,
    parse: integerSetting(1),
    description: 'Most updates one run may receive.',
  }),
  maxInFlightUpdates: defineSetting({
    key: 'history.maxInFlightUpdates',
    scope: 'namespace',
    defaultValue: 10,
    parse: integerSetting(1),
    description: 'Most updates one run may have admitted but not yet completed.',
  }),
  maxBufferedEvents: defineSetting({
    key: 'history.maximumBufferedEventsBatch',
    scope: 'global',
    defaultValue: 100,
    parse: integerSetting(1),
    description: 'Events buffered while a workflow task runs past which that task is failed so they can be delivered.',
  }),
  maxBufferedEventsSize: defineSetting({
    key: 'history.maximumBufferedEventsSizeInBytes',
    scope: 'global',
    defaultValue: 2 * MB,
    parse: integerSetting(1),
    description: 'Bytes of buffered events past which the running workflow task is failed so they can be delivered.',
  }),
} as const;

/** History service tunables. */
export const HistorySettings = {
  defaultWorkflowTaskTimeout: defineSetting({
    key: 'history.defaultWorkflowTaskTimeout',
    scope: 'namespace',
    defaultValue: 10_000,
    parse: durationSetting(),
    description: "A workflow task's start-to-close timeout when the start request sets none.",
  }),
  maxWorkflowTaskTimeout: defineSetting({
    key: 'history.maxWorkflowTaskTimeout',
    scope: 'namespace',
    defaultValue: 120_000,
    parse: durationSetting(),
    description: "Cap of a workflow task's start-to-close timeout.",
  }),
  longPollExpirationInterval: defineSetting({
    key: 'history.longPollExpirationInterval',
    scope: 'namespace',
    defaultValue: 20_000,
    parse: durationSetting(),
    description: 'Longest a history long poll (GetWorkflowExecutionHistory wait_new_event) is held before an empty answer.',
  }),
  historyPageSize: defineSetting({
    key: 'history.defaultPageSize',
    scope: 'namespace',
    // Temporal's frontend.historyMaxPageSize: pages small enough that no one response holds the event loop long.
    defaultValue: 256,
    parse: integerSetting(1),
    description: 'Events per GetWorkflowExecutionHistory page when the caller does not say, and the cap of what a caller may ask.',
  }),
  queryTimeout: defineSetting({
    key: 'history.queryTimeout',
    scope: 'namespace',
    defaultValue: 20_000,
    parse: durationSetting(),
    description: 'Longest a query waits for a worker to answer it.',
  }),
  stickyQueryTimeout: defineSetting({
    key: 'history.stickyQueryTimeout',
    scope: 'namespace',
    defaultValue: 2_000,
    parse: durationSetting(),
    description: "Longest a query waits on a sticky queue's worker before it is sent to the normal queue instead.",
  }),
  defaultStickyScheduleToStartTimeout: defineSetting({
    key: 'history.defaultStickyScheduleToStartTimeout',
    scope: 'namespace',
    defaultValue: 10_000,
    parse: durationSetting(),
    description: 'Sticky schedule-to-start timeout when the worker gives none.',
  }),
  transferConcurrency: defineSetting({
    key: 'history.transferTaskConcurrency',
    scope: 'global',
    defaultValue: 32,
    parse: integerSetting(1),
    description: 'Immediate (transfer) tasks executed concurrently per shard.',
  }),
  timerLookahead: defineSetting({
    key: 'history.timerLookahead',
    scope: 'global',
    defaultValue: 60_000,
    parse: durationSetting(),
    description: 'Timer tasks due within this window are held in memory; later ones are loaded by periodic scans.',
  }),
  storageAccrualInterval: defineSetting({
    key: 'history.storageAccrualInterval',
    scope: 'global',
    defaultValue: 86_400_000,
    parse: durationSetting(),
    description:
      "Storage metering: besides every change, each run's active or retained storage is accrued at every multiple of this interval (UTC), so a day's byte-seconds are complete soon after it ends. 0: only at changes and deletion.",
  }),
  scheduleWatchInterval: defineSetting({
    key: 'history.scheduleWatchInterval',
    scope: 'global',
    defaultValue: 1000,
    parse: durationSetting(),
    description: "Schedules: while a start waits behind the schedule's running workflow (overlap policies BUFFER_ONE, BUFFER_ALL, CANCEL_OTHER), how often the schedule checks whether that workflow closed (a persisted timer).",
  }),
  executionCacheSize: defineSetting({
    key: 'history.cacheMaxSize',
    scope: 'global',
    defaultValue: 2048,
    parse: integerSetting(1),
    description: 'Runs whose mutable state is kept in memory, per shard.',
  }),
  executionCacheBytes: defineSetting({
    key: 'history.cacheMaxSizeBytes',
    scope: 'global',
    defaultValue: 8 * MB,
    parse: integerSetting(1),
    description:
      "Estimated bytes of the runs kept in memory, per shard (each run's state, items and cached events, decoded; the least recently used go first). With history.cacheMaxSize, whichever is reached first bounds the cache.",
  }),
  cachedTailEvents: defineSetting({
    key: 'history.cachedHistoryTailEvents',
    scope: 'global',
    defaultValue: 32,
    parse: integerSetting(0),
    description: "Latest events of each cached run kept in memory, so the reads that follow a change (poll responses, an activity's scheduled event, a result's close event) skip the store.",
  }),
  cachedTailBytes: defineSetting({
    key: 'history.cachedHistoryTailBytes',
    scope: 'global',
    defaultValue: 16 * KB,
    parse: integerSetting(0),
    description: 'Encoded bytes of the latest events kept per cached run (the oldest go first; a larger event is never kept).',
  }),
  verifyRebuild: defineSetting({
    key: 'history.verifyRebuild',
    scope: 'global',
    defaultValue: false,
    parse: booleanSetting(),
    description:
      'Check after every change that rebuilding the run from its history gives the state the change produced (costly: for test suites). A divergence stops the server.',
  }),
  commandBatchSize: defineSetting({
    key: 'history.commandBatchSize',
    scope: 'global',
    defaultValue: 200,
    parse: integerSetting(1),
    description: 'Commands of one workflow task completion processed before yielding the event loop to other work (it also yields after 5 ms of them).',
  }),
  enableActivityEagerExecution: defineSetting({
    key: 'history.enableActivityEagerExecution',
    scope: 'namespace',
    defaultValue: true,
    parse: booleanSetting(),
    description:
      'Eager activity dispatch: an activity the worker asks to run itself (ScheduleActivityTask.request_eager_execution, on the workflow\'s own task queue) is started in the workflow task\'s completion and returned in its response, skipping matching and a poll.',
  }),
  enableEagerWorkflowStart: defineSetting({
    key: 'history.enableEagerWorkflowStart',
    scope: 'namespace',
    defaultValue: true,
    parse: booleanSetting(),
    description:
      'Eager workflow start: a StartWorkflowExecution with request_eager_execution (an SDK whose worker for the queue shares the client\'s connection) gets the new run\'s first workflow task in its response, started in the same commit, skipping matching and a poll.',
  }),
  maxEagerActivitiesPerWorkflowTask: defineSetting({
    key: 'history.maxEagerActivitiesPerWorkflowTask',
    scope: 'namespace',
    defaultValue: 10,
    parse: integerSetting(0),
    description: 'Activities one workflow task completion starts eagerly at most; further requested ones go through matching as usual.',
  }),
  batchMaxOperationsPerSecond: defineSetting({
    key: 'batch.maxOperationsPerSecond',
    scope: 'namespace',
    defaultValue: 50,
    parse: numberSetting(0.1),
    description:
      "Batch operations: executions a batch job affects per second at most (Temporal Cloud's 50). A StartBatchOperation's max_operations_per_second is honoured up to this.",
  }),
  batchMaxConcurrent: defineSetting({
    key: 'batch.maxConcurrent',
    scope: 'namespace',
    defaultValue: 1,
    parse: integerSetting(1),
    description: 'Batch operations running at once per namespace; another StartBatchOperation is refused with RESOURCE_EXHAUSTED (CONCURRENT_LIMIT).',
  }),
} as const;

/** Matching service tunables. */
export const MatchingSettings = {
  longPollExpirationInterval: defineSetting({
    key: 'matching.longPollExpirationInterval',
    scope: 'taskQueue',
    defaultValue: 60_000,
    parse: durationSetting(),
    description: 'Longest a task queue poll is held before an empty answer (also capped by the caller deadline minus a margin).',
  }),
  deadlineMargin: defineSetting({
    key: 'matching.deadlineMargin',
    scope: 'global',
    defaultValue: 1_000,
    parse: durationSetting(),
    description: "Margin kept before a poller's deadline so its empty answer arrives in time.",
  }),
  stickyPollerUnavailableWindow: defineSetting({
    key: 'matching.stickyPollerUnavailableWindow',
    scope: 'namespace',
    defaultValue: 10_000,
    parse: durationSetting(),
    description: 'A sticky queue with no poll for this long is considered gone; its tasks go to the normal queue.',
  }),
  backlogPageSize: defineSetting({
    key: 'matching.backlogPageSize',
    scope: 'global',
    defaultValue: 1000,
    parse: integerSetting(1),
    description: 'Backlog tasks loaded from the store at a time.',
  }),
  numTaskQueuePartitions: defineSetting({
    key: 'matching.numTaskQueuePartitions',
    scope: 'taskQueue',
    defaultValue: 4,
    parse: integerSetting(1),
    description:
      "Partitions of a normal task queue (Temporal's matching.numTaskqueueReadPartitions/WritePartitions in one): adds and polls spread over them, an idle poller anywhere is reached through the root. Sticky queues have one. Lowering it is safe: the backlog of a partition no longer used drains to its parent.",
  }),
  forwarderMaxChildrenPerNode: defineSetting({
    key: 'matching.forwarderMaxChildrenPerNode',
    scope: 'taskQueue',
    defaultValue: 20,
    parse: integerSetting(1),
    description: 'Branching of the partition tree: a partition forwards adds and polls it cannot serve to its parent, partition ⌈k / this⌉ − 1, up to the root (partition 0).',
  }),
  placePartitionsAcrossHosts: defineSetting({
    key: 'matching.placePartitionsAcrossHosts',
    scope: 'global',
    defaultValue: true,
    parse: booleanSetting(),
    description:
      'Cluster mode: place each partition of a task queue on its own matching host (the caller picks the partition, partitions forward to their parents over internal gRPC). Off: all partitions of a queue live on the host owning the queue (fewer internal calls, one host per queue). See docs/distributed.md.',
  }),
  ownedBacklogRescanInterval: defineSetting({
    key: 'matching.ownedBacklogRescanInterval',
    scope: 'global',
    defaultValue: 5_000,
    parse: durationSetting(),
    description:
      'Cluster mode: how often a matching host reads again the stored backlog of the partitions it owns, for tasks another host stored there while the two disagreed on the owner (membership views differ for a heartbeat or so).',
  }),
  strandedBacklogRetryInterval: defineSetting({
    key: 'matching.strandedBacklogRetryInterval',
    scope: 'global',
    defaultValue: 1_000,
    parse: durationSetting(),
    description:
      'Cluster mode (partitions on several matching hosts): how often a partition holding backlog with no poller of its own offers its oldest task to its parent again, so backlog reaches a poller that started waiting on another host later.',
  }),
} as const;

/** Frontend tunables. */
export const FrontendSettings = {
  maxListPageSize: defineSetting({
    key: 'frontend.maxListPageSize',
    scope: 'namespace',
    defaultValue: 1000,
    parse: integerSetting(1),
    description: 'Largest page a List* call may ask for.',
  }),
  maxConcurrentCalls: defineSetting({
    key: 'frontend.maxConcurrentCalls',
    scope: 'global',
    defaultValue: 16,
    parse: integerSetting(1),
    description:
      'Short calls (not polls or calls that wait on a worker) served at once; past it, calls wait in one queue per namespace and are admitted round robin across namespaces, so a flood from one tenant never delays another by more than a turn.',
  }),
  namespaceRps: defineSetting({
    key: 'frontend.namespaceRPS',
    scope: 'namespace',
    // Temporal's frontend.namespaceRPS default for one frontend instance, and start-dev is one.
    defaultValue: 2400,
    parse: integerSetting(0),
    description:
      "Requests per second one namespace may make, every call counted (polls included); more are refused with RESOURCE_EXHAUSTED (cause RPS_LIMIT). Temporal's frontend.namespaceRPS and its default for one frontend: a guard against runaway clients (tight retry loops, hot polling of Describe*), set above what one server serves on a few cores (a one-activity workflow makes about 8 calls), because sharing the server between tenants is what frontend.namespaceAPS and fair admission (frontend.maxConcurrentCalls) do. A namespace's limits.rps overrides it; 0 turns the limit off.",
  }),
  namespaceAps: defineSetting({
    key: 'frontend.namespaceAPS',
    scope: 'namespace',
    defaultValue: 500,
    parse: integerSetting(0),
    description:
      "Billable actions per second one namespace may make (calls whose method-table row is billable: starts, signals, updates, queries, heartbeats…); more are refused with RESOURCE_EXHAUSTED (cause APS_LIMIT), which the SDKs back off on. 500 is Temporal Cloud's default per namespace. A namespace's limits.aps overrides it; 0 turns the limit off.",
  }),
  accountControlRps: defineSetting({
    key: 'frontend.accountControlRPS',
    scope: 'global',
    defaultValue: 50,
    parse: integerSetting(0),
    description:
      "Calls per second one account may make to the account APIs (CloudService), and the operator to the operator API; more are refused with RESOURCE_EXHAUSTED (cause RPS_LIMIT). A bucket holds frontend.namespaceBurstRatio seconds' worth. 0 turns the limit off.",
  }),
  namespaceBurstRatio: defineSetting({
    key: 'frontend.namespaceBurstRatio',
    scope: 'namespace',
    defaultValue: 2,
    parse: numberSetting(0.1),
    description:
      "Size of a namespace's RPS and APS token buckets, in seconds of their rate (Temporal's frontend.namespaceBurstRatio): a namespace that was quiet may send this many seconds' worth at once (at least one call).",
  }),
  namespaceWorkerReservePercent: defineSetting({
    key: 'frontend.namespaceWorkerReservePercent',
    scope: 'namespace',
    defaultValue: 20,
    parse: numberSetting(0, 100),
    description:
      "Percentage of a namespace's RPS and APS buckets that only worker progress (polls, task completions, heartbeats) and system calls may take: new starts, signals and reads stop short of it, so a flood of starts never starves the namespace's running workflows.",
  }),
  namespaceMaxConcurrentPolls: defineSetting({
    key: 'frontend.namespaceCount',
    scope: 'namespace',
    defaultValue: 1200,
    parse: integerSetting(0),
    description:
      "Task-queue and update polls one namespace may hold open at once; more are refused with RESOURCE_EXHAUSTED (cause CONCURRENT_LIMIT). Temporal's frontend.namespaceCount and its default for one frontend: far above what the SDKs' default workers open (a few to a hundred polls each). A namespace's limits.maxConcurrentPolls overrides it; 0 turns the limit off.",
  }),
} as const;

/** Identity and the audit log. */
export const IdentitySettings = {
  auditRetention: defineSetting({
    key: 'identity.auditRetention',
    scope: 'global',
    defaultValue: 30 * 86_400_000,
    parse: durationSetting(),
    description: "How long audit records of control-plane changes are kept (Temporal Cloud keeps 30 days); older ones are deleted in the background.",
  }),
  auditPruneInterval: defineSetting({
    key: 'identity.auditPruneInterval',
    scope: 'global',
    defaultValue: 3_600_000,
    parse: durationSetting(),
    description: 'How often expired audit records are looked for.',
  }),
} as const;

/**
 * Cluster membership (services/common/src/membership): every host of a role heartbeats into the
 * cluster database; shards and partitions are assigned to the live ones by rendezvous hashing.
 */
export const MembershipSettings = {
  heartbeatInterval: defineSetting({
    key: 'membership.heartbeatInterval',
    scope: 'global',
    defaultValue: 1_000,
    parse: durationSetting(),
    description: 'How often a host writes its heartbeat into the membership registry and re-reads the live hosts.',
  }),
  hostTtl: defineSetting({
    key: 'membership.hostTtl',
    scope: 'global',
    defaultValue: 5_000,
    parse: durationSetting(),
    description:
      "A host whose last heartbeat is older than this (by the registry's clock) is gone: its shards move to the others. At least twice membership.heartbeatInterval.",
  }),
  shardHandoffTimeout: defineSetting({
    key: 'history.shardHandoffTimeout',
    scope: 'global',
    defaultValue: 5_000,
    parse: durationSetting(),
    description:
      'Dynamic shard ownership: how long a host newly assigned a shard waits for the live previous owner to release it before taking it over anyway (fencing makes a take-over safe; waiting spares the in-flight requests).',
  }),
} as const;
