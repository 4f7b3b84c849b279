import type Database from 'better-sqlite3';
import { liveHosts, type Clock, type HeartbeatOutcome, type HostJoin, type HostRecord, type HostRole } from '@hourglass/common';
import { checkHost, checkTtl } from '../store-checks';
import type { MembershipStore } from '../types';
import type { SqliteLane } from './sql';

interface HostRow {
  role: HostRole;
  host_id: string;
  address: string;
  session_id: string;
  started_at: number;
  last_heartbeat_at: number;
}

const COLUMNS = 'role, host_id, address, session_id, started_at, last_heartbeat_at';

/** The membership registry of the embedded store: one process holds the file, so its clock is the only one. */
export class SqliteMembershipStore implements MembershipStore {
  private readonly sql;

  constructor(db: Database.Database, private readonly lane: SqliteLane, private readonly clock: Clock) {
    this.sql = {
      upsert: db.prepare<[HostRow], HostRow>(
        `INSERT INTO cluster_hosts (${COLUMNS}) VALUES (@role, @host_id, @address, @session_id, @started_at, @last_heartbeat_at)
         ON CONFLICT (role, host_id) DO UPDATE SET address = excluded.address, session_id = excluded.session_id,
           started_at = excluded.started_at, last_heartbeat_at = excluded.last_heartbeat_at
         RETURNING ${COLUMNS}`,
      ),
      session: db.prepare<[HostRole, string], string>('SELECT session_id FROM cluster_hosts WHERE role = ? AND host_id = ?').pluck(),
      heartbeat: db.prepare<[number, HostRole, string, string]>('UPDATE cluster_hosts SET last_heartbeat_at = ? WHERE role = ? AND host_id = ? AND session_id = ?'),
      ofRole: db.prepare<[HostRole], HostRow>(`SELECT ${COLUMNS} FROM cluster_hosts WHERE role = ?`),
      remove: db.prepare<[HostRole, string, string]>('DELETE FROM cluster_hosts WHERE role = ? AND host_id = ? AND session_id = ?'),
      prune: db.prepare<[number]>('DELETE FROM cluster_hosts WHERE last_heartbeat_at < ?'),
    };
  }

  async upsertHost(host: HostJoin): Promise<HostRecord> {
    checkHost(host);
    return this.lane.run(() => toHost(this.sql.upsert.get({ ...rowOf(host), last_heartbeat_at: this.clock.now() })!));
  }

  heartbeatHost(role: HostRole, hostId: string, sessionId: string): Promise<HeartbeatOutcome> {
    return this.lane.run(() => {
      if (this.sql.heartbeat.run(this.clock.now(), role, hostId, sessionId).changes === 1) return 'ok';
      return this.sql.session.get(role, hostId) === undefined ? 'missing' : 'superseded';
    });
  }

  async listLiveHosts(role: HostRole, ttlMs: number): Promise<{ now: number; hosts: HostRecord[] }> {
    checkTtl(ttlMs);
    return this.lane.run(() => {
      const now = this.clock.now();
      return { now, hosts: liveHosts(this.sql.ofRole.all(role).map(toHost), now, ttlMs) };
    });
  }

  removeHost(role: HostRole, hostId: string, sessionId: string): Promise<boolean> {
    return this.lane.run(() => this.sql.remove.run(role, hostId, sessionId).changes === 1);
  }

  async pruneHosts(olderThanMs: number): Promise<number> {
    checkTtl(olderThanMs);
    return this.lane.run(() => this.sql.prune.run(this.clock.now() - olderThanMs).changes);
  }
}

function rowOf(host: HostJoin): Omit<HostRow, 'last_heartbeat_at'> {
  return { role: host.role, host_id: host.hostId, address: host.address, session_id: host.sessionId, started_at: host.startedAt };
}

function toHost(row: HostRow): HostRecord {
  return { hostId: row.host_id, role: row.role, address: row.address, sessionId: row.session_id, startedAt: row.started_at, lastHeartbeatAt: row.last_heartbeat_at };
}
