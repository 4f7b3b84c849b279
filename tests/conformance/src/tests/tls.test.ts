// TLS: the official SDKs turn TLS on whenever they are given an API key. The server serves the same
// services on its TLS port with development credentials; a client and a worker that trust the
// generated CA run a workflow end to end over it, and each port refuses the other's transport.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ActivityRecorder, createActivities } from '../activities';
import { EventType, conformanceFile, connectClient, connectWorker, eventsOfType, fetchEvents, installQuietRuntime, startWorker, uniqueName } from '../harness';
import { greetAndAdd } from '../workflows';

const file = conformanceFile({ name: 'tls', worker: false });

/** Fails fast instead of the SDK's 10 s default: a refused handshake is refused at once. */
const CONNECT_TIMEOUT = '3s';

function devTls(caFile: string | undefined): { serverRootCACertificate: Buffer } {
  assert.ok(caFile, 'the server named its CA file');
  return { serverRootCACertificate: readFileSync(caFile) };
}

file.test('a client and a worker trusting the development CA run a workflow over TLS', async (_t, env) => {
  const { tlsAddress, tlsCaFile } = env.server;
  assert.ok(tlsAddress && tlsAddress !== env.server.address, `a TLS address of its own, got ${tlsAddress}`);
  const tls = devTls(tlsCaFile);
  // Calls over TLS carry a key (the dev account owner's): the key-less dev caller is plaintext only.
  const apiKey = env.server.devCredentials().ownerApiKey;
  const { connection, client } = await connectClient(tlsAddress, 'default', tls, apiKey);
  const nativeConnection = await connectWorker(tlsAddress, tls, apiKey);
  const recorder = new ActivityRecorder();
  const taskQueue = uniqueName('tq-tls');
  const worker = await startWorker({ connection: nativeConnection, taskQueue, activities: createActivities(recorder), identity: 'tls-worker' });
  try {
    const workflowId = uniqueName('tls-greet-and-add');
    const handle = await client.workflow.start(greetAndAdd, { taskQueue, workflowId, args: ['Ada', 2, 3] });
    assert.equal(await handle.result(), 'Hello, Ada! 2+3=5 left/right');
    assert.deepEqual(recorder.forWorkflow(workflowId).map((c) => c.activityType).sort(), ['add', 'echo', 'echo', 'greet'], 'the activities ran on the TLS worker');
    // The history is read over TLS too, and the TLS worker is the one that ran the workflow.
    const completedBy = eventsOfType(await fetchEvents(handle), EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).map((e) => e.workflowTaskCompletedEventAttributes?.identity);
    assert.ok(completedBy.length > 0 && completedBy.every((identity) => identity === 'tls-worker'), `workflow tasks completed by ${completedBy.join(', ')}`);
  } finally {
    await worker.shutdown();
    await nativeConnection.close();
    await connection.close();
  }
});

file.test('the certificate covers localhost as well as 127.0.0.1', async (_t, env) => {
  const port = env.server.tlsPort;
  const connection = await Connection.connect({ address: `localhost:${port}`, tls: devTls(env.server.tlsCaFile), connectTimeout: CONNECT_TIMEOUT });
  try {
    const info = await connection.workflowService.getSystemInfo({});
    assert.ok(info.serverVersion, 'GetSystemInfo answered over TLS, by name');
  } finally {
    await connection.close();
  }
});

file.test('a plaintext client on the TLS port, a TLS client on the plaintext port and a client without the CA all fail', async (_t, env) => {
  installQuietRuntime();
  const { address, tlsAddress } = env.server;
  assert.ok(tlsAddress);
  const tls = devTls(env.server.tlsCaFile);
  const refused = async (what: string, connect: () => Promise<{ close(): Promise<void> }>): Promise<void> => {
    const outcome = await connect().then(
      async (connection) => {
        await connection.close();
        return 'connected';
      },
      (err: unknown) => err,
    );
    assert.ok(outcome instanceof Error, `${what} must fail, got ${String(outcome)}`);
  };
  await refused('plaintext client → TLS port', () => Connection.connect({ address: tlsAddress, connectTimeout: CONNECT_TIMEOUT }));
  await refused('TLS client → plaintext port', () => Connection.connect({ address, tls, connectTimeout: CONNECT_TIMEOUT }));
  // Only the system's roots: the development CA is not among them.
  await refused('TLS client without the CA → TLS port', () => Connection.connect({ address: tlsAddress, tls: true, connectTimeout: CONNECT_TIMEOUT }));
  await refused('plaintext worker connection → TLS port', () => NativeConnection.connect({ address: tlsAddress }));
  await refused('TLS worker connection → plaintext port', () => NativeConnection.connect({ address, tls }));

  // The controls: each transport on its own port works.
  for (const connect of [() => Connection.connect({ address, connectTimeout: CONNECT_TIMEOUT }), () => Connection.connect({ address: tlsAddress, tls, connectTimeout: CONNECT_TIMEOUT })]) {
    const connection = await connect();
    await connection.workflowService.getSystemInfo({});
    await connection.close();
  }
});

file.test('a restart reuses the CA: a client that trusted it before still connects', async (_t, env) => {
  const before = readFileSync(env.server.tlsCaFile!);
  await env.server.stop();
  await env.server.restart();
  assert.deepEqual(readFileSync(env.server.tlsCaFile!), before, 'the same CA file');
  const connection = await Connection.connect({ address: env.server.tlsAddress!, tls: { serverRootCACertificate: before }, connectTimeout: CONNECT_TIMEOUT });
  try {
    assert.ok((await connection.workflowService.getSystemInfo({})).serverVersion);
  } finally {
    await connection.close();
  }
});
