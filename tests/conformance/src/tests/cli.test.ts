// `hourglass workflow …` and `hourglass operator namespace …` (the temporal CLI's commands, built on
// the official client) against a real server with this file's worker: every command, in both output
// formats, the connection flags and TEMPORAL_* variables, TLS with an API key, and bad input with a
// clear message and its exit code (2: the command line; 1: the server refused or cannot be reached).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { conformanceFile, eventually, getFreePort, serverBinPath, uniqueName } from '../harness';

/** Retries `check` (which asserts) until it passes. */
function until(check: () => Promise<void>): Promise<unknown> {
  return eventually(async () => {
    await check();
    return true;
  });
}

const file = conformanceFile({ name: 'cli' });

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `hourglass <args>` with only the given TEMPORAL_* variables (none of the test's own). */
function hourglass(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_') && !k.startsWith('HOURGLASS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [serverBinPath(), ...args], { env: { ...clean, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `hourglass workflow <command>` against this file's server, plaintext, namespace default. */
function workflow(address: string, command: string, args: string[]): Promise<Run> {
  return hourglass(['workflow', command, '--address', address, ...args]);
}

function json(run: Run): Record<string, any> {
  assert.equal(run.code, 0, `exit 0; stderr: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, any>;
}

file.test('start, describe, query, signal and show an execution, as a table and as JSON', async (_t, env) => {
  const address = env.server.address;
  const workflowId = uniqueName('cli-account');
  const started = json(await workflow(address, 'start', ['--type', 'accountWorkflow', '-t', env.taskQueue, '-w', workflowId, '-o', 'json']));
  assert.equal(started.workflowId, workflowId);
  assert.match(started.runId, /^[0-9a-f-]{36}$/);
  assert.equal(started.namespace, 'default');

  const table = await workflow(address, 'describe', ['-w', workflowId]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`^workflowId +${workflowId}$`, 'm'));
  assert.match(table.stdout, /^status +RUNNING$/m);
  assert.match(table.stdout, /^type +accountWorkflow$/m);
  const described = json(await workflow(address, 'describe', ['-w', workflowId, '-o', 'json']));
  assert.deepEqual([described.runId, described.status, described.taskQueue], [started.runId, 'RUNNING', env.taskQueue]);

  const answer = json(await workflow(address, 'query', ['-w', workflowId, '--type', 'balance', '-o', 'json']));
  assert.deepEqual(answer, { queryType: 'balance', result: 0 });
  const answerTable = await workflow(address, 'query', ['-w', workflowId, '--type', 'balance']);
  assert.equal(answerTable.stdout.trim(), '0');

  const signalled = await workflow(address, 'signal', ['-w', workflowId, '--name', 'close']);
  assert.equal(signalled.code, 0, signalled.stderr);
  assert.match(signalled.stdout, /signalled .* with close/);
  await until(async () => assert.equal(json(await workflow(address, 'describe', ['-w', workflowId, '-o', 'json'])).status, 'COMPLETED'));

  const shown = await workflow(address, 'show', ['-w', workflowId]);
  assert.equal(shown.code, 0, shown.stderr);
  const lines = shown.stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^ID +TIME +TYPE +DETAILS$/);
  assert.match(lines[1] ?? '', /^1 +\d{4}-\d\d-\d\dT[\d:.]+Z +WorkflowExecutionStarted +type=accountWorkflow, taskQueue=/);
  assert.ok(lines.some((l) => /WorkflowExecutionSignaled +signal=close/.test(l)), shown.stdout);
  assert.match(lines[lines.length - 1] ?? '', /WorkflowExecutionCompleted +result=\[0\]/);
  const events = json(await workflow(address, 'show', ['-w', workflowId, '-o', 'json'])).events as { eventId: string; eventType: string }[];
  assert.equal(events.length, lines.length - 1, 'the same events in both formats');
  assert.equal(events[0]?.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
  assert.equal(events.at(-1)?.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
});

file.test('show --follow streams new events as JSON lines until the run closes', async (_t, env) => {
  const address = env.server.address;
  const workflowId = uniqueName('cli-follow');
  json(await workflow(address, 'start', ['--type', 'waitForFinish', '-t', env.taskQueue, '-w', workflowId, '-o', 'json']));
  const child = spawn(process.execPath, [serverBinPath(), 'workflow', 'show', '--address', address, '-w', workflowId, '--follow', '-o', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const types: string[] = [];
  let signalled = false;
  for await (const line of createInterface({ input: child.stdout })) {
    types.push((JSON.parse(line) as { eventType: string }).eventType);
    // Once the first workflow task completed, the workflow waits for its signal: send it.
    if (!signalled && types.includes('EVENT_TYPE_WORKFLOW_TASK_COMPLETED')) {
      signalled = true;
      const sent = await workflow(address, 'signal', ['-w', workflowId, '--name', 'finish', '-i', '"done"']);
      assert.equal(sent.code, 0, sent.stderr);
    }
  }
  assert.equal(await exited, 0, 'follow ends by itself when the run closes');
  assert.ok(signalled, `the follower saw the first workflow task complete: ${types.join(', ')}`);
  assert.equal(types[0], 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
  assert.ok(types.includes('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'));
  assert.equal(types.at(-1), 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
});

file.test('cancel, terminate, reset and delete', async (_t, env) => {
  const address = env.server.address;
  const start = async (type: string, args: string[] = []) => {
    const workflowId = uniqueName(`cli-${type}`);
    return json(await workflow(address, 'start', ['--type', type, '-t', env.taskQueue, '-w', workflowId, '-o', 'json', ...args]));
  };
  const status = async (workflowId: string, runId?: string) => json(await workflow(address, 'describe', ['-w', workflowId, ...(runId ? ['-r', runId] : []), '-o', 'json'])).status as string;

  const cancelled = await start('cancellableWorkflow');
  await until(async () => assert.equal(json(await workflow(address, 'describe', ['-w', cancelled.workflowId, '-o', 'json'])).pendingActivities.length, 1));
  const cancel = await workflow(address, 'cancel', ['-w', cancelled.workflowId]);
  assert.equal(cancel.code, 0, cancel.stderr);
  await until(async () => assert.equal(await status(cancelled.workflowId), 'CANCELLED'));

  const terminated = await start('waitForFinish');
  assert.deepEqual(json(await workflow(address, 'terminate', ['-w', terminated.workflowId, '--reason', 'cli test', '-o', 'json'])), { workflowId: terminated.workflowId, status: 'terminated' });
  assert.equal(await status(terminated.workflowId), 'TERMINATED');
  assert.match((await workflow(address, 'show', ['-w', terminated.workflowId])).stdout, /WorkflowExecutionTerminated +reason=cli test/);

  const reset = await start('waitForFinish');
  await until(async () => assert.match((await workflow(address, 'show', ['-w', reset.workflowId])).stdout, /WorkflowTaskCompleted/));
  const resetTo = json(await workflow(address, 'reset', ['-w', reset.workflowId, '--type', 'LastWorkflowTask', '--reason', 'cli test', '-o', 'json']));
  assert.equal(resetTo.resetToEventId, 4, 'the first run completed its workflow task at event 4');
  assert.ok(resetTo.runId && resetTo.runId !== reset.runId, 'a new run');
  assert.equal(await status(reset.workflowId), 'RUNNING', 'the latest run is the new one');
  assert.equal(await status(reset.workflowId, reset.runId), 'TERMINATED', 'the reset run was terminated');
  const noPoint = await workflow(address, 'reset', ['-w', reset.workflowId]);
  assert.equal(noPoint.code, 2);
  assert.match(noPoint.stderr, /reset needs exactly one of --event-id and --type/);

  const deleted = await workflow(address, 'delete', ['-w', terminated.workflowId]);
  if (deleted.code === 0) {
    // DeleteWorkflowExecution is served: the execution is gone.
    await until(async () => assert.equal((await workflow(address, 'describe', ['-w', terminated.workflowId])).code, 1));
  } else {
    // Not served by this build yet: said plainly, with the status.
    assert.equal(deleted.code, 1);
    assert.match(deleted.stderr, /^hourglass: .*DeleteWorkflowExecution is not implemented by Hourglass.*\(UNIMPLEMENTED\)$/m);
  }
});

file.test('operator namespace list, describe, create and update, with a key over TLS and plaintext', async (_t, env) => {
  const { ownerApiKey } = env.server.devCredentials();
  const { tlsAddress, tlsCaFile } = env.server;
  assert.ok(tlsAddress && tlsCaFile);
  const tls = ['--address', tlsAddress, '--api-key', ownerApiKey, '--tls-ca-file', tlsCaFile];
  const operator = (args: string[]) => hourglass(['operator', 'namespace', ...args]);
  const listed = json(await operator(['list', ...tls, '-o', 'json']));
  assert.ok((listed.namespaces as { name: string }[]).some((n) => n.name === 'default'));
  const listTable = await operator(['list', ...tls]);
  assert.match(listTable.stdout, /^NAME +STATE +RETENTION +DESCRIPTION$/m);
  assert.match(listTable.stdout, /^default +registered +1d/m);

  const name = `cli-${Date.now().toString(36)}`;
  const created = json(await operator(['create', name, '--retention', '3d', '--description', 'made by the CLI test', ...tls, '-o', 'json']));
  assert.deepEqual([created.name, created.state, created.retention, created.description], [name, 'registered', '3d', 'made by the CLI test']);
  const described = await operator(['describe', '-n', name, ...tls]);
  assert.match(described.stdout, new RegExp(`^name +${name}$`, 'm'));
  assert.match(described.stdout, /^retention +3d$/m);
  const again = await operator(['create', name, ...tls]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /ALREADY_EXISTS/);

  // The key over the plaintext port too (start-dev accepts it there), with --no-tls.
  const plain = ['--address', env.server.address, '--api-key', ownerApiKey, '--no-tls'];
  const updated = await operator(['update', name, '--description', 'changed', ...plain, '-o', 'json']);
  if (updated.code === 0) {
    assert.equal(json(updated).description, 'changed');
  } else {
    assert.equal(updated.code, 1);
    assert.match(updated.stderr, /UpdateNamespace is not implemented by Hourglass.*\(UNIMPLEMENTED\)/);
  }
  const nothing = await operator(['update', name, ...plain]);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to update/);
  const badRetention = await operator(['create', `${name}x`, '--retention', 'forever', ...plain]);
  assert.equal(badRetention.code, 2);
  assert.match(badRetention.stderr, /--retention must be a duration such as 72h or 3d, got "forever"/);
  const missing = await operator(['describe', 'no-such-namespace', ...plain]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /namespace "no-such-namespace" not found/);
});

file.test('TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE stand in for the flags', async (_t, env) => {
  const workflowId = uniqueName('cli-env');
  const vars = { TEMPORAL_ADDRESS: env.server.address, TEMPORAL_NAMESPACE: 'default' };
  const started = await hourglass(['workflow', 'start', '--type', 'echoWorkflow', '-t', env.taskQueue, '-w', workflowId, '-i', '"hi"', '-o', 'json'], vars);
  assert.equal(started.code, 0, started.stderr);
  await until(async () => assert.equal(json(await hourglass(['workflow', 'describe', '-w', workflowId, '-o', 'json'], vars)).status, 'COMPLETED'));
  // TEMPORAL_TLS=false means plaintext (this port serves no TLS); TEMPORAL_TLS=true means TLS, which it refuses.
  assert.equal((await hourglass(['workflow', 'describe', '-w', workflowId], { ...vars, TEMPORAL_TLS: 'false' })).code, 0);
  const tlsOnPlaintext = await hourglass(['workflow', 'describe', '-w', workflowId], { ...vars, TEMPORAL_TLS: 'true' });
  assert.equal(tlsOnPlaintext.code, 1);
  assert.match(tlsOnPlaintext.stderr, /cannot connect to .* \(TLS\)/);
  const wrongNamespace = await hourglass(['workflow', 'describe', '-w', workflowId], { ...vars, TEMPORAL_NAMESPACE: 'no-such-namespace' });
  assert.equal(wrongNamespace.code, 1);
  assert.match(wrongNamespace.stderr, /no-such-namespace/);
});

file.test('bad input: a clear message and exit code 2 for the command line, 1 for what the server refused or an unreachable server', async (_t, env) => {
  const address = env.server.address;
  const missingId = await workflow(address, 'describe', []);
  assert.equal(missingId.code, 2);
  assert.match(missingId.stderr, /required option '-w, --workflow-id <id>' not specified/);
  const missingType = await workflow(address, 'start', ['-t', env.taskQueue]);
  assert.equal(missingType.code, 2);
  assert.match(missingType.stderr, /required option '--type <name>' not specified/);
  const notJson = await workflow(address, 'start', ['--type', 'echoWorkflow', '-t', env.taskQueue, '-i', 'hello']);
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /--input #1 is not JSON: "hello"/);
  const badOutput = await workflow(address, 'describe', ['-w', 'x', '-o', 'xml']);
  assert.equal(badOutput.code, 2);
  assert.match(badOutput.stderr, /Allowed choices are table, json/);
  const unknown = await workflow(address, 'describe', ['-w', 'no-such-workflow']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^hourglass: workflow "no-such-workflow" not found in namespace default: /m);
  assert.equal(unknown.stdout, '');
  const unknownSignal = await workflow(address, 'signal', ['-w', 'no-such-workflow', '--name', 's', '-o', 'json']);
  assert.equal(unknownSignal.code, 1);
  assert.match(unknownSignal.stderr, /workflow "no-such-workflow" not found/);
  const closedPort = await getFreePort();
  const unreachable = await workflow(`127.0.0.1:${closedPort}`, 'describe', ['-w', 'x']);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, new RegExp(`^hourglass: cannot connect to 127\\.0\\.0\\.1:${closedPort}`, 'm'));
  const badKey = await workflow(address, 'describe', ['-w', 'x', '--api-key', 'hgk_nosuchkey_0000', '--no-tls']);
  assert.equal(badKey.code, 1);
  assert.match(badKey.stderr, /UNAUTHENTICATED/);
  const noCa = await workflow(address, 'describe', ['-w', 'x', '--tls-ca-file', '/no/such/ca.pem']);
  assert.equal(noCa.code, 2);
  assert.match(noCa.stderr, /cannot read --tls-ca-file \/no\/such\/ca\.pem: ENOENT/);
});
