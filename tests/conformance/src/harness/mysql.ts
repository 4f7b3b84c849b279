/**
 * MySQL mode for the conformance suite: with HOURGLASS_TEST_STORE=mysql every server the harness
 * starts gets its own fresh set of databases on the machine's MariaDB (a cluster database and
 * four shard databases, migrated with `hourglass db migrate`), dropped again on dispose.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';

const run = promisify(execFile);

export const MYSQL_URL = process.env.HOURGLASS_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const MYSQL_SHARD_DATABASES = 4;
/** Database names start with this and a random part; another prefix keeps two checkouts' runs apart on one server. */
const MYSQL_DATABASE_PREFIX = process.env.HOURGLASS_TEST_MYSQL_PREFIX ?? 'hgc_';

export type TestStore = 'sqlite' | 'mysql';

/** The store the suite runs on: HOURGLASS_TEST_STORE (sqlite by default). */
export function testStore(): TestStore {
  return process.env.HOURGLASS_TEST_STORE === 'mysql' ? 'mysql' : 'sqlite';
}

export interface TestDatabases {
  clusterDsn: string;
  shardDsns: string[];
  /** Flags for `hourglass start-dev`. */
  args: string[];
  drop(): Promise<void>;
}

/** Creates and migrates a fresh set of databases through the real `hourglass db migrate` command. */
export async function createTestDatabases(binPath: string): Promise<TestDatabases> {
  const prefix = `${MYSQL_DATABASE_PREFIX}${randomBytes(4).toString('hex')}`;
  const clusterDsn = `${MYSQL_URL}/${prefix}_cluster`;
  const shardDsns = Array.from({ length: MYSQL_SHARD_DATABASES }, (_, i) => `${MYSQL_URL}/${prefix}_shard_${i}`);
  await run(process.execPath, [binPath, 'db', 'migrate', '--cluster-dsn', clusterDsn, '--shard-dsn', ...shardDsns], { timeout: 60_000 });
  return {
    clusterDsn,
    shardDsns,
    args: ['--store', 'mysql', '--mysql-cluster-dsn', clusterDsn, '--mysql-shard-dsn', ...shardDsns],
    drop: async () => {
      const connection = await createConnection(MYSQL_URL);
      try {
        for (const name of [`${prefix}_cluster`, ...shardDsns.map((_, i) => `${prefix}_shard_${i}`)]) {
          await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
        }
      } finally {
        await connection.end();
      }
    },
  };
}
