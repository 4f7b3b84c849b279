/**
 * Test support for several history hosts on the machine's MariaDB: one cluster database and two
 * shard databases per test file (or suite), created before its tests and dropped after them, stores
 * that each open their own pools on them (as separate processes would) and history engines on those.
 * Skips loudly outside CI when MySQL is down; fails under CI=true.
 */
import { after, before } from 'node:test';
import { silentLogger, type Clock } from '@hourglass/common';
import { migrateMysql, mysqlAnswers, openMysqlPersistence, type Persistence } from '@hourglass/persistence';
import { createConnection } from 'mysql2/promise';
import { DEFAULT_HISTORY_CONFIG } from '../config';
import { HistoryEngine, type HistoryEngineDeps } from '../history-engine';
import { NamespaceRegistry } from '../namespace-registry';
import { RecordingMatching } from './engine-fixture';

const MYSQL_URL = 'mysql://root@127.0.0.1:3306';

export interface MysqlHistoryDatabases {
  /** False when MySQL does not answer (outside CI): the tests skip. Known once the `before` hook ran. */
  available(): boolean;
  /** A store of its own pools on the databases, as another process would open. */
  openStore(clock: Clock, options?: { poolSize?: number }): Promise<Persistence>;
  /**
   * A history engine (not started: start it, and its membership if any, yourself) on `persistence`,
   * with a recording matching and a silent logger unless `deps` says otherwise.
   */
  newEngine(persistence: Persistence, deps: { clock: Clock; hostIdentity: string } & Partial<HistoryEngineDeps>): { engine: HistoryEngine; namespaces: NamespaceRegistry };
}

/**
 * Registers `before`/`after` hooks in the calling suite that create (migrated) and drop the
 * databases `<prefix>_cluster`, `<prefix>_shard_0` and `<prefix>_shard_1`. `what` names the test
 * in the warning or the CI failure when MySQL is down.
 */
export function mysqlHistoryDatabases({ prefix, numHistoryShards, what }: { prefix: string; numHistoryShards: number; what: string }): MysqlHistoryDatabases {
  const databases = [`${prefix}_cluster`, `${prefix}_shard_0`, `${prefix}_shard_1`];
  const [clusterDsn, ...shardDsns] = databases.map((db) => `${MYSQL_URL}/${db}`) as [string, ...string[]];
  let available = false;
  before(async () => {
    available = await mysqlAnswers();
    if (!available && process.env.CI === 'true') throw new Error(`MySQL does not answer on 127.0.0.1:3306 and CI=true: the ${what} must run`);
    if (!available) {
      console.warn(`!!! MySQL does not answer on 127.0.0.1:3306: SKIPPING the ${what}`);
      return;
    }
    await migrateMysql({ clusterDsn, shardDsns });
  });
  after(async () => {
    if (!available) return;
    const c = await createConnection(MYSQL_URL);
    for (const db of databases) await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await c.end();
  });
  return {
    available: () => available,
    openStore: (clock, options = {}) => openMysqlPersistence({ clusterDsn, shardDsns, numHistoryShards, clock, ...options }),
    newEngine: (persistence, { hostIdentity, ...deps }) => {
      const namespaces = new NamespaceRegistry(persistence.namespaces, deps.clock);
      const engine = new HistoryEngine({
        persistence,
        namespaces,
        matching: new RecordingMatching(),
        config: { ...DEFAULT_HISTORY_CONFIG, numHistoryShards, hostIdentity },
        logger: silentLogger(),
        ...deps,
      });
      return { engine, namespaces };
    },
  };
}
