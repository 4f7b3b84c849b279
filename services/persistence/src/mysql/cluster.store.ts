import { InvalidArgumentError, InvariantViolationError, quote } from '@hourglass/common';
import { StoreMismatchError } from '../errors';
import { checkRecordedNumHistoryShards, newClusterMetadata } from '../store-checks';
import type { ClusterMetadata, ClusterStore, ShardDatabaseRecord } from '../types';
import { describeMysqlDsn, parseMysqlDsn, recordableMysqlDsn, type MysqlDsn } from './dsn';
import { DuplicateKeyError } from './errors';
import { toInt, toText, type MysqlDatabase, type SqlExecutor } from './sql';

export class MysqlClusterStore implements ClusterStore {
  constructor(private readonly db: MysqlDatabase) {}

  async getClusterMetadata(): Promise<ClusterMetadata> {
    const { metadata, shardDatabases } = await readClusterRecord(this.db, false);
    // openMysqlPersistence records it before handing the store out.
    if (!metadata) throw new InvariantViolationError(`database ${this.db.name} has no cluster metadata`);
    return { ...metadata, shardDatabases };
  }
}

/** What the cluster database holds about the cluster; `metadata` is absent before its first open. */
export interface ClusterRecord {
  metadata: ClusterMetadata | undefined;
  shardDatabases: ShardDatabaseRecord[];
}

/** `lock`: inside a transaction that may write them (FOR UPDATE). */
export async function readClusterRecord(db: SqlExecutor, lock: boolean): Promise<ClusterRecord> {
  const forUpdate = lock ? ' FOR UPDATE' : '';
  const [row] = await db.rows<{ data: string }>(`SELECT data FROM cluster_metadata WHERE id = 1${forUpdate}`, []);
  const rows = await db.rows<{ shard_database_index: number; database_id: Buffer; dsn: string }>(
    `SELECT shard_database_index, database_id, dsn FROM cluster_shard_databases ORDER BY shard_database_index${forUpdate}`,
    [],
  );
  return {
    metadata: row && pickMetadata(JSON.parse(row.data) as ClusterMetadata),
    shardDatabases: rows.map((r) => ({
      index: toInt(r.shard_database_index, 'cluster_shard_databases.shard_database_index'),
      databaseId: toText(r.database_id),
      dsn: r.dsn,
    })),
  };
}

/** A shard database about to be opened: where it is and who it says it is. */
export interface ShardDatabaseToOpen {
  dsn: MysqlDsn;
  databaseId: string;
}

/**
 * The shard databases to open: the given ones, or else the recorded ones with the cluster DSN's
 * password (the cluster database never stores a password).
 */
export function shardDsnsToOpen(cluster: MysqlDsn, given: MysqlDsn[] | undefined, recorded: readonly ShardDatabaseRecord[]): MysqlDsn[] {
  if (given) return given;
  if (recorded.length === 0) {
    throw new InvalidArgumentError(`the cluster in database ${cluster.database} has no recorded shard databases yet: give the shard database DSNs`);
  }
  return recorded.map((record) => ({ ...parseMysqlDsn(record.dsn), password: cluster.password }));
}

/** The identity `hourglass db migrate` wrote into a shard database. */
export async function readShardDatabaseIdentity(db: SqlExecutor, database: string): Promise<string> {
  const [row] = await db.rows<{ database_id: Buffer }>('SELECT database_id FROM shard_database_identity WHERE id = 1', []);
  if (!row) {
    throw new StoreMismatchError(`database ${database} has no shard database identity (its shard_database_identity row is gone): it cannot be recognised`);
  }
  return toText(row.database_id);
}

export interface ClusterOpening {
  /** Given to open; undefined: the recorded one (or the default for a new cluster). */
  numHistoryShards: number | undefined;
  shards: ShardDatabaseToOpen[];
  /** Whether `shards` came from the caller (then changed DSNs of known databases are recorded). */
  shardsGiven: boolean;
  now: number;
}

/**
 * Records a new cluster (its metadata and shard databases), or checks an existing one against
 * what the opener brings: the same shard count if one was given, and the same shard databases,
 * by identity, in the same order. A cluster created before shard databases were recorded adopts
 * the given list. Concurrent first opens are settled by the primary key: the loser checks
 * against the winner.
 */
export async function recordOrCheckCluster(db: MysqlDatabase, opening: ClusterOpening): Promise<ClusterMetadata> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(async (tx) => {
        const { metadata, shardDatabases } = await readClusterRecord(tx, true);
        if (!metadata) {
          const created = newClusterMetadata(opening.numHistoryShards, opening.now);
          await tx.run('INSERT INTO cluster_metadata (id, data) VALUES (1, ?)', [JSON.stringify(created)]);
          return { ...created, shardDatabases: await writeShardDatabases(tx, opening.shards) };
        }
        checkRecordedNumHistoryShards(metadata, opening.numHistoryShards);
        if (shardDatabases.length === 0) return { ...metadata, shardDatabases: await writeShardDatabases(tx, opening.shards) };
        checkShardDatabases(opening.shards, shardDatabases);
        if (!opening.shardsGiven) return { ...metadata, shardDatabases };
        // Same databases; a host or user may have changed. Record where they are now.
        const current = opening.shards.map((shard, index) => ({ index, databaseId: shard.databaseId, dsn: recordableMysqlDsn(shard.dsn) }));
        for (const record of current) {
          if (record.dsn !== shardDatabases[record.index]!.dsn) {
            await tx.run('UPDATE cluster_shard_databases SET dsn = ? WHERE shard_database_index = ?', [record.dsn, record.index]);
          }
        }
        return { ...metadata, shardDatabases: current };
      });
    } catch (err) {
      if (err instanceof DuplicateKeyError && attempt === 1) continue;
      throw err;
    }
  }
}

/** Replaces the recorded list (a new cluster, an old one adopting its list, or a deliberate change). */
export async function writeShardDatabases(tx: SqlExecutor, shards: readonly ShardDatabaseToOpen[]): Promise<ShardDatabaseRecord[]> {
  const records = shards.map((shard, index) => ({ index, databaseId: shard.databaseId, dsn: recordableMysqlDsn(shard.dsn) }));
  await tx.run('DELETE FROM cluster_shard_databases', []);
  for (const record of records) {
    await tx.run('INSERT INTO cluster_shard_databases (shard_database_index, database_id, dsn) VALUES (?, ?, ?)', [
      record.index,
      record.databaseId,
      record.dsn,
    ]);
  }
  return records;
}

/**
 * The shard databases must be the recorded ones, by identity, in the recorded order: a missing
 * one would hide its workflows, an extra or reordered one would route shards to databases that do
 * not hold them. Refused with one line naming the first difference.
 */
export function checkShardDatabases(given: readonly ShardDatabaseToOpen[], recorded: readonly ShardDatabaseRecord[]): void {
  const describeRecorded = (record: ShardDatabaseRecord): string => quote(describeMysqlDsn(parseMysqlDsn(record.dsn)));
  const describeGiven = (shard: ShardDatabaseToOpen): string => quote(describeMysqlDsn(shard.dsn));
  const indexOf = (databaseId: string): number => recorded.findIndex((record) => record.databaseId === databaseId);

  if (given.length !== recorded.length) {
    const missing = recorded.filter((record) => !given.some((shard) => shard.databaseId === record.databaseId));
    const extra = given.filter((shard) => indexOf(shard.databaseId) < 0);
    const differences = [
      ...missing.map((record) => `its shard database ${record.index} (${describeRecorded(record)}) is missing`),
      ...extra.map((shard) => `${describeGiven(shard)} is not one of its databases`),
    ];
    const detail = differences.length > 0 ? differences.join('; ') : `its shard databases are ${recorded.map(describeRecorded).join(', ')}`;
    throw new StoreMismatchError(`${given.length} shard databases given, this cluster has ${recorded.length}: ${detail}`);
  }
  given.forEach((shard, i) => {
    const record = recorded[i]!;
    if (shard.databaseId === record.databaseId) return;
    const elsewhere = indexOf(shard.databaseId);
    let detail: string;
    if (elsewhere >= 0) detail = `${describeGiven(shard)} is its shard database ${elsewhere}`;
    else if (describeMysqlDsn(shard.dsn) === describeMysqlDsn(parseMysqlDsn(record.dsn))) {
      detail = `same name, another database: identity ${shard.databaseId}, the cluster recorded ${record.databaseId}`;
    } else detail = `${describeGiven(shard)} is not one of its databases`;
    throw new StoreMismatchError(`shard database ${i} is ${describeGiven(shard)} but this cluster's shard database ${i} is ${describeRecorded(record)} (${detail})`);
  });
}

function pickMetadata(data: ClusterMetadata): ClusterMetadata {
  return { clusterName: data.clusterName, numHistoryShards: data.numHistoryShards, createdAt: data.createdAt };
}
