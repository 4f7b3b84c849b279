/**
 * The server refuses to start on a broken MySQL configuration, with one clear line that names the
 * problem: a malformed DSN, an unreachable database server, a schema that was never migrated.
 * Needs the machine's MariaDB; outside CI the MySQL-backed cases skip loudly when it is down.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createConnection } from 'mysql2/promise';
import { mysqlAnswers } from '@hourglass/persistence';

const run = promisify(execFile);
const BIN = path.join(__dirname, 'bin.js');
const MYSQL_URL = 'mysql://root@127.0.0.1:3306';
const DB = `hg_startup_${process.pid}`;


/** Runs `hourglass <args>` expecting it to fail; returns its exit code and stderr lines. */
async function failingStart(args: string[]): Promise<{ code: number; lines: string[] }> {
  try {
    await run(process.execPath, [BIN, ...args], { timeout: 30_000 });
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, lines: (e.stderr ?? '').trim().split('\n').filter(Boolean) };
  }
  throw new Error(`hourglass ${args.join(' ')} started although it should have refused`);
}

const startArgs = (cluster: string, shards: string[]): string[] => [
  'start-dev',
  '--port',
  '0',
  '--tls-port',
  '0',
  '--log-level',
  'silent',
  '--store',
  'mysql',
  '--mysql-cluster-dsn',
  cluster,
  '--mysql-shard-dsn',
  ...shards,
];

describe('startup checks for the MySQL store', () => {
  it('refuses a malformed DSN with one line naming it', async () => {
    const { code, lines } = await failingStart(startArgs('not-a-dsn', ['mysql://root@127.0.0.1:3306/x']));
    assert.notEqual(code, 0);
    assert.equal(lines.length, 1, `one line, got:\n${lines.join('\n')}`);
    assert.match(lines[0] ?? '', /not-a-dsn/);
  });

  it('refuses an unreachable database server with one line naming the host', async () => {
    const { code, lines } = await failingStart(startArgs('mysql://root@127.0.0.1:1/hg_cluster', ['mysql://root@127.0.0.1:1/hg_shard_0']));
    assert.notEqual(code, 0);
    assert.equal(lines.length, 1, `one line, got:\n${lines.join('\n')}`);
    assert.match(lines[0] ?? '', /127\.0\.0\.1:1/);
  });

  it('refuses store mysql without DSNs', async () => {
    const { code, lines } = await failingStart(['start-dev', '--port', '0', '--store', 'mysql']);
    assert.equal(code, 2);
    assert.match(lines.join('\n'), /cluster DSN/);
  });

  describe('against MariaDB', () => {
    let available = false;
    before(async () => {
      available = await mysqlAnswers();
      if (!available && process.env.CI === 'true') throw new Error('MySQL does not answer on 127.0.0.1:3306 and CI=true: these tests must run');
      if (!available) console.warn('!!! MySQL does not answer on 127.0.0.1:3306: skipping the schema startup checks');
    });
    after(async () => {
      if (!available) return;
      const c = await createConnection(MYSQL_URL);
      for (const name of [`${DB}_cluster`, `${DB}_shard_0`]) await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    });

    it('refuses a schema that was never migrated, telling how to fix it; starts after `db migrate`', async (t) => {
      if (!available) return t.skip('MySQL unavailable');
      const c = await createConnection(MYSQL_URL);
      for (const name of [`${DB}_cluster`, `${DB}_shard_0`]) await c.query(`CREATE DATABASE IF NOT EXISTS \`${name}\``);
      await c.end();
      const cluster = `${MYSQL_URL}/${DB}_cluster`;
      const shard = `${MYSQL_URL}/${DB}_shard_0`;
      const { code, lines } = await failingStart(startArgs(cluster, [shard]));
      assert.notEqual(code, 0);
      assert.equal(lines.length, 1, `one line, got:\n${lines.join('\n')}`);
      assert.match(lines[0] ?? '', /hourglass db migrate/);
      const migrated = await run(process.execPath, [BIN, 'db', 'migrate', '--cluster-dsn', cluster, '--shard-dsn', shard], { timeout: 60_000 });
      assert.match(migrated.stdout, /up to date/);
      const again = await run(process.execPath, [BIN, 'db', 'migrate', '--cluster-dsn', cluster, '--shard-dsn', shard], { timeout: 60_000 });
      assert.match(again.stdout, /up to date/, 'migrate is idempotent');
    });
  });
});
