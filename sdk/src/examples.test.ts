/** The sample project in examples/order-saga, run as a customer would (compiled by `tsc -b sdk`). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { TestEnvironment } from './testing/environment';
import { installQuietRuntime } from './testing-support';

const run = promisify(execFile);
const exampleDist = path.resolve(__dirname, '../examples/order-saga/dist');

/** The child's environment: ours without node:test's marker, so a child test run reports on its own. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

describe('examples/order-saga', () => {
  let env: TestEnvironment;

  before(async () => {
    installQuietRuntime();
    // Wall-clock time: the example signals orders that wait 7 days for approval.
    env = await TestEnvironment.create({ timeSkipping: false });
  });
  after(() => env?.teardown());

  test('`node sdk/examples/order-saga/dist/run.js` runs its three orders against a server at HOURGLASS_ADDRESS', async () => {
    // Async, not spawnSync: the server answering the example runs in this process.
    const { stdout } = await run(process.execPath, [path.join(exampleDist, 'run.js')], { env: childEnv({ HOURGLASS_ADDRESS: env.address }), timeout: 60_000 });
    assert.match(stdout, new RegExp(`connected to Hourglass at ${env.address.replace(/\./g, '\\.')}, namespace default`));
    assert.match(stdout, /✓ the approved order completed with a tracking id/);
    assert.match(stdout, /✓ the cancelled order says why/);
    assert.match(stdout, /✓ the failure is an ApplicationFailure of type CardDeclined/);
    assert.match(stdout, /order saga example: all good/);
  });

  test("the example's own tests pass (TestEnvironment with time skipping)", async () => {
    const files = readdirSync(exampleDist).filter((f) => f.endsWith('.test.js'));
    assert.ok(files.length > 0, 'the example has tests');
    for (const file of files) {
      await run(process.execPath, ['--test', path.join(exampleDist, file)], { env: childEnv({}), timeout: 60_000 }).catch((err: { stdout?: string; stderr?: string }) => {
        assert.fail(`${file} failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
      });
    }
  });
});
