/**
 * `@hourglass/sdk` as a customer gets it: `npm pack`ed, installed from the tarball into a project
 * outside this repository next to the exact official packages, compiled there with TypeScript and
 * run with node against a real Hourglass server process. One pack and one install per run, shared
 * by the tests below; the install comes from the local npm cache when it can (`--prefer-offline`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startServer, type ServerProcess } from './test-support';

const run = promisify(execFile);

const sdkRoot = path.resolve(__dirname, '..');
const repoRoot = path.resolve(sdkRoot, '..');
const TEMPORAL_VERSION = '1.24.0';
/** The official packages the outside project installs itself; the sdk's peers are all among them. */
const OFFICIAL = ['@temporalio/activity', '@temporalio/client', '@temporalio/common', '@temporalio/envconfig', '@temporalio/worker', '@temporalio/workflow'];
/** Packages a customer who only connects and runs sagas must never get. */
const SERVER_ONLY = ['better-sqlite3', 'mysql2', '@hourglass/server', '@hourglass/common', '@hourglass/persistence', '@hourglass/testing'];
const PACK_AND_INSTALL_TIMEOUT_MS = 240_000;

/**
 * Our environment for npm, without what an enclosing `npm run`/`npm test` would pass down
 * (npm_config_workspace and the like would point npm back at this repository).
 */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_(lifecycle|package|command|execpath|node_execpath)|^npm_config_(workspace|workspaces|include_workspace_root|prefix|global|local_prefix)$/i.test(name)) continue;
    if (name === 'NODE_TEST_CONTEXT') continue;
    env[name] = value;
  }
  return env;
}

interface PackedFile {
  path: string;
}

/** Every `<name>` package directory in the tree under `nodeModules`, nested copies included. */
function findPackages(nodeModules: string, names: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const scoped = entry.name.startsWith('@');
      const packages = scoped ? readdirSync(path.join(dir, entry.name), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${entry.name}/${e.name}`) : [entry.name];
      for (const name of packages) {
        const pkgDir = path.join(dir, name);
        if (names.includes(name)) found.push(pkgDir);
        walk(path.join(pkgDir, 'node_modules'));
      }
    }
  };
  walk(nodeModules);
  return found;
}

/** The customer's code: a saga workflow, its activities, and a script that connects, runs a worker and two orders. */
const CUSTOMER_FILES: Record<string, string> = {
  'src/activities.ts': `
import { ApplicationFailure } from '@temporalio/common';

export function createActivities(log: string[]) {
  return {
    async reserve(id: string): Promise<string> { log.push(\`reserve \${id}\`); return \`reservation-\${id}\`; },
    async release(reservation: string): Promise<void> { log.push(\`release \${reservation}\`); },
    async charge(id: string): Promise<string> { log.push(\`charge \${id}\`); return \`payment-\${id}\`; },
    async refund(payment: string): Promise<void> { log.push(\`refund \${payment}\`); },
    async ship(id: string, fails: boolean): Promise<string> {
      log.push(\`ship \${id}\`);
      if (fails) throw ApplicationFailure.nonRetryable(\`no courier for \${id}\`, 'ShippingFailed');
      return \`parcel-\${id}\`;
    },
  };
}
`,
  'src/workflows.ts': `
import { proxyActivities } from '@temporalio/workflow';
import { Saga } from '@hourglass/sdk/workflow';
import type { createActivities } from './activities';

const { reserve, release, charge, refund, ship } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});

export async function order(o: { id: string; shippingFails: boolean }): Promise<string> {
  const saga = new Saga();
  try {
    const reservation = await reserve(o.id);
    saga.addCompensation(release, reservation);
    const payment = await charge(o.id);
    saga.addCompensation(refund, payment);
    return await ship(o.id, o.shippingFails);
  } catch (err) {
    await saga.compensate();
    throw err;
  }
}
`,
  'src/main.ts': `
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { connect, isApplicationFailure, rootCause } from '@hourglass/sdk';
import { createActivities } from './activities';
import type { order } from './workflows';

const OFFICIAL = ${JSON.stringify(OFFICIAL)};

async function main(): Promise<void> {
  const sdkDir = path.dirname(require.resolve('@hourglass/sdk/package.json'));
  // Where each official package resolves from this project, and from inside @hourglass/sdk.
  const resolution = Object.fromEntries(OFFICIAL.map((name) => [name, { fromProject: require.resolve(name), fromSdk: require.resolve(name, { paths: [sdkDir] }) }]));
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const hg = await connect(); // TEMPORAL_ADDRESS over the TEMPORAL_PROFILE of TEMPORAL_CONFIG_FILE
  const log: string[] = [];
  const taskQueue = 'outside-orders';
  const worker = await Worker.create({
    connection: hg.nativeConnection,
    namespace: hg.namespace,
    taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: createActivities(log),
  });
  const { shipped, failure } = await worker.runUntil(async () => {
    const shipped = await hg.client.workflow.execute<typeof order>('order', { taskQueue, workflowId: 'outside-ok', args: [{ id: 'ok', shippingFails: false }] });
    let failure: unknown;
    try {
      await hg.client.workflow.execute<typeof order>('order', { taskQueue, workflowId: 'outside-bad', args: [{ id: 'bad', shippingFails: true }] });
    } catch (err) {
      failure = err;
    }
    return { shipped, failure };
  });
  await hg.close();
  const loaded = Object.keys(require.cache);
  console.log(JSON.stringify({
    address: hg.address,
    namespace: hg.namespace,
    resolution,
    shipped,
    failure: {
      workflowFailed: failure instanceof WorkflowFailedError,
      shippingFailed: isApplicationFailure(failure, 'ShippingFailed'),
      rootCause: (rootCause(failure) as Error | undefined)?.message,
    },
    log,
    loadedFromSdk: loaded.filter((f) => f.startsWith(sdkDir + path.sep)).map((f) => path.relative(sdkDir, f)),
    loadedServerOnly: loaded.filter((f) => /[\\\\/]node_modules[\\\\/](better-sqlite3|mysql2|@hourglass[\\\\/](?!sdk[\\\\/]))/.test(f)),
  }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`,
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'Node16',
      moduleResolution: 'Node16',
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
      rootDir: 'src',
      outDir: 'dist',
      // The project installs no @types/node of its own; this repository's serves.
      typeRoots: [path.join(repoRoot, 'node_modules/@types')],
      types: ['node'],
    },
    include: ['src'],
  }),
};

describe('@hourglass/sdk packed and installed into an outside project', () => {
  let project: string;
  let packed: PackedFile[];
  let server: ServerProcess;

  before(
    async () => {
      project = mkdtempSync(path.join(os.tmpdir(), 'hourglass-sdk-outside-'));
      const packAndInstall = async (): Promise<void> => {
        const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], { cwd: sdkRoot, env: npmEnv() });
        const [result] = JSON.parse(stdout) as [{ filename: string; files: PackedFile[] }];
        packed = result.files;
        const dependencies = Object.fromEntries([['@hourglass/sdk', `file:./${result.filename}`], ...OFFICIAL.map((name) => [name, TEMPORAL_VERSION])]);
        writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'outside-project', version: '1.0.0', private: true, dependencies }, null, 2));
        await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: project, env: npmEnv() });
      };
      // The server starts while npm works.
      [server] = await Promise.all([startServer({ namespaces: ['outside'] }), packAndInstall()]);
    },
    { timeout: PACK_AND_INSTALL_TIMEOUT_MS },
  );
  after(async () => {
    await server?.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  test('the tarball holds the library (dist and its sources) only: no tests, test support or examples', () => {
    const paths = packed.map((f) => f.path);
    for (const required of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/workflow/index.js', 'dist/workflow/index.d.ts', 'src/connect.ts']) {
      assert.ok(paths.includes(required), `the tarball lacks ${required}: ${paths.join(', ')}`);
    }
    for (const p of paths) {
      assert.match(p, /^(package\.json|README\.md|dist\/|src\/)/, `unexpected file in the tarball: ${p}`);
      assert.doesNotMatch(p, /\.test\.|test-support|examples|tsbuildinfo/, `test or example file in the tarball: ${p}`);
    }
    // Every compiled file has its source beside it: no stale output of a file since moved or deleted.
    for (const p of paths.filter((f) => f.startsWith('dist/'))) {
      const source = p.replace(/^dist\//, 'src/').replace(/\.(js|d\.ts)(\.map)?$/, '.ts');
      assert.ok(paths.includes(source), `${p} in the tarball has no ${source}: stale build output (remove sdk/dist and rebuild)`);
    }
  });

  test('its package.json: the official packages are peers, nothing unpublished, the two entries exported', () => {
    const pkg = JSON.parse(readFileSync(path.join(project, 'node_modules/@hourglass/sdk/package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.private, undefined);
    assert.deepEqual(pkg.dependencies ?? {}, {}, 'the sdk has runtime dependencies of its own');
    const peers = Object.keys((pkg.peerDependencies ?? {}) as Record<string, string>).sort();
    assert.deepEqual(peers, ['@temporalio/client', '@temporalio/common', '@temporalio/envconfig', '@temporalio/worker', '@temporalio/workflow']);
    assert.ok(peers.every((p) => OFFICIAL.includes(p)));
    const exportsField = pkg.exports as Record<string, { types: string; default: string }>;
    assert.deepEqual(exportsField['.'], { types: './dist/index.d.ts', default: './dist/index.js' });
    assert.deepEqual(exportsField['./workflow'], { types: './dist/workflow/index.d.ts', default: './dist/workflow/index.js' });
  });

  test('installed: one copy of each official package (the project’s), no server and no database driver', () => {
    const nodeModules = path.join(project, 'node_modules');
    for (const name of OFFICIAL) {
      assert.deepEqual(findPackages(nodeModules, [name]), [path.join(nodeModules, name)], `${name} is installed more than once, or not at the top`);
    }
    assert.equal(existsSync(path.join(nodeModules, '@hourglass/sdk/node_modules')), false, '@hourglass/sdk brought packages of its own');
    assert.deepEqual(findPackages(nodeModules, SERVER_ONLY), []);
  });

  test('a customer project compiles against it and runs: connect() from TEMPORAL_* and a TOML profile, a Worker, a Saga that compensates', async () => {
    for (const [file, text] of Object.entries(CUSTOMER_FILES)) {
      mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
      writeFileSync(path.join(project, file), text);
    }
    // A profile whose address TEMPORAL_ADDRESS overrides: both of Temporal's conventions at once.
    const configFile = path.join(project, 'temporal.toml');
    writeFileSync(configFile, '[profile.hourglass]\naddress = "127.0.0.1:1"\nnamespace = "outside"\n');
    await run(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project }).catch((err: { stdout?: string }) => {
      assert.fail(`the customer project does not compile against the installed sdk:\n${err.stdout ?? String(err)}`);
    });

    const env = { PATH: process.env.PATH ?? '', HOME: project, TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'hourglass', TEMPORAL_ADDRESS: server.address };
    const { stdout } = await run(process.execPath, ['dist/main.js'], { cwd: project, env, timeout: 120_000 }).catch((err: { stdout?: string; stderr?: string }) => {
      assert.fail(`the customer script failed:\n${err.stdout ?? ''}\n${err.stderr ?? String(err)}`);
    });
    const out = JSON.parse(stdout.trim().split('\n').pop() ?? '') as {
      address: string;
      namespace: string;
      resolution: Record<string, { fromProject: string; fromSdk: string }>;
      shipped: string;
      failure: { workflowFailed: boolean; shippingFailed: boolean; rootCause: string };
      log: string[];
      loadedFromSdk: string[];
      loadedServerOnly: string[];
    };

    assert.equal(out.address, server.address, 'TEMPORAL_ADDRESS did not win over the profile');
    assert.equal(out.namespace, 'outside', "the profile's namespace was not used");
    for (const name of OFFICIAL) {
      const { fromProject, fromSdk } = out.resolution[name] ?? { fromProject: '', fromSdk: '' };
      assert.ok(fromProject.startsWith(path.join(project, 'node_modules', name) + path.sep), `${name} resolves to ${fromProject}, outside the project`);
      assert.equal(fromSdk, fromProject, `@hourglass/sdk sees another copy of ${name}`);
    }
    assert.equal(out.shipped, 'parcel-ok');
    assert.deepEqual(out.failure, { workflowFailed: true, shippingFailed: true, rootCause: 'no courier for bad' });
    assert.deepEqual(out.log, ['reserve ok', 'charge ok', 'ship ok', 'reserve bad', 'charge bad', 'ship bad', 'refund payment-bad', 'release reservation-bad']);
    assert.ok(out.loadedFromSdk.includes(path.join('dist', 'index.js')), `the script did not load the installed sdk: ${out.loadedFromSdk.join(', ')}`);
    assert.deepEqual(out.loadedServerOnly, []);
  });
});
