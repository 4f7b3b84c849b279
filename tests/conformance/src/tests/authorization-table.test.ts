// The authorization table: every method of every service the server serves (WorkflowService,
// OperatorService, CloudService, the operator API), called by each kind of caller — no key, another
// account's owner, a namespace reader, writer and admin, the account's owner, a suspended account's
// owner — gets exactly the refusal its permission class calls for (UNAUTHENTICATED or
// PERMISSION_DENIED), or gets past authorization (any other answer: the handler's own).
//
// The expected outcome is derived here, independently, from the method table's permission class
// of each method (the table is the declaration under test; this is the rule it must produce).
// Requests are minimal and carry a stale resource_version, so nothing a call lets through changes
// anything, with two exceptions: DeprecateNamespace has nothing to make stale, so the namespace ends
// deprecated (later starts in it answer FAILED_PRECONDITION, which is past authorization all the
// same); OperatorService DeleteNamespace is called on a second namespace with the same grants, which
// the first caller allowed deletes (later allowed callers get NOT_FOUND: past authorization too).
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { methodSpec, type MethodSpec } from '@hourglass/frontend';
import { SERVICES, conformanceFile, methodsOf, rawServiceClient, type RawServiceClient } from '../harness';

const file = conformanceFile({ name: 'authz', worker: false, server: { extraArgs: ['--require-auth'] } });

type Identity = 'noKey' | 'otherOwner' | 'nsRead' | 'nsWrite' | 'nsAdmin' | 'owner' | 'suspended';
const IDENTITIES: Identity[] = ['noKey', 'otherOwner', 'nsRead', 'nsWrite', 'nsAdmin', 'owner', 'suspended'];
const DAY = 86_400_000;
const ALLOWED = 'allowed' as const;
type Expected = typeof ALLOWED | status.UNAUTHENTICATED | status.PERMISSION_DENIED;

const NAMESPACE_RANK: Partial<Record<Identity, number>> = { nsRead: 1, nsWrite: 2, nsAdmin: 3, owner: 3 };
const NEEDED_RANK: Record<string, number> = { read: 1, write: 2, worker: 2, namespaceAdmin: 3 };

/**
 * What a caller gets from authorization for a method of permission class `spec.permission`. The
 * namespace readers, writers and admins are service accounts with the account role `read` and one
 * namespace grant; the owners are account owners.
 */
function expected(who: Identity, spec: MethodSpec): Expected {
  const cls = spec.permission;
  if (cls === 'none') return ALLOWED;
  if (who === 'noKey') return status.UNAUTHENTICATED;
  if (who === 'suspended') return status.PERMISSION_DENIED;
  if (cls === 'operator' || cls === 'system') return status.PERMISSION_DENIED;
  const rule = spec.namespace;
  const namesTheNamespace = rule.kind === 'resolve' || rule.kind === 'resolveByNameOrId' || rule.kind === 'name';
  if (namesTheNamespace) {
    // The namespace named is the first account's: another account's owner is refused, whatever it asks.
    if (who === 'otherOwner') return status.PERMISSION_DENIED;
    if (cls === 'developer') return who === 'owner' ? ALLOWED : status.PERMISSION_DENIED;
    const needed = NEEDED_RANK[cls];
    if (needed === undefined) throw new Error(`unexpected class ${cls} on a namespace row`);
    return (NAMESPACE_RANK[who] ?? 0) >= needed ? ALLOWED : status.PERMISSION_DENIED;
  }
  // Account-wide and cluster rows act on the caller's own account.
  const owner = who === 'owner' || who === 'otherOwner';
  switch (cls) {
    case 'accountMember':
    case 'read':
      return ALLOWED;
    case 'developer':
    case 'accountAdmin':
    case 'finance':
      return owner ? ALLOWED : status.PERMISSION_DENIED;
    default:
      throw new Error(`unexpected class ${cls} on an account row`);
  }
}

interface Setup {
  raw: RawServiceClient;
  keys: Record<Exclude<Identity, 'noKey'>, string>;
  namespace: string;
  /** Granted like `namespace`; OperatorService DeleteNamespace deletes this one. */
  doomed: string;
}

let setup: Setup | undefined;

/** Two accounts and a suspended one (operator API); a namespace and three service accounts with one permission each on it (CloudService). */
async function prepare(address: string, operatorKey: string): Promise<Setup> {
  if (setup) return setup;
  const raw = rawServiceClient(address);
  const op = { apiKey: operatorKey };
  const account = async (name: string): Promise<{ id: string; key: string }> => {
    const r = await raw.call(SERVICES.operatorApi, 'CreateAccount', { name, ownerEmail: `owner@${name}.test` }, op);
    return { id: (r.account as { id: string }).id, key: r.ownerApiKey as string };
  };
  const a = await account('authz-a');
  const b = await account('authz-b');
  const c = await account('authz-c');
  await raw.call(SERVICES.operatorApi, 'SetAccountState', { accountId: c.id, state: 'suspended', reason: 'test' }, op);
  const owner = { apiKey: a.key };
  const created = await raw.call(SERVICES.cloud, 'CreateNamespace', { spec: { name: 'table', retentionDays: 1 } }, owner);
  const namespace = created.namespace as string;
  const doomed = (await raw.call(SERVICES.cloud, 'CreateNamespace', { spec: { name: 'doomed', retentionDays: 1 } }, owner)).namespace as string;
  const serviceAccount = async (permission: number): Promise<string> => {
    const sa = await raw.call(
      SERVICES.cloud,
      'CreateServiceAccount',
      { spec: { name: `sa-${permission}`, access: { accountAccess: { role: 5 /* ROLE_READ */ }, namespaceAccesses: { [namespace]: { permission }, [doomed]: { permission } } } } },
      owner,
    );
    const key = await raw.call(
      SERVICES.cloud,
      'CreateApiKey',
      { spec: { ownerId: sa.serviceAccountId, ownerType: 2 /* SERVICE_ACCOUNT */, displayName: `key-${permission}`, expiryTime: { seconds: Math.floor((Date.now() + DAY) / 1000) } } },
      owner,
    );
    return key.token as string;
  };
  setup = {
    raw,
    namespace,
    doomed,
    keys: { owner: a.key, otherOwner: b.key, suspended: c.key, nsAdmin: await serviceAccount(1), nsWrite: await serviceAccount(2), nsRead: await serviceAccount(3) },
  };
  return setup;
}

/** The smallest request: the namespace when the method names one, a stale resource version when it has one. */
function minimalRequest(fields: Record<string, { type: string }>, namespace: string): Record<string, unknown> {
  const request: Record<string, unknown> = {};
  if (fields.namespace?.type === 'string') request.namespace = namespace;
  if (fields.resourceVersion?.type === 'string') request.resourceVersion = '0';
  return request;
}

for (const service of [SERVICES.workflow, SERVICES.operator, SERVICES.cloud, SERVICES.operatorApi]) {
  file.test(`${service}: every method gives every caller exactly what its permission calls for`, async (_t, env) => {
    const s = await prepare(env.server.address, env.server.devCredentials().operatorApiKey);
    const mismatches: string[] = [];
    let checked = 0;
    for (const method of methodsOf(service)) {
      const spec = methodSpec(service, method.name);
      assert.ok(spec, `${service}/${method.name} has a row in the method table`);
      const deletes = service === SERVICES.operator && method.name === 'DeleteNamespace';
      const request = minimalRequest(method.requestType.fields as unknown as Record<string, { type: string }>, deletes ? s.doomed : s.namespace);
      for (const who of IDENTITIES) {
        const want = expected(who, spec);
        const got = await s.raw.outcome(service, method.name, request, { ...(who === 'noKey' ? {} : { apiKey: s.keys[who] }), timeoutMs: 5_000 });
        checked += 1;
        const ok = want === ALLOWED ? got.code !== status.UNAUTHENTICATED && got.code !== status.PERMISSION_DENIED : got.code === want;
        if (!ok) mismatches.push(`${method.name} as ${who} (${spec.permission}): expected ${want === ALLOWED ? 'to pass authorization' : status[want]}, got ${status[got.code]} ${got.details.slice(0, 160)}`);
      }
    }
    assert.ok(checked >= IDENTITIES.length * 4, `checked ${checked} calls`);
    assert.deepEqual(mismatches, [], `${mismatches.length} of ${checked} calls answered otherwise`);
  }, { timeoutMs: 180_000 });
}

file.test("another account's namespace is refused the same way whether it exists or not", async (_t, env) => {
  const s = await prepare(env.server.address, env.server.devCredentials().operatorApiKey);
  const accountSuffix = s.namespace.split('.')[1];
  const ghost = `ghost.${accountSuffix}`;
  const answers = [];
  for (const namespace of [s.namespace, ghost]) {
    const got = await s.raw.outcome(SERVICES.workflow, 'DescribeNamespace', { namespace }, { apiKey: s.keys.otherOwner });
    answers.push({ code: got.code, details: got.details.replace(namespace, '<ns>') });
  }
  assert.equal(answers[0]?.code, status.PERMISSION_DENIED);
  assert.deepEqual(answers[0], answers[1], 'an existing and a missing namespace of another account read the same');
  // The owner of that account, asking for a name of its own that does not exist, is told so.
  const own = await s.raw.outcome(SERVICES.workflow, 'DescribeNamespace', { namespace: ghost }, { apiKey: s.keys.owner });
  assert.equal(own.code, status.NOT_FOUND);
});

file.test('lists show only what the caller may see', async (_t, env) => {
  const s = await prepare(env.server.address, env.server.devCredentials().operatorApiKey);
  const names = async (apiKey: string): Promise<string[]> => {
    const r = await s.raw.call(SERVICES.workflow, 'ListNamespaces', {}, { apiKey });
    return ((r.namespaces as Array<{ namespaceInfo: { name: string } }> | undefined) ?? []).map((n) => n.namespaceInfo.name);
  };
  assert.deepEqual(await names(s.keys.owner), [s.namespace]);
  assert.deepEqual(await names(s.keys.nsRead), [s.namespace]);
  assert.deepEqual(await names(s.keys.otherOwner), [], "another account's owner sees none of them");
  const cloudNames = async (apiKey: string): Promise<string[]> => {
    const r = await s.raw.call(SERVICES.cloud, 'GetNamespaces', {}, { apiKey });
    return ((r.namespaces as Array<{ namespace: string }> | undefined) ?? []).map((n) => n.namespace);
  };
  assert.deepEqual(await cloudNames(s.keys.owner), [s.namespace]);
  assert.deepEqual(await cloudNames(s.keys.otherOwner), []);
  const users = await s.raw.call(SERVICES.cloud, 'GetUsers', {}, { apiKey: s.keys.otherOwner });
  assert.deepEqual(((users.users as Array<{ spec: { email: string } }>) ?? []).map((u) => u.spec.email), ['owner@authz-b.test'], "another account's users are not listed");
});
