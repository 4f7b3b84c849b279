/**
 * The `hourglass` command as a user runs it: through the committed `bin/hourglass` shim that npm
 * links (`npx hourglass`), in a child process.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { allSettings } from '@hourglass/common';
import { START_CLUSTER_OPTIONS, START_DEV_OPTIONS, START_SHARED_KEYS } from './config';

const run = promisify(execFile);
const SHIM = path.join(__dirname, '..', 'bin', 'hourglass');
const VERSION = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hourglass-bin-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Environment without HOURGLASS_* variables, so the machine's own cannot change the outcome. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HOURGLASS_'))), ...extra };
}

async function hourglass(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(SHIM, args, { env: cleanEnv(env), timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('the hourglass command', () => {
  it('prints the package version with --version', async () => {
    const { code, stdout } = await hourglass(['--version']);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), VERSION);
  });

  it("shows every start-dev option's default and env variable in --help", async () => {
    const { code, stdout } = await hourglass(['start-dev', '--help']);
    assert.equal(code, 0);
    // Commander wraps long lines: compare with whitespace collapsed.
    const help = stdout.replace(/\s+/g, ' ');
    for (const option of [...START_DEV_OPTIONS.map((o) => o.env), 'HOURGLASS_CONFIG']) assert.ok(help.includes(`env: ${option})`), `${option} in:\n${stdout}`);
    // Commander shows no default for a negated flag (--no-tls): its description says it.
    const negated = START_DEV_OPTIONS.filter((o) => o.flags.startsWith('--no-')).length;
    assert.equal(help.match(/\(default: /g)?.length, START_DEV_OPTIONS.length - negated + 1, 'a default for every option and --config');
    assert.match(help, /-p, --port <port> .*\(default: 7233, env: HOURGLASS_PORT\)/);
    assert.match(help, /--no-tls .*\(by default TLS is on; env value true or false\) \(env: HOURGLASS_TLS\)/);
    assert.match(help, /--tls-port <port> .*\(default: 7234, env: HOURGLASS_TLS_PORT\)/);
    assert.ok(help.includes('.hourglass/tls/ca.pem is the CA file clients trust'), 'where the generated CA file is');
  });

  it('refuses a bad flag, env value or config file with one line naming it, exit code 2', async () => {
    const port = await hourglass(['start-dev', '--port', '70000']);
    assert.equal(port.code, 2);
    assert.equal(port.stderr.trim(), 'hourglass: invalid --port / HOURGLASS_PORT: expected 0..65535, got 70000');

    const namespace = await hourglass(['start-dev', '--in-memory', '-n', 'bad name!']);
    assert.equal(namespace.code, 2);
    assert.match(namespace.stderr.trim(), /^hourglass: invalid --namespace \/ HOURGLASS_NAMESPACES: namespace name "bad name!" is invalid/);

    const file = path.join(tmp, 'bad.yaml');
    writeFileSync(file, 'settings:\n  limit.blobSize.eror:\n    - value: 1\n');
    const bad = await hourglass(['start-dev', '--in-memory'], { HOURGLASS_CONFIG: file });
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim(), `hourglass: ${file}: settings: unknown setting "limit.blobSize.eror" (did you mean limit.blobSize.error?)`);

    const half = await hourglass(['start-dev', '--in-memory', '--tls-cert-file', 'server.pem']);
    assert.equal(half.code, 2);
    assert.match(half.stderr.trim(), /^hourglass: --tls-cert-file \/ HOURGLASS_TLS_CERT_FILE needs --tls-key-file \/ HOURGLASS_TLS_KEY_FILE too/);

    const unknown = await hourglass(['start-dev', '--prot', '1']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--prot'/);
  });

  it('hourglass start: --help names every cluster option and the start-dev ones it shares; a wrong role or store is refused with exit code 2', async () => {
    const help = await hourglass(['start', '--help']);
    assert.equal(help.code, 0);
    const text = help.stdout.replace(/\s+/g, ' ');
    for (const option of [...START_CLUSTER_OPTIONS, ...START_DEV_OPTIONS.filter((o) => START_SHARED_KEYS.includes(o.key))]) assert.ok(text.includes(`env: ${option.env})`), `${option.env} in:\n${help.stdout}`);
    assert.ok(!text.includes('HOURGLASS_DB_FILENAME'), "start-dev's own options are not start's");

    const role = await hourglass(['start', '--services', 'frontend,histroy']);
    assert.equal(role.code, 2);
    assert.equal(role.stderr.trim(), 'hourglass: invalid --services / HOURGLASS_SERVICES: unknown service "histroy" (did you mean history?): expected any of frontend, history, matching, indexer');
    const store = await hourglass(['start'], { HOURGLASS_STORE: 'sqlite' });
    assert.equal(store.code, 2);
    assert.match(store.stderr.trim(), /^hourglass: hourglass start needs --store \/ HOURGLASS_STORE mysql/);
  });

  it('lists every setting with hourglass settings', async () => {
    const { code, stdout } = await hourglass(['settings', '--format', 'json']);
    assert.equal(code, 0);
    const keys = (JSON.parse(stdout) as { key: string }[]).map((s) => s.key).sort();
    assert.deepEqual(keys, allSettings().map((s) => s.key).sort());
  });

  it('starts from a config file and prints where it serves, plaintext and TLS, and the next step', async () => {
    const file = path.join(tmp, 'hourglass.yaml');
    writeFileSync(file, ['inMemory: true', 'port: 0', 'tlsPort: 0', 'metricsAddress: 127.0.0.1:0', 'portalAddress: 127.0.0.1:0', 'logLevel: silent', 'namespaces: [billing]', 'settings:', '  limit.blobSize.error:', '    - value: 1048576', '      constraints: { namespace: billing }'].join('\n'));
    const child = spawn(SHIM, ['start-dev', '--config', file], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`code ${code}, signal ${signal}`)));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines: string[] = [];
    let caFile = '';
    try {
      const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
      for await (const line of createInterface({ input: child.stdout })) {
        lines.push(line);
        if (line.startsWith('Ctrl-C stops the server')) break;
      }
      clearTimeout(deadline);
      const ready = /^Hourglass is serving WorkflowService on 127\.0\.0\.1:(\d+) \(store: in memory, namespaces: default, billing\)$/.exec(lines[0] ?? '');
      assert.ok(ready, `ready line, got:\n${lines.join('\n')}\n${stderr}`);
      const port = Number(ready[1]);
      assert.ok(port > 0);
      const text = lines.join('\n');
      assert.ok(text.includes(`NativeConnection.connect({ address: '127.0.0.1:${port}' })`), text);
      assert.ok(text.includes("namespace: 'default'"), text);
      const tls = /^Hourglass serves the same over TLS on 127\.0\.0\.1:(\d+), clients trust the CA certificate (.+ca\.pem)$/.exec(lines[1] ?? '');
      assert.ok(tls, `TLS line, got:\n${text}`);
      assert.ok(![0, port].includes(Number(tls[1])), 'a port of its own');
      caFile = tls[2]!;
      assert.ok(new X509Certificate(readFileSync(caFile)).ca, 'the CA file exists while the server runs');
      assert.ok(text.includes(`tls: { serverRootCACertificate: readFileSync('${caFile}') }`), text);
      const metrics = /^Hourglass serves Prometheus metrics on (http:\/\/127\.0\.0\.1:(\d+)\/metrics)$/.exec(lines[2] ?? '');
      assert.ok(metrics && Number(metrics[2]) > 0, `metrics line with the port picked for metricsAddress 127.0.0.1:0, got:\n${text}`);
      const scrape = await fetch(metrics[1]!);
      assert.equal(scrape.status, 200);
      assert.match(await scrape.text(), /^nodejs_heap_size_used_bytes \d+/m, 'the process metrics are served');
      const health = await fetch(metrics[1]!.replace('/metrics', '/healthz'));
      assert.equal(health.status, 200, 'the health endpoint of probes');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 'code 0, signal null', `clean shutdown on SIGTERM; stderr:\n${stderr}`);
    assert.ok(!existsSync(caFile), 'an in-memory server removes its generated credentials');
  });
});
