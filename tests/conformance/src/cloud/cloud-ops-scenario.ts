/**
 * Temporal Cloud's own client, `@temporalio/cloud`'s CloudOperationsClient, unmodified, against
 * Hourglass: run by cloud-ops.test.ts in a process of its own, because that client trusts only the
 * system's CA store (or GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, which grpc-js reads when it loads), and
 * the test points it at the development CA. It manages namespaces, users, service accounts and API
 * keys as a Cloud customer would and prints what it observed as one JSON line; the test asserts.
 *
 * Usage: node cloud-ops-scenario.js <tls address> <owner api key> <ca file>
 */
import { readFileSync } from 'node:fs';
import { CloudOperationsClient, CloudOperationsConnection } from '@temporalio/cloud';
import { Connection } from '@temporalio/client';
import Long from 'long';

const [address, ownerKey, caFile] = process.argv.slice(2) as [string, string, string];
const DAY_S = 86_400;

const ROLE_DEVELOPER = 3;
const ROLE_READ = 5;
const PERMISSION_WRITE = 2;
const PERMISSION_READ = 3;
const OWNER_TYPE_SERVICE_ACCOUNT = 2;

/** The gRPC status code of a failed call, 0 when it succeeded. */
async function codeOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code ?? (err as { cause?: { code?: unknown } }).cause?.code;
    if (typeof code === 'number') return code;
    throw err;
  }
}

const seconds = (s: number): { seconds: Long } => ({ seconds: Long.fromNumber(Math.floor(Date.now() / 1000) + s) });

async function main(): Promise<void> {
  const connection = await CloudOperationsConnection.connect({ address, apiKey: ownerKey });
  const client = new CloudOperationsClient({ connection });
  const cloud = client.cloudService;
  const observed: Record<string, unknown> = {};

  const me = await cloud.getCurrentIdentity({});
  observed.identityEmail = me.user?.spec?.email;
  observed.account = (await cloud.getAccount({})).account?.id;

  // Namespaces: create, read, list, update with the current version, refuse a stale one.
  const created = await cloud.createNamespace({ spec: { name: 'cloudops', retentionDays: 7 } });
  const namespace = created.namespace;
  observed.namespace = namespace;
  observed.createOperationState = created.asyncOperation?.state;
  observed.asyncOperation = (await cloud.getAsyncOperation({ asyncOperationId: created.asyncOperation?.id ?? '' })).asyncOperation?.state;
  const read = (await cloud.getNamespace({ namespace })).namespace;
  observed.retentionDays = read?.spec?.retentionDays;
  observed.aps = read?.limits?.actionsPerSecondLimit;
  observed.listedNamespaces = (await cloud.getNamespaces({})).namespaces.map((n) => n.namespace);
  const v1 = read?.resourceVersion ?? '';
  await cloud.updateNamespace({ namespace, spec: { name: 'cloudops', retentionDays: 14 }, resourceVersion: v1 });
  observed.retentionAfterUpdate = (await cloud.getNamespace({ namespace })).namespace?.spec?.retentionDays;
  observed.staleUpdateCode = await codeOf(() => cloud.updateNamespace({ namespace, spec: { name: 'cloudops', retentionDays: 30 }, resourceVersion: v1 }));
  observed.retentionAfterStale = (await cloud.getNamespace({ namespace })).namespace?.spec?.retentionDays;

  // Users.
  const user = await cloud.createUser({
    spec: { email: 'builder@cloudops.test', access: { accountAccess: { role: ROLE_DEVELOPER }, namespaceAccesses: { [namespace]: { permission: PERMISSION_WRITE } } } },
  });
  const fetchedUser = (await cloud.getUser({ userId: user.userId })).user;
  observed.userRole = fetchedUser?.spec?.access?.accountAccess?.role;
  observed.userNamespaceAccess = fetchedUser?.spec?.access?.namespaceAccesses?.[namespace]?.permission;
  observed.listedUsers = (await cloud.getUsers({})).users.map((u) => u.spec?.email).sort();
  await cloud.updateUser({
    userId: user.userId,
    spec: { email: 'builder@cloudops.test', access: { accountAccess: { role: ROLE_READ }, namespaceAccesses: { [namespace]: { permission: PERMISSION_READ } } } },
    resourceVersion: fetchedUser?.resourceVersion ?? '',
  });
  observed.userRoleAfterUpdate = (await cloud.getUser({ userId: user.userId })).user?.spec?.access?.accountAccess?.role;
  observed.duplicateUserCode = await codeOf(() => cloud.createUser({ spec: { email: 'BUILDER@cloudops.test', access: { accountAccess: { role: ROLE_READ } } } }));

  // A service account with write on the namespace, and its key: a worker's credentials.
  const sa = await cloud.createServiceAccount({
    spec: { name: 'ci-worker', access: { accountAccess: { role: ROLE_READ }, namespaceAccesses: { [namespace]: { permission: PERMISSION_WRITE } } } },
  });
  observed.listedServiceAccounts = (await cloud.getServiceAccounts({})).serviceAccount.map((s) => s.spec?.name);
  const key = await cloud.createApiKey({ spec: { ownerId: sa.serviceAccountId, ownerType: OWNER_TYPE_SERVICE_ACCOUNT, displayName: 'ci key', expiryTime: seconds(DAY_S) } });
  observed.keyTokenShape = /^hgk_[a-z2-7]{20}_[A-Za-z0-9_-]{43}$/.test(key.token);
  observed.keyListed = (await cloud.getApiKeys({})).apiKeys.some((k) => k.id === key.keyId);
  const storedKey = (await cloud.getApiKey({ keyId: key.keyId })).apiKey;
  await cloud.updateApiKey({ keyId: key.keyId, spec: { ...storedKey?.spec, displayName: 'ci key (renamed)' }, resourceVersion: storedKey?.resourceVersion ?? '' });
  observed.keyDisplayNameAfterUpdate = (await cloud.getApiKey({ keyId: key.keyId })).apiKey?.spec?.displayName;

  // The key works on the data plane over TLS, then stops within 5 s of its deletion.
  const dataPlane = await Connection.connect({ address, apiKey: key.token, tls: { serverRootCACertificate: readFileSync(caFile) } });
  observed.keyDescribesNamespace = (await dataPlane.workflowService.describeNamespace({ namespace })).namespaceInfo?.name;
  const current = (await cloud.getApiKey({ keyId: key.keyId })).apiKey;
  await cloud.deleteApiKey({ keyId: key.keyId, resourceVersion: current?.resourceVersion ?? '' });
  const deletedAt = Date.now();
  let refusedCode = 0;
  while (Date.now() - deletedAt < 10_000) {
    refusedCode = await codeOf(() => dataPlane.workflowService.describeNamespace({ namespace }));
    if (refusedCode !== 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  observed.deletedKeyCode = refusedCode;
  observed.deletedKeyRefusedWithinMs = Date.now() - deletedAt;
  await dataPlane.close();

  // A key that expires in 2 s works, then is refused.
  const shortLived = await cloud.createApiKey({ spec: { ownerId: sa.serviceAccountId, ownerType: OWNER_TYPE_SERVICE_ACCOUNT, displayName: 'short', expiryTime: seconds(2) } });
  const shortConnection = await Connection.connect({ address, apiKey: shortLived.token, tls: { serverRootCACertificate: readFileSync(caFile) } });
  observed.shortKeyBeforeExpiry = await codeOf(() => shortConnection.workflowService.describeNamespace({ namespace }));
  await new Promise((r) => setTimeout(r, 3_500));
  observed.shortKeyAfterExpiry = await codeOf(() => shortConnection.workflowService.describeNamespace({ namespace }));
  await shortConnection.close();

  const logs = await cloud.getAuditLogs({ pageSize: 1000, startTimeInclusive: { seconds: Long.fromNumber(Math.floor(Date.now() / 1000) - 3600) } });
  observed.auditOperations = [...new Set(logs.logs.map((l) => l.operation))].sort();
  observed.auditMentionsToken = JSON.stringify(logs.logs).includes(key.token.slice(25)); // the secret: after hgk_<key id>_

  await connection.close();
  console.log(JSON.stringify(observed));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
