import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HistorySettings, InvalidArgumentError, Limits, MatchingSettings } from '@hourglass/common';
import { CLUSTER_DEFAULTS, DEV_DEFAULTS, START_DEFAULTS, advertisedAddress, loadDevServerConfig, parseConfigFile, parseDevServerConfig, parseStartConfig } from './config';

/** Asserts that `fn` throws an InvalidArgumentError whose message is exactly `message` (or matches it). */
function refuses(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected an InvalidArgumentError, got ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('configuration precedence', () => {
  it('takes each option from its flag, else its env variable, else the config file, else its default', () => {
    const file = parseConfigFile('hourglass.yaml', ['port: 1000', 'logLevel: debug', 'numHistoryShards: 8', 'ip: 0.0.0.0'].join('\n'));
    const env = { HOURGLASS_PORT: '2000', HOURGLASS_LOG_LEVEL: 'warn' };
    const config = parseDevServerConfig({ port: '3000' }, env, file);
    assert.equal(config.port, 3000, 'the flag beats env and file');
    assert.equal(config.logLevel, 'warn', 'env beats the file');
    assert.equal(config.numHistoryShards, 8, 'the file beats the default');
    assert.equal(config.ip, '0.0.0.0');
    assert.equal(config.dbFilename, DEV_DEFAULTS.dbFilename, 'the default when nothing sets it');
    assert.deepEqual(parseDevServerConfig({}, {}), DEV_DEFAULTS);
  });

  it('reads lists comma-separated and booleans as true/false from the environment', () => {
    const config = parseDevServerConfig({}, { HOURGLASS_NAMESPACES: 'billing, orders', HOURGLASS_IN_MEMORY: 'true' });
    assert.deepEqual(config.namespaces, ['billing', 'orders']);
    assert.equal(config.inMemory, true);
    assert.equal(parseDevServerConfig({}, { HOURGLASS_IN_MEMORY: 'false' }).inMemory, false);
    assert.deepEqual(parseDevServerConfig({ namespaces: ['a'] }, { HOURGLASS_NAMESPACES: 'b' }).namespaces, ['a'], 'a flag list replaces the env list');
  });

  it('reads the file named by HOURGLASS_CONFIG unless --config names another', () => {
    const files: Record<string, string> = { 'env.yaml': 'port: 1111', 'flag.yaml': 'port: 2222' };
    const read = (path: string): string => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    };
    assert.equal(loadDevServerConfig({}, { HOURGLASS_CONFIG: 'env.yaml' }, undefined, read).config.port, 1111);
    assert.equal(loadDevServerConfig({}, { HOURGLASS_CONFIG: 'env.yaml' }, 'flag.yaml', read).config.port, 2222);
    assert.equal(loadDevServerConfig({}, {}, undefined, read).file, undefined, 'no file unless one is named');
    refuses(() => loadDevServerConfig({}, {}, 'missing.yaml', read), 'cannot read config file missing.yaml (--config / HOURGLASS_CONFIG): no such file');
  });
});

describe('configuration errors name where the bad value came from', () => {
  it('names the flag and the env variable', () => {
    refuses(() => parseDevServerConfig({ port: '70000' }, {}), 'invalid --port / HOURGLASS_PORT: expected 0..65535, got 70000');
    refuses(() => parseDevServerConfig({}, { HOURGLASS_PORT: 'abc' }), 'invalid --port / HOURGLASS_PORT: expected 0..65535, got "abc"');
    refuses(() => parseDevServerConfig({}, { HOURGLASS_STORE: 'postgres' }), 'invalid --store / HOURGLASS_STORE: expected sqlite, mysql, got "postgres"');
    refuses(() => parseDevServerConfig({ numHistoryShards: 0 }, {}), /^invalid --num-history-shards \/ HOURGLASS_NUM_HISTORY_SHARDS: expected 1\.\.16384, got 0$/);
    refuses(() => parseDevServerConfig({}, { HOURGLASS_IN_MEMORY: 'yes' }), 'invalid --in-memory / HOURGLASS_IN_MEMORY: expected true or false, got "yes"');
  });

  it('refuses invalid namespace names at start', () => {
    refuses(
      () => parseDevServerConfig({ namespaces: ['bad name!'] }, {}),
      `invalid --namespace / HOURGLASS_NAMESPACES: namespace name "bad name!" is invalid: use letters, digits, '.', '_' or '-', starting with a letter or digit, at most 255 characters`,
    );
    refuses(() => parseDevServerConfig({ namespaces: ['-leading-dash'] }, {}), /namespace name "-leading-dash" is invalid/);
    refuses(() => parseDevServerConfig({ namespaces: ['a'.repeat(256)] }, {}), /namespace name "a+…" \(256 characters\) is invalid/);
    assert.deepEqual(parseDevServerConfig({ namespaces: ['a'.repeat(255), 'billing.prod_2-eu'] }, {}).namespaces, ['a'.repeat(255), 'billing.prod_2-eu']);
  });

  it('reads the billing section: prices, per-account prices; a bad price names its key', () => {
    const file = parseConfigFile(
      'hourglass.yaml',
      ['billing:', '  prices:', '    planMinimumUsd: 50', '  accounts:', '    a1b2c:', '      activeStorageUsdPerGbHour: 0.03'].join('\n'),
    );
    assert.deepEqual(file.billing, { prices: { planMinimumUsd: 50 }, accounts: { a1b2c: { activeStorageUsdPerGbHour: 0.03 } } });
    refuses(() => parseConfigFile('hourglass.yaml', 'billing:\n  prices:\n    planMinimumUsd: -1'), /^hourglass\.yaml: billing\.prices\.planMinimumUsd: /);
    refuses(() => parseConfigFile('hourglass.yaml', 'billing:\n  price: {}'), 'hourglass.yaml: billing: unknown key "price"');
    assert.equal(parseConfigFile('hourglass.yaml', 'port: 1').billing, undefined);
  });

  it('names the file and the key of a bad file value', () => {
    refuses(() => parseConfigFile('hourglass.yaml', 'port: 70000'), 'hourglass.yaml: port: expected 0..65535, got 70000');
    refuses(() => parseConfigFile('hourglass.yaml', 'namespaces: [ok, "bad name!"]'), /^hourglass\.yaml: namespaces: namespace name "bad name!" is invalid/);
    refuses(
      () => parseConfigFile('hourglass.yaml', 'settings:\n  limit.blobSize.error:\n    - value: lots'),
      'hourglass.yaml: settings.limit.blobSize.error[0]: expected a whole number of at least 1, got "lots"',
    );
    refuses(() => parseConfigFile('hourglass.yaml', 'settings:\n  limit.blobSize.error: 1024'), /^hourglass\.yaml: settings\.limit\.blobSize\.error: expected a list of \{ value, constraints \} entries/);
    refuses(
      () => parseConfigFile('hourglass.yaml', 'settings:\n  limit.blobSize.error:\n    - value: 1\n      constraints: { namespace: "bad name!" }'),
      /^hourglass\.yaml: settings\.limit\.blobSize\.error\[0\]\.constraints\.namespace: namespace name "bad name!" is invalid/,
    );
    refuses(
      () => parseConfigFile('hourglass.yaml', 'settings:\n  limit.blobSize.error:\n    - value: 1\n      constraints: { taskQueue: orders }'),
      'hourglass.yaml: settings.limit.blobSize.error[0]: limit.blobSize.error cannot differ per task queue (its scope is namespace)',
    );
    refuses(
      () => parseConfigFile('hourglass.yaml', 'settings:\n  history.timerLookahead:\n    - value: 1s\n      constraints: { namespace: billing }'),
      'hourglass.yaml: settings.history.timerLookahead[0]: history.timerLookahead cannot differ per namespace (it is a global setting)',
    );
  });

  it('refuses unknown keys with a suggestion', () => {
    refuses(() => parseConfigFile('hourglass.yaml', 'prot: 7233'), 'hourglass.yaml: unknown key "prot" (did you mean port?)');
    refuses(() => parseConfigFile('hourglass.yaml', 'db-filename: x.db'), 'hourglass.yaml: unknown key "db-filename" (did you mean dbFilename?)');
    refuses(
      () => parseConfigFile('hourglass.yaml', 'settings:\n  limit.blobSize.eror:\n    - value: 1'),
      'hourglass.yaml: settings: unknown setting "limit.blobSize.eror" (did you mean limit.blobSize.error?)',
    );
    refuses(
      () => parseConfigFile('hourglass.yaml', 'settings:\n  history.cacheMaxSzie:\n    - value: 1'),
      'hourglass.yaml: settings: unknown setting "history.cacheMaxSzie" (did you mean history.cacheMaxSize?)',
    );
    refuses(() => parseConfigFile('hourglass.yaml', 'settings:\n  no.such.thing:\n    - value: 1'), 'hourglass.yaml: settings: unknown setting "no.such.thing"');
    refuses(
      () => parseConfigFile('hourglass.yaml', 'settings:\n  limit.blobSize.error:\n    - value: 1\n      constraints: { namespaces: billing }'),
      'hourglass.yaml: settings.limit.blobSize.error[0].constraints: unknown key "namespaces" (did you mean namespace?)',
    );
  });

  it('names the file and line of a YAML syntax error, and refuses a file that is not a mapping', () => {
    refuses(() => parseConfigFile('hourglass.yaml', 'port: 7233\nip: [unclosed'), /^hourglass\.yaml: Flow sequence .* at line 2, column 14$/);
    refuses(() => parseConfigFile('hourglass.yaml', 'port: 7233\nport: 7234'), 'hourglass.yaml: Map keys must be unique at line 2, column 1');
    refuses(() => parseConfigFile('hourglass.yaml', '- port'), /^hourglass\.yaml: expected a mapping of options/);
    assert.deepEqual(parseConfigFile('empty.yaml', '').options, {}, 'an empty file sets nothing');
  });

  it('says which options store mysql still needs', () => {
    refuses(() => parseDevServerConfig({ store: 'mysql' }, {}), 'store mysql needs a cluster DSN (--mysql-cluster-dsn / HOURGLASS_MYSQL_CLUSTER_DSN)');
    // Shard databases may be left out: the cluster database recorded them when it was created.
    const file = parseConfigFile('h.yaml', 'store: mysql\nmysqlClusterDsn: mysql://root@127.0.0.1:3306/hg');
    assert.deepEqual(parseDevServerConfig({}, {}, file).mysqlShardDsns, []);
  });
});

describe('the TLS options', () => {
  it('serve TLS on 7234 by default, each option from its flag, env variable or file key', () => {
    assert.equal(DEV_DEFAULTS.tls, true);
    assert.equal(DEV_DEFAULTS.tlsPort, 7234);
    const file = parseConfigFile('hourglass.yaml', ['tlsPort: 1000', 'tlsCertFile: file.pem', 'tlsKeyFile: file-key.pem', 'tlsCaFile: file-ca.pem'].join('\n'));
    assert.equal(parseDevServerConfig({}, {}, file).tlsPort, 1000, 'the file beats the default');
    assert.equal(parseDevServerConfig({}, { HOURGLASS_TLS_PORT: '2000' }, file).tlsPort, 2000, 'env beats the file');
    assert.equal(parseDevServerConfig({ tlsPort: '0' }, { HOURGLASS_TLS_PORT: '2000' }, file).tlsPort, 0, 'the flag beats env; 0 picks a free port');
    const fromEnv = parseDevServerConfig({ tlsCertFile: 'flag.pem' }, { HOURGLASS_TLS_CERT_FILE: 'env.pem', HOURGLASS_TLS_KEY_FILE: 'env-key.pem' }, file);
    assert.deepEqual([fromEnv.tlsCertFile, fromEnv.tlsKeyFile, fromEnv.tlsCaFile], ['flag.pem', 'env-key.pem', 'file-ca.pem']);
  });

  it('turn TLS off with --no-tls, HOURGLASS_TLS=false or tls: false, the flag first', () => {
    assert.equal(parseDevServerConfig({ tls: false }, {}).tls, false);
    assert.equal(parseDevServerConfig({}, { HOURGLASS_TLS: 'false' }).tls, false);
    assert.equal(parseDevServerConfig({}, {}, parseConfigFile('h.yaml', 'tls: false')).tls, false);
    assert.equal(parseDevServerConfig({}, { HOURGLASS_TLS: 'true' }, parseConfigFile('h.yaml', 'tls: false')).tls, true, 'env beats the file');
    assert.equal(parseDevServerConfig({ tls: false }, { HOURGLASS_TLS: 'true' }).tls, false, 'the flag beats env');
    refuses(() => parseDevServerConfig({}, { HOURGLASS_TLS: 'off' }), 'invalid --no-tls / HOURGLASS_TLS: expected true or false, got "off"');
    refuses(() => parseConfigFile('h.yaml', 'tlsPort: 70000'), 'h.yaml: tlsPort: expected 0..65535, got 70000');
    refuses(() => parseDevServerConfig({}, { HOURGLASS_TLS_PORT: '-1' }), 'invalid --tls-port / HOURGLASS_TLS_PORT: expected 0..65535, got -1');
  });

  it('take a certificate and its key together or neither, naming the flags', () => {
    refuses(
      () => parseDevServerConfig({ tlsCertFile: 'server.pem' }, {}),
      '--tls-cert-file / HOURGLASS_TLS_CERT_FILE needs --tls-key-file / HOURGLASS_TLS_KEY_FILE too: give both (your certificate) or neither (generated development credentials)',
    );
    refuses(
      () => parseDevServerConfig({}, { HOURGLASS_TLS_KEY_FILE: 'server-key.pem' }),
      '--tls-key-file / HOURGLASS_TLS_KEY_FILE needs --tls-cert-file / HOURGLASS_TLS_CERT_FILE too: give both (your certificate) or neither (generated development credentials)',
    );
    refuses(() => parseDevServerConfig({ tlsCaFile: 'ca.pem' }, {}), /^--tls-ca-file \/ HOURGLASS_TLS_CA_FILE goes with --tls-cert-file \/ HOURGLASS_TLS_CERT_FILE and --tls-key-file/);
    const both = parseDevServerConfig({ tlsCertFile: 'server.pem', tlsKeyFile: 'server-key.pem', tlsCaFile: 'ca.pem' }, {});
    assert.deepEqual([both.tlsCertFile, both.tlsKeyFile, both.tlsCaFile], ['server.pem', 'server-key.pem', 'ca.pem']);
    // TLS off: its options are left alone (a file keeps its paths while HOURGLASS_TLS=false holds).
    assert.equal(parseDevServerConfig({ tlsCertFile: 'server.pem' }, { HOURGLASS_TLS: 'false' }).tlsCertFile, 'server.pem');
  });

  it('refuses the plaintext port as the TLS port', () => {
    refuses(
      () => parseDevServerConfig({ port: '7300', tlsPort: '7300' }, {}),
      'invalid --tls-port / HOURGLASS_TLS_PORT: 7300 is also the plaintext port (--port / HOURGLASS_PORT); give another, 0 for a free one, or --no-tls',
    );
    assert.equal(parseDevServerConfig({ port: '0', tlsPort: '0' }, {}).tlsPort, 0, 'two free ports');
    assert.equal(parseDevServerConfig({ port: '7234', tls: false }, {}).port, 7234, 'TLS off: its port is free to take');
  });
});

describe('the settings section', () => {
  it('parses overrides in the dynamic-config shape into a registry with namespace and task-queue scopes', () => {
    const { settings } = parseConfigFile(
      'hourglass.yaml',
      [
        'settings:',
        '  limit.blobSize.error:',
        '    - value: 2000000',
        '    - value: 1048576',
        '      constraints: { namespace: billing }',
        '  matching.longPollExpirationInterval:',
        '    - value: 30s',
        '      constraints: { namespace: default, taskQueue: orders }',
        '  history.timerLookahead:',
        '    - value: 2m',
      ].join('\n'),
    );
    assert.equal(settings.get(Limits.blobSizeError, { namespace: 'billing' }), 1048576, 'the namespace override');
    assert.equal(settings.get(Limits.blobSizeError, { namespace: 'orders' }), 2000000, 'the global override elsewhere');
    assert.equal(settings.get(Limits.blobSizeError), 2000000);
    assert.equal(settings.get(MatchingSettings.longPollExpirationInterval, { namespace: 'default', taskQueue: 'orders' }), 30_000);
    assert.equal(settings.get(MatchingSettings.longPollExpirationInterval, { namespace: 'default', taskQueue: 'other' }), MatchingSettings.longPollExpirationInterval.defaultValue);
    assert.equal(settings.get(HistorySettings.timerLookahead), 120_000);
    assert.equal(settings.get(HistorySettings.queryTimeout), HistorySettings.queryTimeout.defaultValue, 'untouched settings keep their default');
  });

  it('gives defaults only without a config file', () => {
    const { settings } = loadDevServerConfig({}, {});
    assert.equal(settings.get(Limits.blobSizeError, { namespace: 'billing' }), Limits.blobSizeError.defaultValue);
  });
});

describe('hourglass start configuration', () => {
  const mysql = { store: 'mysql', mysqlClusterDsn: 'mysql://root@127.0.0.1:3306/hg' };

  it('takes the roles, internal address and membership timing from flag > env > the cluster: section > default', () => {
    const file = parseConfigFile(
      'hourglass.yaml',
      ['mysqlClusterDsn: mysql://root@db/hg', 'port: 7300', 'dbFilename: ignored.db', 'cluster:', '  services: [history]', '  internalAddress: 0.0.0.0:7400', '  membershipTtlMs: 9000'].join('\n'),
    );
    const config = parseStartConfig({ membershipTtlMs: '6000' }, { HOURGLASS_SERVICES: 'matching, frontend', HOURGLASS_DB_FILENAME: 'x.db' }, file);
    assert.deepEqual(config.cluster.services, ['frontend', 'matching'], 'env beats the file; roles in their fixed order');
    assert.equal(config.cluster.membershipTtlMs, 6000, 'the flag beats the file');
    assert.equal(config.cluster.internalAddress, '0.0.0.0:7400', 'the file beats the default');
    assert.equal(config.cluster.membershipHeartbeatMs, CLUSTER_DEFAULTS.membershipHeartbeatMs);
    assert.equal(config.server.port, 7300, 'start-dev options it shares come from the top of the file');
    assert.equal(config.server.mysqlClusterDsn, 'mysql://root@db/hg');
    assert.equal(config.server.dbFilename, START_DEFAULTS.dbFilename, "start-dev's own options are neither read from the file nor from the env");
    assert.equal(config.server.tls, false, 'no generated TLS in a cluster');
    assert.equal(advertisedAddress(config.cluster, 7401), '127.0.0.1:7401', 'a wildcard bind is advertised on loopback with the bound port');
    assert.equal(advertisedAddress({ ...config.cluster, advertiseAddress: '10.0.0.5:7400' }, 7401), '10.0.0.5:7400');
    assert.deepEqual(parseStartConfig(mysql, {}).cluster, CLUSTER_DEFAULTS);
  });

  it('refuses unknown roles, other stores, generated TLS and a TTL shorter than two heartbeats, naming the option', () => {
    refuses(
      () => parseStartConfig({ ...mysql, services: 'frontend,histroy' }, {}),
      'invalid --services / HOURGLASS_SERVICES: unknown service "histroy" (did you mean history?): expected any of frontend, history, matching, indexer',
    );
    refuses(() => parseStartConfig(mysql, { HOURGLASS_SERVICES: ' , ' }), /^invalid --services \/ HOURGLASS_SERVICES: expected at least one of frontend, history, matching, indexer$/);
    refuses(() => parseStartConfig({ services: 'bogus' }, {}), /unknown service "bogus"/);
    refuses(() => parseStartConfig({ store: 'sqlite' }, {}), /^hourglass start needs --store \/ HOURGLASS_STORE mysql/);
    refuses(() => parseStartConfig({ ...mysql, tls: true }, {}), /^hourglass start serves TLS only with your certificate: give --tls-cert-file/);
    refuses(() => parseStartConfig({ ...mysql, membershipHeartbeatMs: 800, membershipTtlMs: 1000 }, {}), /^invalid --membership-ttl-ms \/ HOURGLASS_MEMBERSHIP_TTL_MS: 1000 ms must be at least twice/);
    refuses(() => parseStartConfig({ ...mysql, internalAddress: 'localhost' }, {}), 'invalid --internal-address / HOURGLASS_INTERNAL_ADDRESS: expected host:port (port 0..65535), got "localhost"');
    refuses(() => parseConfigFile('hourglass.yaml', 'cluster:\n  servces: [history]'), 'hourglass.yaml: cluster: unknown key "servces" (did you mean services?)');
    refuses(() => parseConfigFile('hourglass.yaml', 'cluster:\n  services: [history, indexr]'), /^hourglass\.yaml: cluster\.services: unknown service "indexr" \(did you mean indexer\?\)/);
  });

  it('leaves start-dev as it was: the cluster section is read but not used', () => {
    const file = parseConfigFile('hourglass.yaml', 'cluster:\n  services: [history]');
    assert.deepEqual(parseDevServerConfig({}, {}, file), DEV_DEFAULTS);
    assert.deepEqual(file.cluster, { services: ['history'] });
  });
});
