// One owner per store: a second `start-dev` on the same SQLite file is refused with one line naming
// the file and the process that holds it, and the first keeps serving; the store remembers its
// shard count (and, on MySQL, its shard databases), so a restart needs neither flag and a changed
// list is refused with the difference named.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { conformanceFile, connectClient, createTestDatabases, rejectionOf, serverBinPath, startServer, testStore, uniqueName, type ServerProcess, type TestDatabases } from '../harness';

const file = conformanceFile({ name: 'store-ownership', worker: false, server: { store: 'sqlite' } });
const started: ServerProcess[] = [];
after(async () => {
  for (const server of started) await server.dispose();
});

async function launch(options: Parameters<typeof startServer>[0]): Promise<ServerProcess> {
  const server = await startServer(options);
  started.push(server);
  return server;
}

file.test('a second start-dev on the same SQLite file is refused, naming the file and the first process, which keeps serving', async (_t, env) => {
  const dbPath = env.server.dbPath as string;
  const err = await rejectionOf(launch({ store: 'sqlite', dbPath }), 'the second server');
  const message = String((err as Error).message);
  assert.match(message, /exited before it was ready \(code=1/);
  const refusal = message.split('\n').filter((line) => line.startsWith('[stderr]') && line.includes('in use'));
  assert.equal(refusal.length, 1, `one line says why:\n${message}`);
  assert.ok(refusal[0]?.includes(dbPath), `it names the file: ${refusal[0]}`);
  assert.ok(refusal[0]?.includes(`pid ${env.server.pid}`), `it names the process that holds it: ${refusal[0]}`);

  // The first server was not disturbed: it still starts, shows and terminates workflows.
  const { client, connection } = await connectClient(env.server.address);
  try {
    const handle = await client.workflow.start('echoWorkflow', { taskQueue: uniqueName('nobody'), workflowId: uniqueName('still-serving'), args: ['x'] });
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    await handle.terminate('test done');
    assert.equal((await handle.describe()).status.name, 'TERMINATED');
  } finally {
    await connection.close();
  }
});

file.test('a store created with 8 shards restarts without the flag; a different count is refused, naming both', async () => {
  const first = await launch({ store: 'sqlite', extraArgs: ['--num-history-shards', '8'] });
  const dbPath = first.dbPath as string;
  const { client, connection } = await connectClient(first.address);
  const workflowId = uniqueName('survives-restart');
  await client.workflow.start('echoWorkflow', { taskQueue: uniqueName('nobody'), workflowId, args: ['x'] });
  await connection.close();
  await first.stop();

  const plain = await launch({ store: 'sqlite', dbPath });
  const again = await connectClient(plain.address);
  try {
    assert.equal((await again.client.workflow.getHandle(workflowId).describe()).status.name, 'RUNNING', 'every shard is where it was');
  } finally {
    await again.connection.close();
  }
  await plain.stop();

  const err = await rejectionOf(launch({ store: 'sqlite', dbPath, extraArgs: ['--num-history-shards', '4'] }), 'a start with another shard count');
  assert.match(String((err as Error).message), /8[^\n]*4|4[^\n]*8/, `both counts are named: ${String((err as Error).message)}`);
});

file.test('MySQL: a restart needs no shard list; a shorter or reordered one is refused, naming the difference', async (t) => {
  if (testStore() !== 'mysql') return t.skip('runs in the MySQL pass');
  const databases: TestDatabases = await createTestDatabases(serverBinPath());
  try {
    const mysqlArgs = (shards: string[]) => ['--store', 'mysql', '--mysql-cluster-dsn', databases.clusterDsn, ...(shards.length > 0 ? ['--mysql-shard-dsn', ...shards] : [])];
    const first = await launch({ store: 'sqlite', inMemory: false, extraArgs: mysqlArgs(databases.shardDsns) });
    const { client, connection } = await connectClient(first.address);
    const workflowIds = Array.from({ length: 8 }, () => uniqueName('in-some-shard'));
    for (const workflowId of workflowIds) await client.workflow.start('echoWorkflow', { taskQueue: uniqueName('nobody'), workflowId, args: ['x'] });
    await connection.close();
    await first.stop();

    const recorded = await launch({ store: 'sqlite', inMemory: false, extraArgs: mysqlArgs([]) });
    const again = await connectClient(recorded.address);
    try {
      for (const workflowId of workflowIds) assert.equal((await again.client.workflow.getHandle(workflowId).describe()).status.name, 'RUNNING');
    } finally {
      await again.connection.close();
    }
    await recorded.stop();

    const shorter = await rejectionOf(launch({ store: 'sqlite', inMemory: false, extraArgs: mysqlArgs(databases.shardDsns.slice(0, 3)) }), 'a shorter list');
    assert.match(String((shorter as Error).message), /3 shard databases given, this cluster has 4/);
    const [a, b, ...rest] = databases.shardDsns;
    const reordered = await rejectionOf(launch({ store: 'sqlite', inMemory: false, extraArgs: mysqlArgs([b as string, a as string, ...rest]) }), 'a reordered list');
    assert.match(String((reordered as Error).message), /shard database 0 is .* but this cluster's shard database 0 is/);
  } finally {
    await databases.drop();
  }
});


file.test('MySQL: a server whose shards another server took over stops, saying why, instead of serving "not owned"', async (t) => {
  if (testStore() !== 'mysql') return t.skip('runs in the MySQL pass');
  const databases: TestDatabases = await createTestDatabases(serverBinPath());
  try {
    const args = ['--store', 'mysql', '--mysql-cluster-dsn', databases.clusterDsn];
    const first = await launch({ store: 'sqlite', inMemory: false, extraArgs: [...args, '--mysql-shard-dsn', ...databases.shardDsns] });
    const second = await launch({ store: 'sqlite', inMemory: false, extraArgs: args });
    // The second server acquired every shard: the first one's next write is fenced out.
    const stale = await connectClient(first.address);
    // (The client would retry an UNAVAILABLE server for a long time: a short deadline is enough to see it refuse.)
    await rejectionOf(
      stale.connection.withDeadline(Date.now() + 3000, () =>
        stale.client.workflow.start('echoWorkflow', { taskQueue: uniqueName('nobody'), workflowId: uniqueName('fenced'), args: ['x'] }),
      ),
      'a start on the fenced-out server',
    );
    await stale.connection.close().catch(() => undefined);
    const exit = await first.stop();
    assert.equal(exit.code, 1, `the fenced-out server exits with an error (${JSON.stringify(exit)})`);
    assert.match(first.recentOutput(), /was taken over by another Hourglass process on the same store/);
    // The new owner serves.
    const owner = await connectClient(second.address);
    try {
      const handle = await owner.client.workflow.start('echoWorkflow', { taskQueue: uniqueName('nobody'), workflowId: uniqueName('owned'), args: ['x'] });
      assert.equal((await handle.describe()).status.name, 'RUNNING');
    } finally {
      await owner.connection.close();
    }
  } finally {
    await databases.drop();
  }
});
