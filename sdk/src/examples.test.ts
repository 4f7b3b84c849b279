/** The sample project in examples/order-saga, run as a customer would (compiled by `tsc -b sdk`). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startServer, type ServerProcess } from './test-support';

const run = promisify(execFile);
const exampleDist = path.resolve(__dirname, '../examples/order-saga/dist');

/**
 * The child's environment: ours without node:test's marker, so a child test run reports on its
 * own, and without connection settings from the developer's shell (a TEMPORAL_API_KEY would turn TLS on).
 */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!/^(HOURGLASS|TEMPORAL)_/.test(name) && name !== 'NODE_TEST_CONTEXT') env[name] = value;
  return { ...env, ...extra };
}

describe('examples/order-saga', () => {
  let server: ServerProcess;

  before(async () => {
    // Wall-clock time (`start-dev`): the example signals orders that wait 7 days for approval.
    server = await startServer();
  });
  after(() => server?.stop());

  test('`node sdk/examples/order-saga/dist/run.js` runs its three orders against a server at HOURGLASS_ADDRESS', async () => {
    const { stdout } = await run(process.execPath, [path.join(exampleDist, 'run.js')], { env: childEnv({ HOURGLASS_ADDRESS: server.address }), timeout: 60_000 });
    assert.match(stdout, new RegExp(`connected to Hourglass at ${server.address.replace(/\./g, '\\.')}, namespace default`));
    assert.match(stdout, /✓ the approved order completed with a tracking id/);
    assert.match(stdout, /✓ the cancelled order says why/);
    assert.match(stdout, /✓ the failure is an ApplicationFailure of type CardDeclined/);
    assert.match(stdout, /order saga example: all good/);
  });

  test("the example's own tests pass (@hourglass/testing's TestEnvironment with time skipping)", async () => {
    const files = readdirSync(exampleDist).filter((f) => f.endsWith('.test.js'));
    assert.ok(files.length > 0, 'the example has tests');
    for (const file of files) {
      await run(process.execPath, ['--test', path.join(exampleDist, file)], { env: childEnv({}), timeout: 60_000 }).catch((err: { stdout?: string; stderr?: string }) => {
        assert.fail(`${file} failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
      });
    }
  });
});
