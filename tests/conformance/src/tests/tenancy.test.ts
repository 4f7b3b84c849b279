// Tenants end to end, as a customer of a hosted Hourglass meets them: the operator creates an
// account (`hourglass admin account create`); its owner creates a namespace and a service account
// with a key through CloudService; the official SDK's worker and client run workflows on that
// namespace with that key over TLS, trusting the development CA. Another account's keys get
// nothing of it; a suspended account's keys are refused saying so; bad credentials and bad
// account input get clear errors and change nothing; no secret reaches the logs, and the store
// holds only hashes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ActivityRecorder, createActivities } from '../activities';
import { SERVICES, conformanceFile, installQuietRuntime, rawServiceClient, serverBinPath, startWorker, uniqueName, type RawServiceClient } from '../harness';
import { bookTrip, greetAndAdd } from '../workflows';

const exec = promisify(execFile);
// Debug logging: the secrets test greps everything the server says.
const file = conformanceFile({ name: 'tenancy', worker: false, server: { extraArgs: ['--log-level', 'debug'] } });
const DAY_S = 86_400;

interface Tenant {
  accountId: string;
  ownerKey: string;
  namespace: string;
  workerKey: string;
}

/** `hourglass admin …`, as an operator runs it against this server with its operator key. */
async function admin(args: string[], operatorKey: string, address: string): Promise<Record<string, unknown>> {
  const { stdout } = await exec(process.execPath, [serverBinPath(), 'admin', ...args, '--address', address], { env: { ...process.env, HOURGLASS_OPERATOR_API_KEY: operatorKey } });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** An account (operator CLI), its namespace and a service account with write on it and a key (CloudService, as its owner). */
async function newTenant(raw: RawServiceClient, operatorKey: string, address: string, name: string): Promise<Tenant> {
  const created = await admin(['account', 'create', '--name', name, '--owner-email', `owner@${name}.test`], operatorKey, address);
  assert.match(String(created.accountId), /^[a-z][a-z0-9]{4}$/);
  assert.match(String(created.ownerApiKey), /^hgk_/);
  const owner = { apiKey: created.ownerApiKey as string };
  const ns = await raw.call(SERVICES.cloud, 'CreateNamespace', { spec: { name: 'orders', retentionDays: 3 } }, owner);
  const sa = await raw.call(
    SERVICES.cloud,
    'CreateServiceAccount',
    { spec: { name: 'worker', namespaceScopedAccess: { namespace: ns.namespace, access: { permission: 2 /* WRITE */ } } } },
    owner,
  );
  const key = await raw.call(
    SERVICES.cloud,
    'CreateApiKey',
    { spec: { ownerId: sa.serviceAccountId, ownerType: 2, displayName: 'worker key', expiryTime: { seconds: Math.floor(Date.now() / 1000) + DAY_S } } },
    owner,
  );
  return { accountId: created.accountId as string, ownerKey: created.ownerApiKey as string, namespace: ns.namespace as string, workerKey: key.token as string };
}

let tenants: { a: Tenant; b: Tenant; raw: RawServiceClient; operatorKey: string } | undefined;

async function prepare(address: string, operatorKey: string): Promise<NonNullable<typeof tenants>> {
  if (tenants) return tenants;
  const raw = rawServiceClient(address);
  tenants = { raw, operatorKey, a: await newTenant(raw, operatorKey, address, 'tenant-a'), b: await newTenant(raw, operatorKey, address, 'tenant-b') };
  return tenants;
}

file.test("a customer's worker and client run workflows on their namespace with a service account's key, over TLS", async (_t, env) => {
  const { tlsAddress, tlsCaFile } = env.server;
  assert.ok(tlsAddress && tlsCaFile);
  const { a } = await prepare(env.server.address, env.server.devCredentials().operatorApiKey);
  const tls = { serverRootCACertificate: readFileSync(tlsCaFile) };
  installQuietRuntime();
  const nativeConnection = await NativeConnection.connect({ address: tlsAddress, apiKey: a.workerKey, tls });
  const connection = await Connection.connect({ address: tlsAddress, apiKey: a.workerKey, tls });
  const client = new Client({ connection, namespace: a.namespace });
  const recorder = new ActivityRecorder();
  const taskQueue = uniqueName('tq-tenant');
  const worker = await startWorker({ connection: nativeConnection, namespace: a.namespace, taskQueue, activities: createActivities(recorder) });
  try {
    const greetId = uniqueName('tenant-greet');
    const greeting = await client.workflow.execute(greetAndAdd, { taskQueue, workflowId: greetId, args: ['Grace', 1, 2] });
    assert.equal(greeting, 'Hello, Grace! 1+2=3 left/right');
    assert.equal(recorder.forWorkflow(greetId).length, 4, "the activities ran on the customer's worker");
    const trip = await client.workflow.execute(bookTrip, { taskQueue, workflowId: uniqueName('tenant-trip'), args: [{ steps: ['car', 'hotel'], failingStep: 'none' }] });
    assert.equal(trip.length, 2, 'the saga booked both steps');
  } finally {
    await worker.shutdown();
    await nativeConnection.close();
    await connection.close();
  }
});

file.test("one account's keys, its owner's included, get nothing of another account's namespace", async (_t, env) => {
  const { a, b, raw } = await prepare(env.server.address, env.server.devCredentials().operatorApiKey);
  for (const key of [a.ownerKey, a.workerKey]) {
    for (const [method, request] of [
      ['DescribeNamespace', { namespace: b.namespace }],
      ['StartWorkflowExecution', { namespace: b.namespace, workflowId: 'intruder', workflowType: { name: 't' }, taskQueue: { name: 'q' }, requestId: 'r' }],
      ['PollWorkflowTaskQueue', { namespace: b.namespace, taskQueue: { name: 'q' } }],
      ['SignalWorkflowExecution', { namespace: b.namespace, workflowExecution: { workflowId: 'w' }, signalName: 's' }],
      ['GetWorkflowExecutionHistory', { namespace: b.namespace, execution: { workflowId: 'w' } }],
    ] as const) {
      const got = await raw.outcome(SERVICES.workflow, method, request as Record<string, unknown>, { apiKey: key });
      assert.equal(got.code, status.PERMISSION_DENIED, `${method}: ${got.details}`);
    }
    const cloud = await raw.outcome(SERVICES.cloud, 'GetNamespace', { namespace: b.namespace }, { apiKey: key });
    assert.equal(cloud.code, status.PERMISSION_DENIED);
  }
  // The worker key is scoped to its own namespace; it cannot even list the account's users' keys.
  const keys = await raw.call(SERVICES.cloud, 'GetApiKeys', {}, { apiKey: a.workerKey });
  assert.ok(((keys.apiKeys as Array<{ spec: { ownerId: string } }>) ?? []).length >= 1);
  assert.ok(((keys.apiKeys as Array<{ spec: { ownerId: string; displayName: string } }>) ?? []).every((k) => k.spec.displayName === 'worker key'), 'a service account sees its own keys only');
});

file.test("a suspended account's keys are refused saying so, and work again when it is resumed; nothing is deleted", async (_t, env) => {
  const operatorKey = env.server.devCredentials().operatorApiKey;
  const { raw } = await prepare(env.server.address, operatorKey);
  const c = await newTenant(raw, operatorKey, env.server.address, 'tenant-c');
  const suspended = await admin(['account', 'suspend', '--account', c.accountId, '--reason', 'unpaid invoice'], operatorKey, env.server.address);
  assert.equal(suspended.state, 'suspended');
  for (const key of [c.ownerKey, c.workerKey]) {
    const got = await raw.outcome(SERVICES.workflow, 'DescribeNamespace', { namespace: c.namespace }, { apiKey: key });
    assert.equal(got.code, status.PERMISSION_DENIED);
    assert.match(got.details, new RegExp(`account ${c.accountId} is suspended: unpaid invoice`));
  }
  await admin(['account', 'resume', '--account', c.accountId], operatorKey, env.server.address);
  const back = await raw.call(SERVICES.workflow, 'DescribeNamespace', { namespace: c.namespace }, { apiKey: c.workerKey });
  assert.equal((back.namespaceInfo as { name: string }).name, c.namespace, 'the namespace and the key survived the suspension');
});

file.test('the operator sets namespace limits; GetNamespace shows them', async (_t, env) => {
  const operatorKey = env.server.devCredentials().operatorApiKey;
  const { a, raw } = await prepare(env.server.address, operatorKey);
  const set = await admin(['namespace', 'limits', '--namespace', a.namespace, '--aps', '50'], operatorKey, env.server.address);
  assert.equal(set.aps, 50);
  const ns = await raw.call(SERVICES.cloud, 'GetNamespace', { namespace: a.namespace }, { apiKey: a.ownerKey });
  assert.equal((ns.namespace as { limits: { actionsPerSecondLimit: number } }).limits.actionsPerSecondLimit, 50);
  const refused = await exec(process.execPath, [serverBinPath(), 'admin', 'namespace', 'limits', '--namespace', a.namespace, '--aps', '5', '--address', env.server.address], {
    env: { ...process.env, HOURGLASS_OPERATOR_API_KEY: a.ownerKey },
  }).then(
    () => assert.fail('an owner key is not an operator key'),
    (err: { stderr: string; code: number }) => err,
  );
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /SetNamespaceLimits failed: .*needs an operator key/);
});

file.test('bad credentials and bad account input get a clear error and change nothing', async (_t, env) => {
  const operatorKey = env.server.devCredentials().operatorApiKey;
  const { a, raw } = await prepare(env.server.address, operatorKey);
  const describe = (apiKey: string): Promise<{ code: number; details: string }> => raw.outcome(SERVICES.workflow, 'DescribeNamespace', { namespace: a.namespace }, { apiKey });
  const secretTail = 'S'.repeat(43);
  const cases: Array<[string, string, RegExp]> = [
    ['a malformed token', 'not-a-key', /malformed API key/],
    ['a forged token for an unknown key id', `hgk_${'b'.repeat(20)}_${secretTail}`, /^invalid API key$/],
    ['a real key id with a wrong secret', `${a.workerKey.slice(0, 25)}${secretTail}`, /^invalid API key$/],
  ];
  for (const [what, token, message] of cases) {
    const got = await describe(token);
    assert.equal(got.code, status.UNAUTHENTICATED, what);
    assert.match(got.details, message, what);
    assert.ok(!got.details.includes(secretTail), `${what}: the secret is not echoed`);
  }
  const owner = { apiKey: a.ownerKey };
  const badInput: Array<[string, string, Record<string, unknown>, number, RegExp]> = [
    ['an invalid namespace name', 'CreateNamespace', { spec: { name: 'Bad_Name', retentionDays: 3 } }, status.INVALID_ARGUMENT, /may hold only lowercase letters, digits and hyphens/],
    ['a duplicate namespace', 'CreateNamespace', { spec: { name: 'orders', retentionDays: 3 } }, status.ALREADY_EXISTS, /orders/],
    ['retention out of range', 'CreateNamespace', { spec: { name: 'longlived', retentionDays: 91 } }, status.INVALID_ARGUMENT, /from 1 to 90/],
    ['an unknown role', 'CreateUser', { spec: { email: 'x@tenant-a.test', access: { accountAccess: { role: 42 } } } }, status.INVALID_ARGUMENT, /accountAccess\.role is 42, which is not a defined Role value/],
    ['no role', 'CreateUser', { spec: { email: 'x@tenant-a.test', access: {} } }, status.INVALID_ARGUMENT, /needs an account role/],
    ['an unknown namespace permission', 'CreateUser', { spec: { email: 'x@tenant-a.test', access: { accountAccess: { role: 5 }, namespaceAccesses: { 'orders.zzzzz': { permission: 9 } } } } }, status.INVALID_ARGUMENT, /is 9, which is not a defined Permission value/],
    ['a duplicate user', 'CreateUser', { spec: { email: 'OWNER@tenant-a.test', access: { accountAccess: { role: 5 } } } }, status.ALREADY_EXISTS, /already exists/],
    ['a key for a deleted service account', 'CreateApiKey', { spec: { ownerId: 'sa-gone', ownerType: 2, displayName: 'k', expiryTime: { seconds: Math.floor(Date.now() / 1000) + DAY_S } } }, status.NOT_FOUND, /service account "sa-gone" not found/],
  ];
  const before = await raw.call(SERVICES.cloud, 'GetNamespaces', {}, owner);
  const usersBefore = await raw.call(SERVICES.cloud, 'GetUsers', {}, owner);
  for (const [what, method, request, code, message] of badInput) {
    const got = await raw.outcome(SERVICES.cloud, method, request, owner);
    assert.equal(got.code, code, `${what}: ${status[got.code]} ${got.details}`);
    assert.match(got.details, message, what);
  }
  assert.deepEqual(await raw.call(SERVICES.cloud, 'GetNamespaces', {}, owner), before, 'no namespace was created or changed');
  assert.deepEqual(await raw.call(SERVICES.cloud, 'GetUsers', {}, owner), usersBefore, 'no user was created');
  // A deleted account's keys stop working.
  const d = await newTenant(raw, operatorKey, env.server.address, 'tenant-d');
  await admin(['account', 'delete', '--account', d.accountId], operatorKey, env.server.address);
  const gone = await raw.outcome(SERVICES.workflow, 'DescribeNamespace', { namespace: d.namespace }, { apiKey: d.workerKey });
  assert.ok(gone.code === status.UNAUTHENTICATED || gone.code === status.PERMISSION_DENIED, `${status[gone.code]} ${gone.details}`);
});

file.test('no token or secret appears in the logs, and the store holds only hashes', async (t, env) => {
  const credentials = env.server.devCredentials();
  const { a, b } = await prepare(env.server.address, credentials.operatorApiKey);
  const secrets = [credentials.ownerApiKey, credentials.operatorApiKey, a.ownerKey, a.workerKey, b.ownerKey, b.workerKey].map((t) => t.slice(25));
  const output = env.server.recentOutput();
  for (const secret of secrets) assert.ok(!output.includes(secret), 'a secret reached the server output');
  if (env.server.dbPath) {
    // better-sqlite3 is the server's dependency; read the file as bytes instead of opening it while the server holds it.
    const bytes = [env.server.dbPath, `${env.server.dbPath}-wal`].map((f) => {
      try {
        return readFileSync(f).toString('latin1');
      } catch {
        return '';
      }
    });
    const stored = bytes.join('');
    assert.ok(stored.includes('scrypt$'), 'the keys are stored as scrypt hashes');
    for (const secret of secrets) assert.ok(!stored.includes(secret), 'a secret is stored in the database');
  } else {
    t.diagnostic('the stored form is read from the SQLite file in the SQLite pass; the MySQL store is checked by its contract tests');
  }
});
