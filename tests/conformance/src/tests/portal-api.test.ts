// The portal's GraphQL API end to end, against a real start-dev process over HTTP: sign-in with
// the dev user's password and with API keys, identity (users, service accounts, keys, audit),
// namespaces, workflows run by the official SDK's worker (search, counts, detail, history with
// decoded payloads and billable actions, signal/cancel/terminate/reset), usage and invoices. Users
// of another account see and change nothing of this one, by id or by name; bad input gets
// BAD_USER_INPUT; and a page of workflows costs the same number of service calls whatever its size.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { conformanceFile, eventually, serverBinPath, uniqueName, type ConformanceEnv } from '../harness';
import { echoWorkflow, finishSignal, parentOfLongChild, runActivity, slowActivity, waitForFinish } from '../workflows';

const exec = promisify(execFile);
const file = conformanceFile({ name: 'portal' });

interface GqlError {
  message: string;
  extensions?: { code?: string };
}
interface GqlAnswer {
  data?: any;
  errors?: GqlError[];
  extensions?: { serviceCalls?: number };
}

async function gql(env: ConformanceEnv, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<GqlAnswer> {
  const response = await fetch(env.server.portalUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GqlAnswer;
}

/** The data of an answer that must have succeeded. */
async function ok(env: ConformanceEnv, query: string, variables: Record<string, unknown>, token: string | undefined): Promise<any> {
  const answer = await gql(env, query, variables, token);
  assert.equal(answer.errors, undefined, `expected success, got ${JSON.stringify(answer.errors)}`);
  return answer.data;
}

/** The code of an answer that must have failed; the message must match too when given. */
async function refused(env: ConformanceEnv, query: string, variables: Record<string, unknown>, token: string | undefined, code: string, message?: RegExp): Promise<void> {
  const answer = await gql(env, query, variables, token);
  assert.ok(answer.errors && answer.errors.length > 0, `expected ${code}, got data ${JSON.stringify(answer.data)}`);
  assert.equal(answer.errors[0]?.extensions?.code, code, JSON.stringify(answer.errors));
  if (message) assert.match(answer.errors[0]?.message ?? '', message);
}

const SIGN_IN = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { token expiresAt viewer { name role authenticatedWith account { id } } } }';
const YEAR_AHEAD = () => new Date(Date.now() + 300 * 86_400_000).toISOString();

async function ownerSession(env: ConformanceEnv): Promise<string> {
  const { portalEmail, portalPassword } = env.server.devCredentials();
  const data = await ok(env, SIGN_IN, { email: portalEmail, password: portalPassword }, undefined);
  return data.signIn.token as string;
}

/** Another account, made by the operator (`hourglass admin account create`): its owner's API key. */
async function otherAccount(env: ConformanceEnv, name: string): Promise<{ accountId: string; ownerKey: string; ownerEmail: string }> {
  const { stdout } = await exec(process.execPath, [serverBinPath(), 'admin', 'account', 'create', '--name', name, '--owner-email', `owner@${name}.test`, '--address', env.server.address], {
    env: { ...process.env, HOURGLASS_OPERATOR_API_KEY: env.server.devCredentials().operatorApiKey },
  });
  const created = JSON.parse(stdout) as { accountId: string; ownerApiKey: string };
  return { accountId: created.accountId, ownerKey: created.ownerApiKey, ownerEmail: `owner@${name}.test` };
}

file.test('sign-in: the dev user signs in with the password start-dev wrote; sessions and API keys authenticate; refusals say UNAUTHENTICATED', async (_t, env) => {
  const credentials = env.server.devCredentials();
  assert.equal(credentials.portalEmail, 'dev@hourglass.localhost');
  assert.ok(credentials.portalPassword.length >= 12);
  assert.equal(credentials.portalUrl, env.server.portalUrl);
  const signedIn = (await ok(env, SIGN_IN, { email: credentials.portalEmail.toUpperCase(), password: credentials.portalPassword }, undefined)).signIn;
  assert.match(signedIn.token, /^hgs_[a-z0-9]{20}_[A-Za-z0-9_-]{43}$/);
  assert.ok(Date.parse(signedIn.expiresAt) > Date.now());
  assert.deepEqual(signedIn.viewer, { name: 'dev@hourglass.localhost', role: 'owner', authenticatedWith: 'session', account: { id: credentials.accountId } });

  const viewer = '{ viewer { name role authenticatedWith account { id } } }';
  assert.equal((await ok(env, viewer, {}, signedIn.token)).viewer.authenticatedWith, 'session');
  const byKey = (await ok(env, viewer, {}, credentials.ownerApiKey)).viewer;
  assert.deepEqual(byKey, { name: 'dev@hourglass.localhost', role: 'owner', authenticatedWith: 'apiKey', account: { id: credentials.accountId } });

  await refused(env, SIGN_IN, { email: credentials.portalEmail, password: `${credentials.portalPassword}x` }, undefined, 'UNAUTHENTICATED', /wrong email or password/);
  await refused(env, SIGN_IN, { email: 'nobody@example.com', password: credentials.portalPassword }, undefined, 'UNAUTHENTICATED', /wrong email or password/);
  await refused(env, viewer, {}, undefined, 'UNAUTHENTICATED', /Bearer/);
  await refused(env, viewer, {}, 'hgs_not-a-session', 'UNAUTHENTICATED', /malformed session token/);
  await refused(env, viewer, {}, `${signedIn.token.slice(0, -2)}AA`, 'UNAUTHENTICATED');
  await refused(env, viewer, {}, 'hgk_aaaaaaaaaaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'UNAUTHENTICATED');

  // signOut ends the session at once.
  assert.equal((await ok(env, 'mutation { signOut }', {}, signedIn.token)).signOut, true);
  await refused(env, viewer, {}, signedIn.token, 'UNAUTHENTICATED', /sign in again/);

  // Development mode: introspection answers; depth and cost limits refuse before anything runs.
  const introspection = await ok(env, '{ __schema { queryType { name } } __type(name: "WorkflowSummary") { description fields { name description } } }', {}, undefined);
  assert.equal(introspection.__schema.queryType.name, 'Query');
  for (const field of introspection.__type.fields as { name: string; description: string | null }[]) assert.ok(field.description, `WorkflowSummary.${field.name} has a description`);
  const normal = '{ workflows(namespace: "default") { executions { namespace { searchAttributes { name } } } } }';
  assert.equal((await gql(env, normal, {}, credentials.ownerApiKey)).errors, undefined, 'a normal query passes the limits');
  const costly = `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: workflows(namespace: "default") { executions { namespace { searchAttributes { name type custom } limits { rps aps maxConcurrentPolls } } } }`).join(' ')} }`;
  const limited = await gql(env, costly, {}, credentials.ownerApiKey);
  assert.ok(limited.errors && limited.errors.length > 0, 'a query over the cost limit is refused');
  assert.match(limited.errors[0]?.message ?? '', /Query Cost limit of 2000 exceeded/);
  assert.equal(limited.errors[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
  assert.equal(limited.data, undefined);
});

file.test('identity: invite a user (who signs in with the initial password), change role and access, service accounts, API keys shown once, disable and delete, audit log', async (_t, env) => {
  const owner = await ownerSession(env);
  const email = `${uniqueName('ann')}@example.com`;
  const invited = (
    await ok(env, 'mutation($email: String!) { inviteUser(email: $email, role: read, namespaceAccess: [{ namespace: "default", permission: read }]) { initialPassword user { id email role hasPassword namespaceAccess { namespace permission } } } }', { email }, owner)
  ).inviteUser;
  assert.equal(invited.user.email, email);
  assert.equal(invited.user.role, 'read');
  assert.equal(invited.user.hasPassword, true);
  assert.deepEqual(invited.user.namespaceAccess, [{ namespace: 'default', permission: 'read' }]);
  const ann = (await ok(env, SIGN_IN, { email, password: invited.initialPassword }, undefined)).signIn.token as string;

  // A read user may read but not administer.
  const users = (await ok(env, '{ users { email role } }', {}, ann)).users as { email: string }[];
  assert.ok(users.some((u) => u.email === email) && users.some((u) => u.email === 'dev@hourglass.localhost'));
  await refused(env, 'mutation { inviteUser(email: "x@example.com", role: read) { initialPassword } }', {}, ann, 'FORBIDDEN', /admin or owner/);
  await refused(env, 'mutation { terminateWorkflow(namespace: "default", workflowId: "nope", reason: "r") }', {}, ann, 'FORBIDDEN', /needs namespace write/);

  // Role and access changes take effect on the user's next request.
  assert.equal((await ok(env, 'mutation($id: ID!) { setUserRole(userId: $id, role: developer) { role } }', { id: invited.user.id }, owner)).setUserRole.role, 'developer');
  const access = (await ok(env, 'mutation($id: ID!) { setUserNamespaceAccess(userId: $id, namespace: "default", permission: write) { namespaceAccess { namespace permission } } }', { id: invited.user.id }, owner))
    .setUserNamespaceAccess.namespaceAccess;
  assert.deepEqual(access, [{ namespace: 'default', permission: 'write' }]);
  assert.equal((await ok(env, '{ viewer { role } }', {}, ann)).viewer.role, 'developer');
  await refused(env, 'mutation($id: ID!) { setUserRole(userId: $id, role: owner) { role } }', { id: invited.user.id }, ann, 'FORBIDDEN');

  // Password change: the old one stops signing in.
  await refused(env, 'mutation { changePassword(currentPassword: "wrong-password-1", newPassword: "a-new-long-password") }', {}, ann, 'UNAUTHENTICATED');
  await refused(env, 'mutation($c: String!) { changePassword(currentPassword: $c, newPassword: "short") }', { c: invited.initialPassword }, ann, 'BAD_USER_INPUT', /at least 12/);
  assert.equal((await ok(env, 'mutation($c: String!) { changePassword(currentPassword: $c, newPassword: "a-new-long-password") }', { c: invited.initialPassword }, ann)).changePassword, true);
  await refused(env, SIGN_IN, { email, password: invited.initialPassword }, undefined, 'UNAUTHENTICATED');
  await ok(env, SIGN_IN, { email, password: 'a-new-long-password' }, undefined);

  // Service accounts and keys: the token is shown once and works; disabled, it is refused; deleted, gone.
  const sa = (await ok(env, 'mutation { createServiceAccount(name: "ci", description: "deploys", scopedNamespace: { namespace: "default", permission: write }) { id name scopedNamespace role } }', {}, owner))
    .createServiceAccount;
  assert.deepEqual({ name: sa.name, scopedNamespace: sa.scopedNamespace, role: sa.role }, { name: 'ci', scopedNamespace: 'default', role: null });
  assert.ok(((await ok(env, '{ serviceAccounts { id } }', {}, owner)).serviceAccounts as { id: string }[]).some((s) => s.id === sa.id));
  const created = (
    await ok(env, 'mutation($sa: ID!, $exp: DateTime!) { createApiKey(displayName: "ci key", expiresAt: $exp, serviceAccountId: $sa) { token key { id ownerType ownerId disabled } } }', { sa: sa.id, exp: YEAR_AHEAD() }, owner)
  ).createApiKey;
  assert.match(created.token, /^hgk_/);
  assert.deepEqual({ ownerType: created.key.ownerType, ownerId: created.key.ownerId, disabled: created.key.disabled }, { ownerType: 'serviceAccount', ownerId: sa.id, disabled: false });
  assert.equal((await ok(env, '{ viewer { type name } }', {}, created.token)).viewer.name, 'ci');
  const listed = (await ok(env, '{ apiKeys { id displayName } }', {}, owner)).apiKeys as { id: string }[];
  assert.ok(listed.some((k) => k.id === created.key.id));
  assert.ok(!JSON.stringify(listed).includes(created.token.slice(-20)), 'no secret in a listing');
  assert.equal((await ok(env, 'mutation($id: ID!) { setApiKeyDisabled(id: $id, disabled: true) { disabled } }', { id: created.key.id }, owner)).setApiKeyDisabled.disabled, true);
  await refused(env, '{ viewer { name } }', {}, created.token, 'UNAUTHENTICATED', /disabled/);
  await ok(env, 'mutation($id: ID!) { deleteApiKey(id: $id) }', { id: created.key.id }, owner);
  await refused(env, '{ viewer { name } }', {}, created.token, 'UNAUTHENTICATED');
  await ok(env, 'mutation($id: ID!) { deleteServiceAccount(id: $id) }', { id: sa.id }, owner);

  // Bad input: BAD_USER_INPUT, nothing created.
  await refused(env, 'mutation { inviteUser(email: "not-an-email", role: read) { initialPassword } }', {}, owner, 'BAD_USER_INPUT');
  await refused(env, 'mutation { inviteUser(email: "a@b.example", role: emperor) { initialPassword } }', {}, owner, 'GRAPHQL_VALIDATION_FAILED');
  await refused(env, 'mutation { createApiKey(displayName: "k", expiresAt: "tomorrow") { token } }', {}, owner, 'GRAPHQL_VALIDATION_FAILED', /ISO 8601/);
  await refused(env, 'mutation($exp: DateTime!) { createApiKey(displayName: "  ", expiresAt: $exp) { token } }', { exp: YEAR_AHEAD() }, owner, 'BAD_USER_INPUT', /display name/);
  await refused(env, 'mutation { setUserRole(userId: "u-nope", role: read) { id } }', {}, owner, 'NOT_FOUND');
  assert.ok(!((await ok(env, '{ users { email } }', {}, owner)).users as { email: string }[]).some((u) => u.email === 'not-an-email'));

  // Removing the user ends its sessions.
  assert.equal((await ok(env, 'mutation($id: ID!) { removeUser(userId: $id) }', { id: invited.user.id }, owner)).removeUser, true);
  await refused(env, '{ viewer { name } }', {}, ann, 'UNAUTHENTICATED');
  await refused(env, SIGN_IN, { email, password: 'a-new-long-password' }, undefined, 'UNAUTHENTICATED');

  // Every change is in the audit log, by whom.
  const from = new Date(Date.now() - 3600_000).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();
  const audit = (await ok(env, 'query($from: DateTime!, $to: DateTime!) { auditLog(from: $from, to: $to, limit: 1000) { operation principal status details } }', { from, to }, owner)).auditLog as { operation: string; principal: string }[];
  for (const operation of ['PortalSignIn', 'CreateUser', 'UpdateUser', 'SetUserNamespaceAccess', 'CreateServiceAccount', 'CreateApiKey', 'UpdateApiKey', 'DeleteApiKey', 'DeleteUser']) {
    assert.ok(audit.some((a) => a.operation === operation && a.principal === 'user dev@hourglass.localhost'), `audit has ${operation}: ${JSON.stringify(audit.map((a) => a.operation))}`);
  }
  assert.ok(audit.some((a) => a.operation === 'ChangePortalPassword' && a.principal === `user ${email}`), 'the invited user changed its password');
  assert.ok(!JSON.stringify(audit).includes('a-new-long-password'), 'no password in the audit log');
  await refused(env, 'query($from: DateTime!, $to: DateTime!) { auditLog(from: $from, to: $to, limit: 5000) { id } }', { from, to }, owner, 'BAD_USER_INPUT', /1,000/);
});

file.test('namespaces: create, change retention and description, search attributes, limits, delete; bad input refused', async (_t, env) => {
  const owner = await ownerSession(env);
  const { accountId } = env.server.devCredentials();
  const ns = (await ok(env, 'mutation { createNamespace(name: "shop", retentionDays: 3, description: "the shop") { name retentionDays description myPermission limits { rps aps maxConcurrentPolls } } }', {}, owner)).createNamespace;
  assert.equal(ns.name, `shop.${accountId}`);
  assert.equal(ns.retentionDays, 3);
  assert.equal(ns.myPermission, 'admin');
  assert.ok(ns.limits.rps > 0 && ns.limits.aps > 0 && ns.limits.maxConcurrentPolls > 0);
  const changed = (await ok(env, 'mutation($n: String!) { updateNamespace(name: $n, retentionDays: 7, description: "orders") { retentionDays description } }', { n: ns.name }, owner)).updateNamespace;
  assert.deepEqual(changed, { retentionDays: 7, description: 'orders' });
  const attributes = (await ok(env, 'mutation($n: String!) { addSearchAttributes(namespace: $n, attributes: [{ name: "CustomerId", type: "Keyword" }]) { name type custom } }', { n: ns.name }, owner))
    .addSearchAttributes as { name: string; type: string; custom: boolean }[];
  assert.deepEqual(
    attributes.find((a) => a.name === 'CustomerId'),
    { name: 'CustomerId', type: 'Keyword', custom: true },
  );
  assert.ok(attributes.some((a) => a.name === 'WorkflowType' && !a.custom));
  const listed = (await ok(env, '{ namespaces { name } }', {}, owner)).namespaces as { name: string }[];
  assert.deepEqual(listed.map((n) => n.name).sort(), ['default', ns.name].sort());

  await refused(env, 'mutation($n: String!) { updateNamespace(name: $n, retentionDays: 0) { name } }', { n: ns.name }, owner, 'BAD_USER_INPUT', /1 to 90/);
  await refused(env, 'mutation { createNamespace(name: "-bad name-") { name } }', {}, owner, 'BAD_USER_INPUT');
  await refused(env, 'mutation($n: String!) { addSearchAttributes(namespace: $n, attributes: [{ name: "X", type: "Banana" }]) { name } }', { n: ns.name }, owner, 'BAD_USER_INPUT', /Keyword/);
  await refused(env, `{ namespace(name: "nothere.${accountId}") { name } }`, {}, owner, 'NOT_FOUND');
  assert.equal((await ok(env, '{ namespace(name: "default") { retentionDays } }', {}, owner)).namespace.retentionDays, 1);

  assert.equal((await ok(env, 'mutation($n: String!) { deleteNamespace(name: $n) }', { n: ns.name }, owner)).deleteNamespace, true);
  await refused(env, '{ namespace(name: $n) { name } }'.replace('$n', JSON.stringify(ns.name)), {}, owner, 'NOT_FOUND');
});

file.test('workflows: search with the list filter, counts by status, detail with pending activities and runs, history with decoded payloads and billable actions; signal, cancel, terminate and reset with recorded reasons', async (_t, env) => {
  const owner = await ownerSession(env);
  const prefix = uniqueName('wf');
  const waiting = await Promise.all(
    Array.from({ length: 3 }, (_, i) => env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId: `${prefix}-wait-${i}`, searchAttributes: { CustomKeywordField: [prefix] }, memo: { note: `n${i}` } })),
  );
  const echoed = await env.client.workflow.start(echoWorkflow, { taskQueue: env.taskQueue, workflowId: `${prefix}-echo`, args: [`hello ${prefix}`], searchAttributes: { CustomKeywordField: [prefix] } });
  await echoed.result();
  const slow = await env.client.workflow.start(slowActivity, { taskQueue: env.taskQueue, workflowId: `${prefix}-slow`, args: ['v', 20_000], searchAttributes: { CustomKeywordField: [prefix] } });
  const query = `CustomKeywordField = '${prefix}'`;
  await eventually(async () => {
    const counts = (await ok(env, 'query($q: String) { workflowCounts(namespace: "default", query: $q) { total byStatus { status count } } }', { q: query }, owner)).workflowCounts;
    assert.equal(counts.total, 5);
    assert.deepEqual(
      (counts.byStatus as { status: string; count: number }[]).sort((a, b) => a.status.localeCompare(b.status)),
      [
        { status: 'Completed', count: 1 },
        { status: 'Running', count: 4 },
      ],
    );
    return true;
  });

  // Paged search: 2 + 2 + 1, each execution once.
  const seen: string[] = [];
  let token: string | null = null;
  let pages = 0;
  do {
    const page: any = (
      await ok(env, 'query($q: String, $t: String) { workflows(namespace: "default", query: $q, pageSize: 2, pageToken: $t) { executions { workflowId runId status type taskQueue memo searchAttributes } nextPageToken } }', { q: query, t: token }, owner)
    ).workflows;
    seen.push(...(page.executions as { workflowId: string }[]).map((e) => e.workflowId));
    token = page.nextPageToken;
    pages += 1;
  } while (token);
  assert.equal(pages, 3);
  assert.deepEqual([...seen].sort(), [...waiting.map((h) => h.workflowId), echoed.workflowId, slow.workflowId].sort());
  const one = (await ok(env, 'query($q: String) { workflows(namespace: "default", query: $q) { executions { workflowId memo searchAttributes type status } } }', { q: `WorkflowId = '${prefix}-wait-1'` }, owner)).workflows.executions[0];
  assert.deepEqual(one.memo, { note: 'n1' });
  assert.deepEqual([one.searchAttributes.CustomKeywordField].flat(), [prefix]);
  assert.equal(one.type, 'waitForFinish');
  await refused(env, '{ workflows(namespace: "default", query: "WorkflowType = ") { nextPageToken } }', {}, owner, 'BAD_USER_INPUT');

  // Detail: the pending activity, its attempt; the run chain.
  await eventually(async () => {
    const detail = (
      await ok(env, 'query($id: String!) { workflow(namespace: "default", workflowId: $id) { summary { status } pendingActivities { activityType state attempt } runs { runId status } } }', { id: slow.workflowId }, owner)
    ).workflow;
    assert.equal(detail.summary.status, 'Running');
    assert.deepEqual(detail.pendingActivities, [{ activityType: 'sleepThenEcho', state: 'STARTED', attempt: 1 }]);
    assert.equal(detail.runs.length, 1);
    return true;
  });

  // History: decoded payloads and the billable actions of each event.
  const history = (
    await ok(env, 'query($id: String!) { workflowHistory(namespace: "default", workflowId: $id) { events { eventId eventType eventTime attributes billableActions { action count } } nextPageToken } }', { id: echoed.workflowId }, owner)
  ).workflowHistory;
  const events = history.events as { eventId: number; eventType: string; attributes: any; billableActions: { action: string; count: number }[] }[];
  assert.deepEqual(
    events.map((e) => e.eventId),
    events.map((_, i) => i + 1),
  );
  assert.equal(events[0]?.eventType, 'WorkflowExecutionStarted');
  assert.deepEqual(events[0]?.attributes.input.payloads, [`hello ${prefix}`]);
  assert.deepEqual(events[0]?.billableActions, [{ action: 'workflow_started', count: 1 }]);
  const completed = events.find((e) => e.eventType === 'WorkflowExecutionCompleted');
  assert.deepEqual(completed?.attributes.result.payloads, [`hello ${prefix}`]);
  assert.deepEqual(completed?.billableActions, []);
  const paged = (await ok(env, 'query($id: String!) { workflowHistory(namespace: "default", workflowId: $id, pageSize: 2) { events { eventId } nextPageToken } }', { id: echoed.workflowId }, owner)).workflowHistory;
  assert.equal(paged.events.length, 2);
  assert.ok(paged.nextPageToken);

  // Signal: the workflow completes with the signal's value, and the signal counted one action.
  await ok(env, 'mutation($id: String!) { signalWorkflow(namespace: "default", workflowId: $id, signalName: "finish", input: "from the portal") }', { id: waiting[0]!.workflowId }, owner);
  assert.equal(await waiting[0]!.result(), 'from the portal');
  const signalled = (await ok(env, 'query($id: String!) { workflowHistory(namespace: "default", workflowId: $id) { events { eventType attributes billableActions { action count } } } }', { id: waiting[0]!.workflowId }, owner))
    .workflowHistory.events as { eventType: string; attributes: any; billableActions: unknown[] }[];
  const signal = signalled.find((e) => e.eventType === 'WorkflowExecutionSignaled');
  assert.equal(signal?.attributes.signalName, finishSignal.name);
  assert.match(signal?.attributes.identity, /^portal:dev@hourglass\.localhost/);
  assert.deepEqual(signal?.billableActions, [{ action: 'signal', count: 1 }]);

  // Terminate and cancel: the reasons are in the histories.
  await ok(env, 'mutation($id: String!) { terminateWorkflow(namespace: "default", workflowId: $id, reason: "stuck order 7") }', { id: waiting[1]!.workflowId }, owner);
  const terminated = (await ok(env, 'query($id: String!) { workflowHistory(namespace: "default", workflowId: $id) { events { eventType attributes } } }', { id: waiting[1]!.workflowId }, owner)).workflowHistory.events as {
    eventType: string;
    attributes: any;
  }[];
  assert.equal(terminated.at(-1)?.eventType, 'WorkflowExecutionTerminated');
  assert.equal(terminated.at(-1)?.attributes.reason, 'stuck order 7');
  await ok(env, 'mutation($id: String!) { cancelWorkflow(namespace: "default", workflowId: $id, reason: "customer asked") }', { id: slow.workflowId }, owner);
  const cancelRequested = (await ok(env, 'query($id: String!) { workflowHistory(namespace: "default", workflowId: $id) { events { eventType attributes } } }', { id: slow.workflowId }, owner)).workflowHistory.events as {
    eventType: string;
    attributes: any;
  }[];
  assert.equal(cancelRequested.find((e) => e.eventType === 'WorkflowExecutionCancelRequested')?.attributes.cause, 'customer asked');
  await refused(env, 'mutation($id: String!) { terminateWorkflow(namespace: "default", workflowId: $id, reason: "  ") }', { id: waiting[2]!.workflowId }, owner, 'BAD_USER_INPUT', /reason is required/);
  await refused(env, 'mutation { terminateWorkflow(namespace: "default", workflowId: "no-such-workflow", reason: "x") }', {}, owner, 'NOT_FOUND');

  // Reset to the end of the first workflow task: a new run, the reason recorded, the chain shows both runs.
  const beforeReset = (await ok(env, 'query($id: String!) { workflowHistory(namespace: "default", workflowId: $id) { events { eventId eventType } } }', { id: waiting[2]!.workflowId }, owner)).workflowHistory.events as {
    eventId: number;
    eventType: string;
  }[];
  const taskCompleted = beforeReset.find((e) => e.eventType === 'WorkflowTaskCompleted');
  assert.ok(taskCompleted);
  const newRunId = (
    await ok(env, 'mutation($id: String!, $e: Int!) { resetWorkflow(namespace: "default", workflowId: $id, workflowTaskFinishEventId: $e, reason: "replay after fix") }', { id: waiting[2]!.workflowId, e: taskCompleted.eventId }, owner)
  ).resetWorkflow as string;
  assert.ok(newRunId && newRunId !== waiting[2]!.firstExecutionRunId);
  const oldRun = (await ok(env, 'query($id: String!, $r: String) { workflowHistory(namespace: "default", workflowId: $id, runId: $r) { events { eventType attributes } } }', { id: waiting[2]!.workflowId, r: waiting[2]!.firstExecutionRunId }, owner))
    .workflowHistory.events as { eventType: string; attributes: any }[];
  assert.equal(oldRun.at(-1)?.eventType, 'WorkflowExecutionTerminated');
  assert.match(JSON.stringify(oldRun.at(-1)?.attributes), /replay after fix/);
  await eventually(async () => {
    const runs = (await ok(env, 'query($id: String!) { workflow(namespace: "default", workflowId: $id) { summary { runId } runs { runId } } }', { id: waiting[2]!.workflowId }, owner)).workflow;
    assert.equal(runs.summary.runId, newRunId);
    assert.deepEqual((runs.runs as { runId: string }[]).map((r) => r.runId).sort(), [newRunId, waiting[2]!.firstExecutionRunId].sort());
    return true;
  });
  await env.client.workflow.getHandle(waiting[2]!.workflowId).signal(finishSignal, 'done');
});

file.test('detail: a pending child with its parent link, a pending activity with its last heartbeat and details', async (_t, env) => {
  const owner = await ownerSession(env);
  const parentId = uniqueName('parent');
  const childId = `${parentId}-child`;
  const parent = await env.client.workflow.start(parentOfLongChild, { taskQueue: env.taskQueue, workflowId: parentId, args: [childId, 'TERMINATE'] });
  const beating = await env.client.workflow.start(runActivity, {
    taskQueue: env.taskQueue,
    workflowId: uniqueName('beats'),
    args: ['heartbeatThenGoSilent', [3, 30_000], { startToCloseTimeout: '60s', heartbeatTimeout: '20s' }],
  });
  try {
    await eventually(async () => {
      const detail = (await ok(env, 'query($id: String!) { workflow(namespace: "default", workflowId: $id) { pendingChildren { workflowId workflowType } } }', { id: parentId }, owner)).workflow;
      assert.deepEqual(detail.pendingChildren, [{ workflowId: childId, workflowType: 'longSleepChild' }]);
      return true;
    });
    // The child starts after its parent recorded the initiation (a transfer task): it may take a moment.
    await eventually(async () => {
      const child = (await ok(env, 'query($id: String!) { workflow(namespace: "default", workflowId: $id) { parent { workflowId runId } summary { type } } }', { id: childId }, owner)).workflow;
      assert.deepEqual(child.parent, { workflowId: parentId, runId: parent.firstExecutionRunId });
      return true;
    });
    await eventually(async () => {
      const detail = (
        await ok(env, 'query($id: String!) { workflow(namespace: "default", workflowId: $id) { pendingActivities { activityType state attempt lastHeartbeatTime heartbeatDetails lastWorkerIdentity } } }', { id: beating.workflowId }, owner)
      ).workflow;
      const activity = detail.pendingActivities[0];
      assert.equal(activity?.activityType, 'heartbeatThenGoSilent');
      assert.equal(activity.state, 'STARTED');
      // The SDK throttles heartbeats: the last one recorded is one of the three (0, 1, 2).
      assert.equal(activity.heartbeatDetails.length, 1);
      assert.ok([0, 1, 2].includes(activity.heartbeatDetails[0]), JSON.stringify(activity.heartbeatDetails));
      assert.ok(Date.parse(activity.lastHeartbeatTime) > Date.now() - 60_000);
      assert.ok(activity.lastWorkerIdentity);
      return true;
    }, { timeoutMs: 30_000 });
  } finally {
    await parent.terminate('test over');
    await beating.terminate('test over');
  }
});

file.test('saved views: the caller\'s own, checked as queries, written with namespace write, invisible to other accounts', async (_t, env) => {
  const owner = await ownerSession(env);
  const save = 'mutation($n: String!, $q: String!) { saveView(namespace: "default", name: $n, query: $q) { name query savedBy updatedAt } }';
  const saved = (await ok(env, save, { n: 'failed orders', q: "ExecutionStatus = 'Failed' AND WorkflowType = 'order'" }, owner)).saveView;
  assert.deepEqual({ ...saved, updatedAt: typeof saved.updatedAt }, { name: 'failed orders', query: "ExecutionStatus = 'Failed' AND WorkflowType = 'order'", savedBy: 'dev@hourglass.localhost', updatedAt: 'string' });
  await ok(env, save, { n: 'failed orders', q: "ExecutionStatus = 'Failed'" }, owner);
  await ok(env, save, { n: 'all', q: '' }, owner);
  const views = () => ok(env, '{ savedViews(namespace: "default") { name query } }', {}, owner).then((d) => d.savedViews as { name: string; query: string }[]);
  assert.deepEqual(await views(), [
    { name: 'all', query: '' },
    { name: 'failed orders', query: "ExecutionStatus = 'Failed'" },
  ]);
  await refused(env, save, { n: 'broken', q: 'NoSuchAttribute = 1' }, owner, 'BAD_USER_INPUT', /NoSuchAttribute/);
  await refused(env, save, { n: ' ', q: '' }, owner, 'BAD_USER_INPUT', /view name/);
  assert.deepEqual((await views()).map((v) => v.name), ['all', 'failed orders'], 'refused saves wrote nothing');

  // The owner's API key is the same user: the same views.
  assert.deepEqual((await ok(env, '{ savedViews(namespace: "default") { name } }', {}, env.server.devCredentials().ownerApiKey)).savedViews, [{ name: 'all' }, { name: 'failed orders' }]);

  // A reader sees none of them (they are the owner's) and may not save or delete; another account sees none either.
  const email = `${uniqueName('reader')}@example.com`;
  const invited = (await ok(env, 'mutation($e: String!) { inviteUser(email: $e, role: read, namespaceAccess: [{ namespace: "default", permission: read }]) { initialPassword } }', { e: email }, owner)).inviteUser;
  const reader = (await ok(env, SIGN_IN, { email, password: invited.initialPassword }, undefined)).signIn.token as string;
  assert.deepEqual((await ok(env, '{ savedViews(namespace: "default") { name } }', {}, reader)).savedViews, []);
  await refused(env, save, { n: 'mine', q: '' }, reader, 'FORBIDDEN', /needs namespace write/);
  await refused(env, 'mutation { deleteView(namespace: "default", name: "all") }', {}, reader, 'FORBIDDEN');
  const b = await otherAccount(env, uniqueName('acct-views'));
  await refused(env, '{ savedViews(namespace: "default") { name } }', {}, b.ownerKey, 'FORBIDDEN');
  await refused(env, 'mutation { deleteView(namespace: "default", name: "all") }', {}, b.ownerKey, 'FORBIDDEN');

  assert.equal((await ok(env, 'mutation { deleteView(namespace: "default", name: "all") }', {}, owner)).deleteView, true);
  await refused(env, 'mutation { deleteView(namespace: "default", name: "all") }', {}, owner, 'NOT_FOUND');
  assert.deepEqual((await views()).map((v) => v.name), ['failed orders']);
});

file.test('saved views are per user: two writers of a namespace keep views of the same name apart; a service account key\'s views are its own', async (_t, env) => {
  const owner = await ownerSession(env);
  const writer = async (prefix: string) => {
    const email = `${uniqueName(prefix)}@example.com`;
    const invited = (
      await ok(env, 'mutation($e: String!) { inviteUser(email: $e, role: read, namespaceAccess: [{ namespace: "default", permission: write }]) { initialPassword } }', { e: email }, owner)
    ).inviteUser;
    return { email, token: (await ok(env, SIGN_IN, { email, password: invited.initialPassword }, undefined)).signIn.token as string };
  };
  const ann = await writer('ann-views');
  const bob = await writer('bob-views');
  const save = 'mutation($n: String!, $q: String!) { saveView(namespace: "default", name: $n, query: $q) { name query savedBy } }';
  const views = async (token: string) =>
    ((await ok(env, '{ savedViews(namespace: "default") { name query savedBy } }', {}, token)).savedViews as { name: string; query: string; savedBy: string }[]).map(
      (v) => `${v.name}: ${v.query} (${v.savedBy})`,
    );
  const annFailed = `failed: ExecutionStatus = 'Failed' (${ann.email})`;

  assert.deepEqual((await ok(env, save, { n: 'failed', q: "ExecutionStatus = 'Failed'" }, ann.token)).saveView, { name: 'failed', query: "ExecutionStatus = 'Failed'", savedBy: ann.email });
  assert.deepEqual(await views(ann.token), [annFailed]);
  assert.deepEqual(await views(bob.token), [], 'Bob does not see Ann\'s view');
  assert.ok(!(await views(owner)).some((v) => v.includes(ann.email)), 'nor does the account owner');

  // Bob saving the same name makes his own view; Ann's is not overwritten.
  await ok(env, save, { n: 'failed', q: "ExecutionStatus = 'Terminated'" }, bob.token);
  assert.deepEqual(await views(bob.token), [`failed: ExecutionStatus = 'Terminated' (${bob.email})`]);
  assert.deepEqual(await views(ann.token), [annFailed]);

  // Deleting is of one's own: Bob's delete leaves Ann's, and Bob cannot delete what only Ann has.
  await ok(env, save, { n: 'ann only', q: '' }, ann.token);
  await refused(env, 'mutation { deleteView(namespace: "default", name: "ann only") }', {}, bob.token, 'NOT_FOUND', /you have no saved view "ann only"/);
  assert.equal((await ok(env, 'mutation { deleteView(namespace: "default", name: "failed") }', {}, bob.token)).deleteView, true);
  assert.deepEqual(await views(bob.token), []);
  assert.deepEqual(await views(ann.token), [`ann only:  (${ann.email})`, annFailed]);

  // A service account's key saves and lists its own views, which no user sees.
  const saName = uniqueName('views-ci');
  const sa = (
    await ok(env, 'mutation($n: String!) { createServiceAccount(name: $n, description: "ci", scopedNamespace: { namespace: "default", permission: write }) { id } }', { n: saName }, owner)
  ).createServiceAccount;
  const saKey = (
    await ok(env, 'mutation($sa: ID!, $exp: DateTime!) { createApiKey(displayName: "views key", expiresAt: $exp, serviceAccountId: $sa) { token } }', { sa: sa.id, exp: YEAR_AHEAD() }, owner)
  ).createApiKey.token as string;
  assert.deepEqual(await views(saKey), []);
  await ok(env, save, { n: 'failed', q: "ExecutionStatus = 'Failed' AND WorkflowType = 'deploy'" }, saKey);
  assert.deepEqual(await views(saKey), [`failed: ExecutionStatus = 'Failed' AND WorkflowType = 'deploy' (${saName})`]);
  assert.deepEqual(await views(ann.token), [`ann only:  (${ann.email})`, annFailed]);
  assert.ok(!(await views(owner)).some((v) => v.includes(saName)));
  await ok(env, 'mutation($id: ID!) { deleteServiceAccount(id: $id) }', { id: sa.id }, owner);
});

file.test('a page of workflows costs the same service calls whatever its size (one list call, one namespace load, one search attribute list)', async (_t, env) => {
  const owner = await ownerSession(env);
  const prefix = uniqueName('nplus');
  await Promise.all(Array.from({ length: 12 }, (_, i) => env.client.workflow.execute(echoWorkflow, { taskQueue: env.taskQueue, workflowId: `${prefix}-${i}`, args: ['x'], searchAttributes: { CustomKeywordField: [prefix] } })));
  const query = `CustomKeywordField = '${prefix}'`;
  const page = 'query($q: String, $n: Int) { workflows(namespace: "default", query: $q, pageSize: $n) { executions { workflowId status namespace { name retentionDays myPermission searchAttributes { name } } } } }';
  await eventually(async () => (await ok(env, page, { q: query, n: 12 }, owner)).workflows.executions.length === 12);
  const costs: Record<number, number | undefined> = {};
  for (const size of [1, 3, 12]) {
    const answer = await gql(env, page, { q: query, n: size }, owner);
    assert.equal(answer.errors, undefined);
    assert.equal(answer.data.workflows.executions.length, size);
    for (const row of answer.data.workflows.executions as { namespace: { name: string } }[]) assert.equal(row.namespace.name, 'default');
    costs[size] = answer.extensions?.serviceCalls;
  }
  assert.equal(costs[1], 3, 'one ListWorkflowExecutions, one namespace read and one ListSearchAttributes');
  assert.equal(costs[3], costs[1]);
  assert.equal(costs[12], costs[1]);
});

file.test("accounts are apart: another account's owner sees and changes nothing of this one, by id or by name", async (_t, env) => {
  const owner = await ownerSession(env);
  const { ownerApiKey } = env.server.devCredentials();
  const b = await otherAccount(env, uniqueName('acct-b'));
  const workflowId = uniqueName('private');
  const handle = await env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId });
  const ownKey = (await ok(env, 'mutation($exp: DateTime!) { createApiKey(displayName: "mine", expiresAt: $exp) { key { id } } }', { exp: YEAR_AHEAD() }, owner)).createApiKey.key.id as string;
  const ownUser = (await ok(env, '{ viewer { id } }', {}, owner)).viewer.id as string;

  // Lists show B's own things only.
  assert.deepEqual(((await ok(env, '{ users { email } }', {}, b.ownerKey)).users as { email: string }[]).map((u) => u.email), [b.ownerEmail]);
  assert.ok(!((await ok(env, '{ apiKeys { id } }', {}, b.ownerKey)).apiKeys as { id: string }[]).some((k) => k.id === ownKey));
  assert.deepEqual((await ok(env, '{ namespaces { name } }', {}, b.ownerKey)).namespaces, []);

  // By name: FORBIDDEN whether the namespace exists or not.
  for (const query of [
    '{ namespace(name: "default") { name } }',
    '{ workflows(namespace: "default") { executions { workflowId } } }',
    '{ workflowCounts(namespace: "default") { total } }',
    `{ workflow(namespace: "default", workflowId: "${workflowId}") { summary { status } } }`,
    `{ workflowHistory(namespace: "default", workflowId: "${workflowId}") { events { eventId } } }`,
    `mutation { terminateWorkflow(namespace: "default", workflowId: "${workflowId}", reason: "mine now") }`,
    `mutation { signalWorkflow(namespace: "default", workflowId: "${workflowId}", signalName: "finish", input: "x") }`,
    'mutation { updateNamespace(name: "default", retentionDays: 90) { name } }',
    'mutation { deleteNamespace(name: "default") }',
    'mutation { addSearchAttributes(namespace: "default", attributes: [{ name: "Stolen", type: "Keyword" }]) { name } }',
    `mutation { setUserNamespaceAccess(userId: "${ownUser}", namespace: "default", permission: admin) { id } }`,
  ]) {
    await refused(env, query, {}, b.ownerKey, 'FORBIDDEN');
  }
  // By id: NOT_FOUND, as for ids that do not exist.
  for (const query of [
    `mutation { setUserRole(userId: "${ownUser}", role: read) { id } }`,
    `mutation { removeUser(userId: "${ownUser}") }`,
    `mutation { deleteApiKey(id: "${ownKey}") }`,
    `mutation { setApiKeyDisabled(id: "${ownKey}", disabled: true) { id } }`,
  ]) {
    await refused(env, query, {}, b.ownerKey, 'NOT_FOUND');
  }
  // Nothing changed: the workflow runs, the key works, the namespace kept its retention.
  const detail = (await ok(env, `{ workflow(namespace: "default", workflowId: "${workflowId}") { summary { status } } }`, {}, ownerApiKey)).workflow;
  assert.equal(detail.summary.status, 'Running');
  const keys = (await ok(env, '{ apiKeys { id disabled } }', {}, owner)).apiKeys as { id: string; disabled: boolean }[];
  assert.deepEqual(keys.find((k) => k.id === ownKey), { id: ownKey, disabled: false });
  assert.equal((await ok(env, '{ namespace(name: "default") { retentionDays } viewer { role } }', {}, owner)).namespace.retentionDays, 1);
  await handle.signal(finishSignal, 'done');
  assert.equal(await handle.result(), 'done');
});

file.test('usage per namespace per day, the invoice and a billing report; only finance roles read them', async (_t, env) => {
  const owner = await ownerSession(env);
  const prefix = uniqueName('usage');
  await env.client.workflow.execute(echoWorkflow, { taskQueue: env.taskQueue, workflowId: prefix, args: ['x'] });
  const day = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const from = new Date(day).toISOString();
  const to = new Date(day + 86_400_000).toISOString();
  await eventually(async () => {
    const usage = (await ok(env, 'query($f: DateTime!, $t: DateTime!) { usage(from: $f, to: $t, namespace: "default") { day namespace actions actionsByType { action count } } }', { f: from, t: to }, owner)).usage as any[];
    assert.equal(usage.length, 1);
    assert.equal(usage[0].day, from.slice(0, 10));
    assert.equal(usage[0].namespace, 'default');
    assert.ok(usage[0].actions >= 1);
    assert.ok((usage[0].actionsByType as { action: string; count: number }[]).some((a) => a.action === 'workflow_started' && a.count >= 1));
    return true;
  });
  const month = from.slice(0, 7);
  const invoice = (await ok(env, 'query($m: String!) { invoice(month: $m) { month currency totalCents subtotalCents incomplete lines { namespace type quantity amountCents } } }', { m: month }, owner)).invoice;
  assert.equal(invoice.month, month);
  assert.equal(invoice.currency, 'USD');
  assert.ok(invoice.lines.some((l: { namespace: string; type: string; quantity: number }) => l.namespace === 'default' && l.type === 'actions' && l.quantity >= 1));
  const report = (await ok(env, 'mutation($f: DateTime!, $t: DateTime!) { createBillingReport(from: $f, to: $t, granularity: DAILY) { id granularity downloadUrl } }', { f: from, t: to }, owner)).createBillingReport;
  assert.equal(report.granularity, 'DAILY');
  const csv = await (await fetch(report.downloadUrl as string)).text();
  assert.match(csv, /default/);
  assert.equal((await ok(env, 'query($id: String!) { billingReport(id: $id) { id } }', { id: report.id }, owner)).billingReport.id, report.id);

  await refused(env, 'query($f: DateTime!, $t: DateTime!) { usage(from: $f, to: $t) { day } }', { f: from, t: new Date(day + 3600_000).toISOString() }, owner, 'BAD_USER_INPUT', /midnight/);
  await refused(env, '{ invoice(month: "2026-13") { totalCents } }', {}, owner, 'BAD_USER_INPUT');
  // A developer of the account reads no billing.
  const dev = (await ok(env, 'mutation($e: String!) { inviteUser(email: $e, role: developer) { initialPassword } }', { e: `${prefix}@example.com` }, owner)).inviteUser.initialPassword as string;
  const devToken = (await ok(env, SIGN_IN, { email: `${prefix}@example.com`, password: dev }, undefined)).signIn.token as string;
  await refused(env, '{ invoice(month: "2026-12") { totalCents } }', {}, devToken, 'FORBIDDEN', /finance admin, admin or owner/);
  await refused(env, 'query($f: DateTime!, $t: DateTime!) { usage(from: $f, to: $t) { day } }', { f: from, t: to }, devToken, 'FORBIDDEN');
});
