/** NamespaceRecord → the DescribeNamespace shape the SDK reads. */
import { NamespaceState, msToDuration, temporal } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';

export const CLUSTER_NAME = 'active';

const STATE: Record<NamespaceRecord['state'], number> = {
  registered: NamespaceState.NAMESPACE_STATE_REGISTERED,
  deprecated: NamespaceState.NAMESPACE_STATE_DEPRECATED,
  deleted: NamespaceState.NAMESPACE_STATE_DELETED,
};

export function describeNamespace(ns: NamespaceRecord): temporal.api.workflowservice.v1.IDescribeNamespaceResponse {
  return {
    namespaceInfo: {
      name: ns.name,
      state: STATE[ns.state],
      description: ns.description,
      ownerEmail: ns.ownerEmail,
      data: ns.data,
      id: ns.id,
      // Only what Hourglass really does is advertised; core changes behaviour on several of these flags.
      // workerHeartbeats: workers send RecordWorkerHeartbeat (ListWorkers / DescribeWorker show them).
      capabilities: { syncUpdate: true, asyncUpdate: true, workerHeartbeats: true },
      supportsSchedules: false,
    },
    config: {
      workflowExecutionRetentionTtl: msToDuration(ns.retentionMs),
      historyArchivalState: temporal.api.enums.v1.ArchivalState.ARCHIVAL_STATE_DISABLED,
      visibilityArchivalState: temporal.api.enums.v1.ArchivalState.ARCHIVAL_STATE_DISABLED,
    },
    replicationConfig: {
      activeClusterName: CLUSTER_NAME,
      clusters: [{ clusterName: CLUSTER_NAME }],
      state: temporal.api.enums.v1.ReplicationState.REPLICATION_STATE_NORMAL,
    },
    isGlobalNamespace: false,
  };
}
