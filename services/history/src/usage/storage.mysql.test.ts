/**
 * The storage metering and retention suite on the machine's MariaDB (two shard databases). Skips
 * loudly outside CI when MySQL is down; fails under CI=true.
 */
import { after, before } from 'node:test';
import { migrateMysql, mysqlAnswers, openMysqlPersistence } from '@hourglass/persistence';
import { createConnection } from 'mysql2/promise';
import { runStorageRetentionSuite } from '../testing/storage-retention-suite';

const MYSQL_URL = 'mysql://root@127.0.0.1:3306';
const PREFIX = `hg_storage_${process.pid}`;
const created: string[] = [];
let available = false;
let opened = 0;

before(async () => {
  available = await mysqlAnswers();
  if (!available && process.env.CI === 'true') throw new Error('MySQL does not answer on 127.0.0.1:3306 and CI=true: the storage retention test must run');
  if (!available) console.warn('!!! MySQL does not answer on 127.0.0.1:3306: SKIPPING the MySQL storage metering and retention test');
});

after(async () => {
  if (!available || created.length === 0) return;
  const c = await createConnection(MYSQL_URL);
  for (const db of created) await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await c.end();
});

runStorageRetentionSuite(
  'mysql',
  async (clock) => {
    // Every test gets empty databases of its own.
    const n = opened++;
    const cluster = `${PREFIX}_${n}_cluster`;
    const shards = [0, 1].map((i) => `${PREFIX}_${n}_shard_${i}`);
    created.push(cluster, ...shards);
    const clusterDsn = `${MYSQL_URL}/${cluster}`;
    const shardDsns = shards.map((db) => `${MYSQL_URL}/${db}`);
    await migrateMysql({ clusterDsn, shardDsns });
    return openMysqlPersistence({ clusterDsn, shardDsns, numHistoryShards: 2, clock });
  },
  () => available,
);
