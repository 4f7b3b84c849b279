import type { HeartbeatOutcome, HostJoin, HostRecord, HostRole } from '@hourglass/common';
import { checkHost, checkTtl } from '../store-checks';
import type { MembershipStore } from '../types';
import { toInt, toText, type MysqlDatabase, type SqlExecutor } from './sql';

/**
 * The server's clock in ms since the epoch, whatever the session's time zone: UTC_TIMESTAMP is
 * zone-free and TIMESTAMPDIFF plain arithmetic (UNIX_TIMESTAMP(NOW()) would be off by an hour in
 * the repeated hour of a DST change). Every heartbeat and every liveness check uses it, so the
 * hosts' own clocks never matter; only the database server's, which is one clock.
 */
const SERVER_NOW_MS = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000";

interface HostRow {
  role: Buffer;
  host_id: Buffer;
  address: Buffer;
  session_id: Buffer;
  started_at: number;
  last_heartbeat_at: number;
}

const COLUMNS = 'role, host_id, address, session_id, started_at, last_heartbeat_at';

/** The membership registry in the cluster database. */
export class MysqlMembershipStore implements MembershipStore {
  constructor(private readonly db: MysqlDatabase) {}

  async upsertHost(host: HostJoin): Promise<HostRecord> {
    checkHost(host);
    return this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO cluster_hosts (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ${SERVER_NOW_MS})
         ON DUPLICATE KEY UPDATE address = VALUES(address), session_id = VALUES(session_id), started_at = VALUES(started_at), last_heartbeat_at = VALUES(last_heartbeat_at)`,
        [host.role, host.hostId, host.address, host.sessionId, host.startedAt],
      );
      // Our own uncommitted row: the upsert's lock keeps every other writer off it.
      const [row] = await tx.rows<HostRow>(`SELECT ${COLUMNS} FROM cluster_hosts WHERE role = ? AND host_id = ?`, [host.role, host.hostId]);
      return toHost(row!);
    });
  }

  async heartbeatHost(role: HostRole, hostId: string, sessionId: string): Promise<HeartbeatOutcome> {
    // affectedRows counts matched rows (the driver sets CLIENT_FOUND_ROWS), so a heartbeat in the same millisecond is still 1.
    const result = await this.db.run(`UPDATE cluster_hosts SET last_heartbeat_at = ${SERVER_NOW_MS} WHERE role = ? AND host_id = ? AND session_id = ?`, [role, hostId, sessionId]);
    if (result.affectedRows === 1) return 'ok';
    const [row] = await this.db.rows<{ session_id: Buffer }>('SELECT session_id FROM cluster_hosts WHERE role = ? AND host_id = ?', [role, hostId]);
    return row ? 'superseded' : 'missing';
  }

  async listLiveHosts(role: HostRole, ttlMs: number): Promise<{ now: number; hosts: HostRecord[] }> {
    checkTtl(ttlMs);
    const now = await serverNow(this.db);
    const rows = await this.db.rows<HostRow>(`SELECT ${COLUMNS} FROM cluster_hosts WHERE role = ? AND last_heartbeat_at >= ? ORDER BY host_id`, [role, now - ttlMs]);
    return { now, hosts: rows.map(toHost) };
  }

  async removeHost(role: HostRole, hostId: string, sessionId: string): Promise<boolean> {
    const result = await this.db.run('DELETE FROM cluster_hosts WHERE role = ? AND host_id = ? AND session_id = ?', [role, hostId, sessionId]);
    return result.affectedRows === 1;
  }

  async pruneHosts(olderThanMs: number): Promise<number> {
    checkTtl(olderThanMs);
    const result = await this.db.run(`DELETE FROM cluster_hosts WHERE last_heartbeat_at < ${SERVER_NOW_MS} - ?`, [olderThanMs]);
    return result.affectedRows;
  }
}

async function serverNow(db: SqlExecutor): Promise<number> {
  const [row] = await db.rows<{ now_ms: number | string }>(`SELECT ${SERVER_NOW_MS} AS now_ms`, []);
  return toInt(row!.now_ms, 'server time');
}

function toHost(row: HostRow): HostRecord {
  return {
    role: toText(row.role) as HostRole,
    hostId: toText(row.host_id),
    address: toText(row.address),
    sessionId: toText(row.session_id),
    startedAt: toInt(row.started_at, 'cluster_hosts.started_at'),
    lastHeartbeatAt: toInt(row.last_heartbeat_at, 'cluster_hosts.last_heartbeat_at'),
  };
}
