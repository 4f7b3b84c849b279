import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, resolveConnectSettings } from './connect';
import { TestEnvironment } from './testing/environment';
import { installQuietRuntime, rejectionOf } from './testing-support';

describe('resolveConnectSettings', () => {
  test('defaults: 127.0.0.1:7233, namespace default, no API key, plaintext', () => {
    assert.deepEqual(resolveConnectSettings({}, {}), { address: '127.0.0.1:7233', namespace: 'default', apiKey: undefined, tls: undefined });
  });

  test('reads HOURGLASS_ADDRESS, HOURGLASS_NAMESPACE and HOURGLASS_API_KEY; an API key turns TLS on', () => {
    const env = { HOURGLASS_ADDRESS: 'hourglass.internal:7233', HOURGLASS_NAMESPACE: 'orders', HOURGLASS_API_KEY: 'secret' };
    assert.deepEqual(resolveConnectSettings({}, env), { address: 'hourglass.internal:7233', namespace: 'orders', apiKey: 'secret', tls: true });
  });

  test('options win over the environment; tls: false keeps plaintext with an API key; blank variables are ignored', () => {
    const env = { HOURGLASS_ADDRESS: 'from-env:1', HOURGLASS_NAMESPACE: '  ', HOURGLASS_API_KEY: 'env-key' };
    assert.deepEqual(resolveConnectSettings({ address: 'from-options:2', apiKey: 'option-key', tls: false }, env), {
      address: 'from-options:2',
      namespace: 'default',
      apiKey: 'option-key',
      tls: false,
    });
    const tls = { serverNameOverride: 'hourglass' };
    assert.equal(resolveConnectSettings({ tls }, env).tls, tls);
  });
});

describe('connect() against an embedded server', () => {
  let env: TestEnvironment;

  before(async () => {
    installQuietRuntime();
    env = await TestEnvironment.create({ timeSkipping: false, namespace: 'sdk-connect' });
  });
  after(() => env?.teardown());

  test('takes address and namespace from the environment; both connections work', async () => {
    const hg = await connect({}, { HOURGLASS_ADDRESS: env.address, HOURGLASS_NAMESPACE: 'sdk-connect' });
    try {
      assert.equal(hg.address, env.address);
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

  test('an API key from the environment with tls: false talks plaintext', async () => {
    const hg = await connect({ tls: false }, { HOURGLASS_ADDRESS: env.address, HOURGLASS_API_KEY: 'test-key' });
    try {
      const res = await hg.connection.workflowService.getSystemInfo({});
      assert.ok(res.capabilities);
    } finally {
      await hg.close();
    }
  });

  test('an API key alone turns TLS on, which a plaintext server refuses', async () => {
    // `localhost`, since TLS does not send an IP address as the server name.
    const address = env.address.replace('127.0.0.1', 'localhost');
    const err = await rejectionOf(connect({ connection: { connectTimeout: 500 } }, { HOURGLASS_ADDRESS: address, HOURGLASS_API_KEY: 'test-key' }));
    assert.ok(err instanceof Error);
    assert.match(err.message, /Failed to connect before the deadline/);
  });
});
