// `hourglass workflow list|count` and `hourglass operator search-attribute list|create|remove` (the
// temporal CLI's commands) against a real server: executions started here with the official client
// and listed, paged, limited and counted exactly (the expected sets computed from what was started),
// GROUP BY ExecutionStatus, a bad query refused with the server's own message, and custom search
// attributes created, used in a list filter, removed, scoped by namespace, with bad types refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { conformanceFile, eventually, serverBinPath, uniqueName } from '../harness';

const OTHER_NAMESPACE = 'cli-vis-other';
const file = conformanceFile({ name: 'cli-visibility', worker: false, server: { extraArgs: ['-n', OTHER_NAMESPACE] } });

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `hourglass <args>` without the test's own TEMPORAL_* / HOURGLASS_* variables. */
function hourglass(args: string[]): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_') && !k.startsWith('HOURGLASS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [serverBinPath(), ...args], { env: clean, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function ok(run: Run): string {
  assert.equal(run.code, 0, `exit 0; stderr: ${run.stderr}`);
  return run.stdout;
}

interface Listed {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: string;
  closeTime?: string;
}

/** `-o json` of `workflow list`: one execution per line. */
function jsonLines(run: Run): Listed[] {
  return ok(run)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Listed);
}

/** Retries `check` (which asserts) until it passes; visibility is written after the start returns. */
function until(check: () => Promise<void>): Promise<unknown> {
  return eventually(
    async () => {
      await check();
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}

// Each CLI call is a node process of its own (a second or two on a loaded machine): the tests have
// generous timeouts.
const sorted = (values: string[]) => [...values].sort();

file.test('workflow list and count: exactly the executions a filter matches, paged, limited, grouped by status', async (_t, env) => {
  const address = env.server.address;
  const cli = (command: string, args: string[]) => hourglass(['workflow', command, '--address', address, ...args]);
  const idleQueue = uniqueName('cli-vis-idle');
  // Type names unique to this run, so the filter matches only what this test started.
  const type = `cliList${Date.now().toString(36)}`;
  const otherType = `${type}Other`;
  const started: { workflowId: string; runId: string; terminated: boolean }[] = [];
  for (let i = 0; i < 7; i++) {
    const workflowId = uniqueName(`cli-list-${i}`);
    const handle = await env.client.workflow.start(type, { taskQueue: idleQueue, workflowId });
    started.push({ workflowId, runId: handle.firstExecutionRunId, terminated: i % 3 === 0 });
  }
  const other = await env.client.workflow.start(otherType, { taskQueue: idleQueue, workflowId: uniqueName('cli-list-other') });
  for (const s of started.filter((x) => x.terminated)) await env.client.workflow.getHandle(s.workflowId, s.runId).terminate('cli list test');
  const terminated = started.filter((s) => s.terminated);
  assert.equal(terminated.length, 3);
  const filter = `WorkflowType = '${type}'`;

  await until(async () => {
    const grouped = JSON.parse(ok(await cli('count', ['-q', `${filter} GROUP BY ExecutionStatus`, '-o', 'json']))) as { count: number; groups: { values: unknown[]; count: number }[] };
    assert.equal(grouped.count, 7);
    assert.deepEqual(
      grouped.groups.map((g) => [g.values, g.count]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      [
        [['Running'], 4],
        [['Terminated'], 3],
      ],
    );
  });

  // Every match, over four pages of two; none of the other type.
  const all = jsonLines(await cli('list', ['-q', filter, '--page-size', '2', '-o', 'json']));
  assert.equal(all.length, 7, 'all seven, across pages');
  assert.deepEqual(sorted(all.map((e) => e.runId)), sorted(started.map((s) => s.runId)));
  assert.ok(!all.some((e) => e.workflowId === other.workflowId));
  for (const e of all) {
    const s = started.find((x) => x.runId === e.runId);
    assert.ok(s);
    assert.equal(e.workflowId, s.workflowId);
    assert.equal(e.type, type);
    assert.equal(e.status, s.terminated ? 'TERMINATED' : 'RUNNING');
    assert.match(e.startTime, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    if (s.terminated) assert.match(e.closeTime ?? '', /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    else assert.equal(e.closeTime, undefined);
  }
  // One page as large as the whole result gives the same executions in the same order.
  const onePage = jsonLines(await cli('list', ['-q', filter, '--page-size', '100', '-o', 'json']));
  assert.deepEqual(onePage.map((e) => e.runId), all.map((e) => e.runId));
  // --limit stops part-way through a page and across pages: the first five of the same order.
  const limited = jsonLines(await cli('list', ['-q', filter, '--page-size', '2', '--limit', '5', '-o', 'json']));
  assert.deepEqual(limited.map((e) => e.runId), all.slice(0, 5).map((e) => e.runId));
  // A filter on status too.
  const running = jsonLines(await cli('list', ['-q', `${filter} AND ExecutionStatus = 'Running'`, '-o', 'json']));
  assert.deepEqual(sorted(running.map((e) => e.runId)), sorted(started.filter((s) => !s.terminated).map((s) => s.runId)));

  // The table: a header, then one row per execution, in the same order.
  const table = ok(await cli('list', ['-q', filter])).trimEnd().split('\n');
  assert.match(table[0] ?? '', /^STATUS +WORKFLOW ID +RUN ID +TYPE +START TIME +CLOSE TIME$/);
  assert.equal(table.length, 8);
  all.forEach((e, i) => assert.match(table[i + 1] ?? '', new RegExp(`^${e.status} +${e.workflowId} +${e.runId} +${type} +${e.startTime}`)));

  // count as a table: the total; grouped, one row per status and the total.
  assert.equal(ok(await cli('count', ['-q', filter])).trim(), 'total  7');
  assert.equal(JSON.parse(ok(await cli('count', ['-q', filter, '-o', 'json']))).count, 7);
  const groupTable = ok(await cli('count', ['-q', `${filter} GROUP BY ExecutionStatus`])).trimEnd().split('\n');
  assert.match(groupTable[0] ?? '', /^GROUP +COUNT$/);
  assert.deepEqual(sorted(groupTable.slice(1, -1)), ['Running     4', 'Terminated  3']);
  assert.equal(groupTable.at(-1), 'total  7');

  // Another namespace sees none of them.
  assert.deepEqual(jsonLines(await hourglass(['workflow', 'list', '--address', address, '-n', OTHER_NAMESPACE, '-q', filter, '-o', 'json'])), []);
}, { timeoutMs: 240_000 });

file.test("a bad list filter: exit 1 with the server's INVALID_ARGUMENT message; bad --limit: exit 2", async (_t, env) => {
  const address = env.server.address;
  const badQuery = "WorkflowType = 'x' AND";
  // What the server says about it, asked directly.
  let serverMessage = '';
  try {
    await env.client.workflowService.listWorkflowExecutions({ namespace: 'default', query: badQuery });
    assert.fail('the server accepted a bad query');
  } catch (err) {
    serverMessage = (err as { details?: string }).details ?? '';
  }
  assert.ok(serverMessage.length > 0);
  for (const command of ['list', 'count']) {
    const run = await hourglass(['workflow', command, '--address', address, '-q', badQuery]);
    assert.equal(run.code, 1, `${command}: ${run.stderr}`);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trim(), `hourglass: ${serverMessage} (INVALID_ARGUMENT)`);
  }
  const unknownAttribute = await hourglass(['workflow', 'list', '--address', address, '-q', "NoSuchAttribute = 'x'"]);
  assert.equal(unknownAttribute.code, 1);
  assert.match(unknownAttribute.stderr, /NoSuchAttribute.*\(INVALID_ARGUMENT\)/);
  for (const limit of ['0', 'ten']) {
    const run = await hourglass(['workflow', 'list', '--address', address, '--limit', limit]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--limit.*expected a whole number from 1/);
  }
  const bigPage = await hourglass(['workflow', 'list', '--address', address, '--page-size', '5000']);
  assert.equal(bigPage.code, 2);
  assert.match(bigPage.stderr, /expected a whole number from 1 to 1000/);
}, { timeoutMs: 120_000 });

file.test('operator search-attribute create, list, use in workflow list, remove; scoped by namespace; bad types refused', async (_t, env) => {
  const address = env.server.address;
  const operator = (args: string[]) => hourglass(['operator', 'search-attribute', ...args, '--address', address]);
  const suffix = Date.now().toString(36);
  const color = `CliColor${suffix}`;
  const size = `CliSize${suffix}`;
  const customNames = async (namespace: string) => {
    const listed = JSON.parse(ok(await operator(['list', '-n', namespace, '-o', 'json']))) as { namespace: string; searchAttributes: { name: string; type: string; kind: string }[] };
    assert.equal(listed.namespace, namespace);
    return listed.searchAttributes;
  };

  // Bad input is refused before anything is sent, and changes nothing.
  const badType = await operator(['create', '--name', color, '--type', 'Strng']);
  assert.equal(badType.code, 2);
  assert.equal(badType.stderr.trim(), 'hourglass: --type "Strng" is not a search attribute type: use one of Text, Keyword, Int, Double, Bool, Datetime, KeywordList');
  const unpaired = await operator(['create', '--name', color, '--type', 'Keyword', '--name', size]);
  assert.equal(unpaired.code, 2);
  assert.match(unpaired.stderr, /give one --type for each --name \(2 --name, 1 --type\)/);
  const noType = await operator(['create', '--name', color]);
  assert.equal(noType.code, 2);
  assert.match(noType.stderr, /required option '--type <type>' not specified/);
  assert.ok(!(await customNames('default')).some((a) => a.name === color));

  // Created in pairs (the type in any case), listed with the system attributes.
  const created = await operator(['create', '--name', color, '--type', 'keyword', '--name', size, '--type', 'Int']);
  assert.equal(ok(created).trim(), [`created search attribute ${color} (Keyword) in namespace default`, `created search attribute ${size} (Int) in namespace default`].join('\n'));
  const attributes = await customNames('default');
  assert.deepEqual(attributes.find((a) => a.name === color), { name: color, type: 'Keyword', kind: 'custom' });
  assert.deepEqual(attributes.find((a) => a.name === size), { name: size, type: 'Int', kind: 'custom' });
  assert.deepEqual(attributes.find((a) => a.name === 'WorkflowId'), { name: 'WorkflowId', type: 'Keyword', kind: 'system' });
  const table = ok(await operator(['list']));
  assert.match(table, /^NAME +TYPE +KIND$/m);
  assert.match(table, new RegExp(`^${color} +Keyword +custom$`, 'm'));
  assert.match(table, /^ExecutionStatus +Keyword +system$/m);
  // Only in the namespace it was made in.
  assert.ok(!(await customNames(OTHER_NAMESPACE)).some((a) => a.name === color));
  // Another type for the same name: the server's refusal.
  const retyped = await operator(['create', '--name', color, '--type', 'Int']);
  assert.equal(retyped.code, 1);
  assert.match(retyped.stderr, new RegExp(`${color}.*already exists with type Keyword.*\\(INVALID_ARGUMENT\\)`));

  // Executions started with it are found by it.
  const idleQueue = uniqueName('cli-sa-idle');
  const blue = await env.client.workflow.start('cliSearchAttributes', { taskQueue: idleQueue, workflowId: uniqueName('cli-blue'), searchAttributes: { [color]: ['blue'], [size]: [3] } });
  const red = await env.client.workflow.start('cliSearchAttributes', { taskQueue: idleQueue, workflowId: uniqueName('cli-red'), searchAttributes: { [color]: ['red'], [size]: [7] } });
  const list = (query: string) => hourglass(['workflow', 'list', '--address', address, '-q', query, '-o', 'json']);
  await until(async () => assert.deepEqual(jsonLines(await list(`${color} = 'blue'`)).map((e) => e.runId), [blue.firstExecutionRunId]));
  assert.deepEqual(jsonLines(await list(`${color} = 'red'`)).map((e) => e.runId), [red.firstExecutionRunId]);
  assert.deepEqual(sorted(jsonLines(await list(`${size} >= 3`)).map((e) => e.runId)), sorted([blue.firstExecutionRunId, red.firstExecutionRunId]));
  assert.equal(ok(await hourglass(['workflow', 'count', '--address', address, '-q', `${size} > 5`])).trim(), 'total  1');
  // ... and by `workflow start --search-attribute Key=<json>`.
  const start = (args: string[]) => hourglass(['workflow', 'start', '--address', address, '--type', 'cliSearchAttributes', '-t', idleQueue, ...args]);
  const green = JSON.parse(ok(await start(['--search-attribute', `${color}="green"`, '--search-attribute', `${size}=11`, '-o', 'json']))) as { runId: string };
  await until(async () => assert.deepEqual(jsonLines(await list(`${color} = 'green' AND ${size} = 11`)).map((e) => e.runId), [green.runId]));
  const notJson = await start(['--search-attribute', `${color}=green`]);
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /--search-attribute #1: the value is not JSON: ".*=green" \(a string needs quotes/);
  const noKey = await start(['--search-attribute', 'green']);
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /--search-attribute #1 is not key=value: "green"/);

  // Removed: gone from the list, and a filter on it is refused.
  assert.equal(ok(await operator(['remove', '--name', color, '--yes'])).trim(), `removed search attribute ${color} from namespace default`);
  const after = await customNames('default');
  assert.ok(!after.some((a) => a.name === color), 'removed');
  assert.ok(after.some((a) => a.name === size), 'the other one stays');
  const stale = await list(`${color} = 'blue'`);
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, new RegExp(`${color}.*\\(INVALID_ARGUMENT\\)`));
  const again = await operator(['remove', '--name', color]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`${color}.*not a custom search attribute of namespace default \\(INVALID_ARGUMENT\\)`));

  // Scoped by --namespace: made and removed in the other namespace only.
  ok(await operator(['create', '-n', OTHER_NAMESPACE, '--name', color, '--type', 'Text']));
  assert.deepEqual((await customNames(OTHER_NAMESPACE)).find((a) => a.name === color), { name: color, type: 'Text', kind: 'custom' });
  assert.ok(!(await customNames('default')).some((a) => a.name === color));
  ok(await operator(['remove', '-n', OTHER_NAMESPACE, '--name', color]));
  assert.ok(!(await customNames(OTHER_NAMESPACE)).some((a) => a.name === color));
  ok(await operator(['remove', '--name', size]));

  const missing = await operator(['list', '-n', 'no-such-namespace']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /namespace "no-such-namespace" not found/);
}, { timeoutMs: 240_000 });
