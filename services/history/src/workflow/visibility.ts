/**
 * What search shows of a run, and whether a change touched it. Only a change of these fields makes
 * a commit write a visibility task (one per commit, not per event), which keeps the cost per
 * workflow to a few tasks: start, upserts and memo changes, close.
 */
import { InvalidArgumentError, quote, temporal } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import {
  attributeCatalog,
  attributeKind,
  decodeSearchAttributeValue,
  type AttributeCatalog,
  type Payload,
  type SearchAttributeType,
  type SearchAttributeValue,
  type VisibilityRecord,
} from '@hourglass/visibility';
import { searchAttributesBlob } from './codec';
import { isRunning, type MutableState, type VersioningInfo } from './mutable-state';

export interface VisibleState {
  status: number;
  executionTime: number;
  closeTime: number;
  /** Blobs are compared by identity of their encoded strings: a change assigns a new one. */
  memo: string | null;
  searchAttributes: string | null;
  /** The versioning behavior and version, as one string (empty: unversioned). */
  versioning: string;
}

const versioningKey = (ms: MutableState): string => {
  const key = (v: VersioningInfo | undefined) => (v ? `${v.behavior}\u0000${v.deploymentName}\u0000${v.buildId}` : '');
  return `${key(ms.executionInfo.versioningInfo)}\u0001${key(ms.executionInfo.versioningOverride)}`;
};

export function visibleStateOf(ms: MutableState): VisibleState {
  const info = ms.executionInfo;
  return { status: info.status, executionTime: info.executionTime, closeTime: info.closeTime, memo: ms.memo, searchAttributes: ms.searchAttributes, versioning: versioningKey(ms) };
}

export function visibleStateChanged(before: VisibleState, ms: MutableState): boolean {
  const info = ms.executionInfo;
  return (
    before.status !== info.status ||
    before.executionTime !== info.executionTime ||
    before.closeTime !== info.closeTime ||
    before.memo !== ms.memo ||
    before.searchAttributes !== ms.searchAttributes ||
    before.versioning !== versioningKey(ms)
  );
}

/** The catalog a namespace's queries and search attribute values are checked against: system, predefined and its custom attributes. */
export function namespaceCatalog(namespace: Pick<NamespaceRecord, 'searchAttributes'>): AttributeCatalog {
  const custom = namespace.searchAttributes;
  if (!custom) return NO_CUSTOM_ATTRIBUTES;
  // Built once per version of a namespace's attributes: a change makes a new record (and object).
  let catalog = catalogs.get(custom);
  if (!catalog) {
    catalog = attributeCatalog(custom as Record<string, SearchAttributeType>);
    catalogs.set(custom, catalog);
  }
  return catalog;
}

const NO_CUSTOM_ATTRIBUTES = attributeCatalog({});
const catalogs = new WeakMap<object, AttributeCatalog>();

/**
 * Checks search attributes a caller sets (at start, by an upsert command, at continue-as-new):
 * each must be registered (predefined or custom; system attributes are set by the server alone)
 * and hold a value of its type. Throws InvalidArgumentError naming the first bad attribute.
 */
export function checkSearchAttributes(fields: Record<string, Payload> | null | undefined, catalog: AttributeCatalog, where: string): void {
  for (const [name, payload] of Object.entries(fields ?? {})) {
    const type = catalog.lookup(name);
    if (type === undefined) throw new InvalidArgumentError(`${where}: search attribute ${quote(name)} is not defined in this namespace`);
    if (attributeKind(name) === 'system') throw new InvalidArgumentError(`${where}: search attribute ${quote(name)} is a system attribute and cannot be set`);
    decodeSearchAttributeValue(payload, type, name);
  }
}

/** Nanoseconds that still fit a safe integer (~104 days): a longer execution's duration is clamped. */
const MAX_DURATION_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1_000_000);

/**
 * The custom search attributes of a record (a run's, a schedule's, a standalone activity's),
 * decoded by the types registered now. A value that no longer decodes (its attribute was removed,
 * or the stored payload is not of the type) is left out: not searchable, as in Temporal, and never
 * blocking the record.
 */
export function indexedSearchAttributes(
  fields: Readonly<Record<string, Payload>> | null | undefined,
  catalog: AttributeCatalog,
): { attributes: Record<string, SearchAttributeValue>; types: Record<string, SearchAttributeType> } {
  const attributes: Record<string, SearchAttributeValue> = {};
  const types: Record<string, SearchAttributeType> = {};
  for (const [name, payload] of Object.entries(fields ?? {})) {
    const type = catalog.lookup(name);
    if (type === undefined || attributeKind(name) === 'system') continue;
    try {
      const value = decodeSearchAttributeValue(payload, type, name);
      if (value !== null) {
        attributes[name] = value;
        types[name] = type;
      }
    } catch {
      // Not decodable as the attribute's current type.
    }
  }
  return { attributes, types };
}

/**
 * The run's visibility record as of its committed state. Search attribute values are decoded by
 * the type registered now; a value that no longer decodes (its attribute was removed or the
 * stored payload is not of the type) is left out of the record rather than blocking it.
 */
export function buildVisibilityRecord(ms: MutableState, catalog: AttributeCatalog): VisibilityRecord {
  const info = ms.executionInfo;
  const closed = !isRunning(ms);
  const { attributes, types } = indexedSearchAttributes(searchAttributesBlob.unpack(ms.searchAttributes)?.indexedFields, catalog);
  addVersioningAttributes(effectiveVersioning(info), attributes, types);
  const closeTime = closed ? info.closeTime : null;
  return {
    namespaceId: info.namespaceId,
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.workflowTypeName,
    status: info.status,
    startTime: info.startTime,
    executionTime: info.executionTime || info.startTime,
    closeTime,
    executionDuration: closeTime === null ? null : Math.min(Math.max(0, closeTime - (info.executionTime || info.startTime)), MAX_DURATION_MS) * 1_000_000,
    taskQueue: info.taskQueue,
    historyLength: ms.nextEventId - 1,
    historySizeBytes: info.historySizeBytes,
    stateTransitionCount: info.stateTransitionCount,
    parentWorkflowId: info.parent?.workflowId ?? null,
    parentRunId: info.parent?.runId ?? null,
    rootWorkflowId: info.rootWorkflowId || null,
    rootRunId: info.rootRunId || null,
    memo: ms.memo ? new Uint8Array(Buffer.from(ms.memo, 'base64')) : null,
    searchAttributes: Object.keys(attributes).length > 0 ? attributes : null,
    ...(Object.keys(types).length > 0 ? { searchAttributeTypes: types } : {}),
    version: info.stateTransitionCount,
  };
}

/** What search shows of a run's versioning: an override wins over what workers declared (a PINNED one with its version). */
function effectiveVersioning(info: MutableState['executionInfo']): VersioningInfo | undefined {
  const o = info.versioningOverride;
  if (!o) return info.versioningInfo;
  if (o.behavior === temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED) return o;
  return info.versioningInfo ? { ...info.versioningInfo, behavior: o.behavior } : undefined;
}

/** Temporal's names of the behaviors in TemporalWorkflowVersioningBehavior. */
const BEHAVIOR_NAMES: Readonly<Record<number, string>> = {
  [temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED]: 'Pinned',
  [temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE]: 'AutoUpgrade',
};

/**
 * A versioned run's predefined attributes, as Temporal sets them: TemporalWorkerDeployment,
 * TemporalWorkerDeploymentVersion (`<deployment>:<buildId>`) and TemporalWorkflowVersioningBehavior.
 */
function addVersioningAttributes(info: VersioningInfo | undefined, attributes: Record<string, SearchAttributeValue>, types: Record<string, SearchAttributeType>): void {
  const behavior = info ? BEHAVIOR_NAMES[info.behavior] : undefined;
  if (!info || !behavior) return;
  attributes.TemporalWorkerDeployment = info.deploymentName;
  attributes.TemporalWorkerDeploymentVersion = `${info.deploymentName}:${info.buildId}`;
  attributes.TemporalWorkflowVersioningBehavior = behavior;
  for (const name of ['TemporalWorkerDeployment', 'TemporalWorkerDeploymentVersion', 'TemporalWorkflowVersioningBehavior']) types[name] = 'Keyword';
}
