// Temporal Cloud's Cloud Ops API, driven by Temporal's own `@temporalio/cloud` client, unmodified,
// over TLS with the development CA and the dev account owner's API key: namespaces, users,
// service accounts and API keys created, read, listed and updated; a stale resource_version
// refused; a deleted key refused within 5 s and an expired one refused; the audit log holds each
// change and no secret. The client runs in a process of its own (cloud/cloud-ops-scenario.ts).
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { conformanceFile, runCloudScenario } from '../harness';

const file = conformanceFile({ name: 'cloudops', worker: false });

function runScenario(args: string[], caFile: string): Promise<Record<string, unknown>> {
  return runCloudScenario('cloud-ops-scenario.js', args, caFile);
}

file.test("@temporalio/cloud's CloudOperationsClient manages namespaces, users, service accounts and keys", async (_t, env) => {
  const { tlsAddress, tlsCaFile } = env.server;
  assert.ok(tlsAddress && tlsCaFile, 'the server serves TLS');
  const credentials = env.server.devCredentials();
  const seen = await runScenario([tlsAddress, credentials.ownerApiKey, tlsCaFile], tlsCaFile);
  const namespace = `cloudops.${credentials.accountId}`;
  assert.equal(seen.identityEmail, 'dev@hourglass.localhost');
  assert.equal(seen.account, credentials.accountId);
  assert.equal(seen.namespace, namespace, 'named <name>.<account id>, as Cloud names them');
  assert.equal(seen.createOperationState, 5, 'the async operation is reported fulfilled');
  assert.equal(seen.asyncOperation, 5);
  assert.equal(seen.retentionDays, 7);
  assert.equal(seen.aps, 500, "GetNamespace shows the namespace's actions-per-second limit");
  assert.ok((seen.listedNamespaces as string[]).includes(namespace));
  assert.equal(seen.retentionAfterUpdate, 14);
  assert.equal(seen.staleUpdateCode, status.FAILED_PRECONDITION, 'a stale resource_version is refused');
  assert.equal(seen.retentionAfterStale, 14, '… and changes nothing');
  assert.equal(seen.userRole, 3);
  assert.equal(seen.userNamespaceAccess, 2);
  assert.deepEqual(seen.listedUsers, ['builder@cloudops.test', 'dev@hourglass.localhost']);
  assert.equal(seen.userRoleAfterUpdate, 5);
  assert.equal(seen.duplicateUserCode, status.ALREADY_EXISTS);
  assert.deepEqual(seen.listedServiceAccounts, ['ci-worker']);
  assert.equal(seen.keyTokenShape, true);
  assert.equal(seen.keyListed, true);
  assert.equal(seen.keyDisplayNameAfterUpdate, 'ci key (renamed)');
  assert.equal(seen.keyDescribesNamespace, namespace, "the service account's key works on the data plane over TLS");
  assert.equal(seen.deletedKeyCode, status.UNAUTHENTICATED);
  assert.ok((seen.deletedKeyRefusedWithinMs as number) <= 5_000, `a deleted key is refused within 5 s (took ${String(seen.deletedKeyRefusedWithinMs)} ms)`);
  assert.equal(seen.shortKeyBeforeExpiry, 0);
  assert.equal(seen.shortKeyAfterExpiry, status.UNAUTHENTICATED, 'an expired key is refused');
  for (const operation of ['CreateNamespace', 'UpdateNamespace', 'CreateUser', 'UpdateUser', 'CreateServiceAccount', 'CreateApiKey', 'UpdateApiKey', 'DeleteApiKey']) {
    assert.ok((seen.auditOperations as string[]).includes(operation), `the audit log holds ${operation}`);
  }
  assert.equal(seen.auditMentionsToken, false, 'the audit log holds no secret');
}, { timeoutMs: 120_000 });
