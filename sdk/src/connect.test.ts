import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConnectConfigError, connect, resolveConnectSettings } from './connect';
import { installQuietRuntime, rejectionOf, startServer, type ServerProcess } from './test-support';

describe('resolveConnectSettings', () => {
  let dir: string;
  let configFile: string;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hourglass-sdk-connect-'));
    configFile = path.join(dir, 'temporal.toml');
    writeFileSync(
      configFile,
      [
        '[profile.default]',
        'address = "from-default-profile:7233"',
        'namespace = "default-profile-ns"',
        '',
        '[profile.staging]',
        'address = "staging.internal:7233"',
        'namespace = "staging"',
        'api_key = "profile-key"',
        '[profile.staging.grpc_meta]',
        'x-tenant = "acme"',
        '',
        '[profile.plaintext]',
        'address = "plain.internal:7233"',
        'api_key = "profile-key"',
        '[profile.plaintext.tls]',
        'disabled = true',
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('defaults: 127.0.0.1:7233, namespace default, no API key, plaintext', () => {
    assert.deepEqual(resolveConnectSettings({}, {}), { address: '127.0.0.1:7233', namespace: 'default', apiKey: undefined, tls: undefined, metadata: undefined });
  });

  test('reads HOURGLASS_ADDRESS, HOURGLASS_NAMESPACE and HOURGLASS_API_KEY; an API key turns TLS on', () => {
    const env = { HOURGLASS_ADDRESS: 'hourglass.internal:7233', HOURGLASS_NAMESPACE: 'orders', HOURGLASS_API_KEY: 'secret' };
    assert.deepEqual(resolveConnectSettings({}, env), { address: 'hourglass.internal:7233', namespace: 'orders', apiKey: 'secret', tls: true, metadata: undefined });
  });

  test('reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_API_KEY; an API key turns TLS on', () => {
    const env = { TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'payments', TEMPORAL_API_KEY: 'temporal-secret' };
    assert.deepEqual(resolveConnectSettings({}, env), { address: 'temporal.internal:7233', namespace: 'payments', apiKey: 'temporal-secret', tls: true, metadata: undefined });
  });

  test('HOURGLASS_* win over TEMPORAL_*, each setting on its own', () => {
    const env = { HOURGLASS_ADDRESS: 'hourglass:1', TEMPORAL_ADDRESS: 'temporal:2', TEMPORAL_NAMESPACE: 'temporal-ns', HOURGLASS_API_KEY: 'hg-key', TEMPORAL_API_KEY: 'temporal-key' };
    assert.deepEqual(resolveConnectSettings({}, env), { address: 'hourglass:1', namespace: 'temporal-ns', apiKey: 'hg-key', tls: true, metadata: undefined });
  });

  test('options win over the environment; tls: false keeps plaintext with an API key; blank variables are ignored', () => {
    const env = { HOURGLASS_ADDRESS: 'from-env:1', HOURGLASS_NAMESPACE: '  ', TEMPORAL_NAMESPACE: '', HOURGLASS_API_KEY: 'env-key' };
    assert.deepEqual(resolveConnectSettings({ address: 'from-options:2', apiKey: 'option-key', tls: false }, env), {
      address: 'from-options:2',
      namespace: 'default',
      apiKey: 'option-key',
      tls: false,
      metadata: undefined,
    });
    const tls = { serverNameOverride: 'hourglass' };
    assert.equal(resolveConnectSettings({ tls }, env).tls, tls);
  });

  test('the config file: the default profile unless TEMPORAL_PROFILE or the profile option names another', () => {
    assert.deepEqual(resolveConnectSettings({}, { TEMPORAL_CONFIG_FILE: configFile }), {
      address: 'from-default-profile:7233',
      namespace: 'default-profile-ns',
      apiKey: undefined,
      tls: undefined,
      metadata: undefined,
    });
    const staging = { address: 'staging.internal:7233', namespace: 'staging', apiKey: 'profile-key', tls: true, metadata: { 'x-tenant': 'acme' } };
    assert.deepEqual(resolveConnectSettings({}, { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'staging' }), staging);
    assert.deepEqual(resolveConnectSettings({ profile: 'staging', configFile }, { TEMPORAL_PROFILE: 'plaintext' }), staging);
  });

  test('the default config file is temporalio/temporal.toml under XDG_CONFIG_HOME (or ~/.config)', { skip: process.platform === 'win32' || process.platform === 'darwin' }, () => {
    const configHome = path.join(dir, 'xdg');
    const home = path.join(dir, 'home');
    for (const base of [path.join(configHome, 'temporalio'), path.join(home, '.config', 'temporalio')]) mkdirSync(base, { recursive: true });
    writeFileSync(path.join(configHome, 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "xdg:1"\n');
    writeFileSync(path.join(home, '.config', 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "home:1"\n');
    assert.equal(resolveConnectSettings({}, { XDG_CONFIG_HOME: configHome, HOME: home }).address, 'xdg:1');
    assert.equal(resolveConnectSettings({}, { HOME: home }).address, 'home:1');
    assert.equal(resolveConnectSettings({ configFile: false }, { HOME: home }).address, '127.0.0.1:7233');
  });

  test('precedence over the profile: options, then HOURGLASS_*, then TEMPORAL_*, then the file', () => {
    const base = { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'staging' };
    assert.equal(resolveConnectSettings({}, { ...base, TEMPORAL_ADDRESS: 'temporal:2' }).address, 'temporal:2');
    assert.equal(resolveConnectSettings({}, { ...base, TEMPORAL_ADDRESS: 'temporal:2', HOURGLASS_ADDRESS: 'hourglass:1' }).address, 'hourglass:1');
    assert.equal(resolveConnectSettings({ address: 'option:3' }, { ...base, TEMPORAL_ADDRESS: 'temporal:2', HOURGLASS_ADDRESS: 'hourglass:1' }).address, 'option:3');
    assert.equal(resolveConnectSettings({}, { ...base, TEMPORAL_NAMESPACE: 'temporal-ns' }).namespace, 'temporal-ns');
    assert.equal(resolveConnectSettings({}, { ...base, HOURGLASS_API_KEY: 'hg-key' }).apiKey, 'hg-key');
    // TEMPORAL_GRPC_META_* add headers over the profile's; an empty one removes a header.
    assert.deepEqual(resolveConnectSettings({}, { ...base, TEMPORAL_GRPC_META_X_REGION: 'eu' }).metadata, { 'x-tenant': 'acme', 'x-region': 'eu' });
    assert.equal(resolveConnectSettings({}, { ...base, TEMPORAL_GRPC_META_X_TENANT: '' }).metadata, undefined);
  });

  test("TLS configured in the profile or TEMPORAL_TLS wins over the API key's default", () => {
    const plaintext = resolveConnectSettings({}, { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'plaintext', HOURGLASS_API_KEY: 'hg-key' });
    assert.equal(plaintext.apiKey, 'hg-key');
    assert.equal(plaintext.tls, false);
    assert.equal(resolveConnectSettings({}, { HOURGLASS_API_KEY: 'k', TEMPORAL_TLS: 'false' }).tls, false);
    const serverName = resolveConnectSettings({}, { TEMPORAL_TLS_SERVER_NAME: 'hourglass.example' }).tls;
    assert.ok(typeof serverName === 'object' && serverName.serverNameOverride === 'hourglass.example', `tls: ${JSON.stringify(serverName)}`);
    assert.equal(resolveConnectSettings({ tls: true }, { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'plaintext' }).tls, true);
  });

  test('a named profile the file lacks, a missing file named in the options, a broken file: ConnectConfigError saying which', () => {
    assert.throws(
      () => resolveConnectSettings({}, { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'prod' }),
      (err: unknown) => err instanceof ConnectConfigError && /profile "prod" from ".*temporal\.toml": Profile 'prod' not found/.test(err.message),
    );
    const missing = path.join(dir, 'missing.toml');
    assert.throws(() => resolveConnectSettings({ configFile: missing }, {}), (err: unknown) => err instanceof ConnectConfigError && err.message.includes(JSON.stringify(missing)));
    // TEMPORAL_CONFIG_FILE naming a missing file reads nothing, as in every official SDK.
    assert.equal(resolveConnectSettings({}, { TEMPORAL_CONFIG_FILE: missing }).address, '127.0.0.1:7233');
    const broken = path.join(dir, 'broken.toml');
    writeFileSync(broken, '[profile.default\naddress = ');
    assert.throws(() => resolveConnectSettings({ configFile: broken }, {}), (err: unknown) => err instanceof ConnectConfigError && err.cause instanceof Error);
  });
});

describe('connect() against a server', () => {
  let server: ServerProcess;

  before(async () => {
    installQuietRuntime();
    server = await startServer({ namespaces: ['sdk-connect'] });
  });
  after(() => server?.stop());

  test('takes address and namespace from the environment; both connections work', async () => {
    const hg = await connect({}, { HOURGLASS_ADDRESS: server.address, HOURGLASS_NAMESPACE: 'sdk-connect' });
    try {
      assert.equal(hg.address, server.address);
      assert.equal(hg.namespace, 'sdk-connect');
      assert.equal(hg.client.options.namespace, 'sdk-connect');
      const viaClient = await hg.connection.workflowService.describeNamespace({ namespace: hg.namespace });
      assert.equal(viaClient.namespaceInfo?.name, 'sdk-connect');
      const viaNative = await hg.nativeConnection.workflowService.describeNamespace({ namespace: hg.namespace });
      assert.equal(viaNative.namespaceInfo?.name, 'sdk-connect');
      const handle = await hg.client.workflow.start('notRegistered', { taskQueue: 'nobody-polls', workflowId: 'connect-check' });
      assert.equal((await handle.describe()).status.name, 'RUNNING');
      await handle.terminate('test done');
    } finally {
      await hg.close();
      await hg.close(); // idempotent
    }
  });

  test('TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE alone are enough', async () => {
    const hg = await connect({}, { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'sdk-connect' });
    try {
      assert.equal(hg.address, server.address);
      const res = await hg.connection.workflowService.describeNamespace({ namespace: hg.namespace });
      assert.equal(res.namespaceInfo?.name, 'sdk-connect');
    } finally {
      await hg.close();
    }
  });

  test('an API key from the environment with tls: false talks plaintext, and the key is sent', async () => {
    const hg = await connect({ tls: false }, { HOURGLASS_ADDRESS: server.address, HOURGLASS_API_KEY: server.ownerApiKey(), HOURGLASS_NAMESPACE: 'sdk-connect' });
    try {
      const res = await hg.connection.workflowService.describeNamespace({ namespace: hg.namespace });
      assert.equal(res.namespaceInfo?.name, 'sdk-connect');
    } finally {
      await hg.close();
    }
    // The server verifies every key it is sent: a made-up one is refused, so the one above was sent and accepted.
    const err = await rejectionOf(connect({ tls: false }, { HOURGLASS_ADDRESS: server.address, HOURGLASS_API_KEY: 'made-up-key' }));
    assert.match(String((err as Error & { cause?: Error }).cause?.message ?? err), /UNAUTHENTICATED: malformed API key/);
  });

  test('an API key alone turns TLS on, which a plaintext server refuses', async () => {
    // `localhost`, since TLS does not send an IP address as the server name.
    const address = server.address.replace('127.0.0.1', 'localhost');
    const err = await rejectionOf(connect({ connection: { connectTimeout: 500 } }, { TEMPORAL_ADDRESS: address, TEMPORAL_API_KEY: 'test-key' }));
    assert.ok(err instanceof Error);
    assert.match(err.message, /Failed to connect before the deadline/);
  });
});
