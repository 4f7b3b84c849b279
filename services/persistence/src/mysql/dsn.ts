import { InvalidArgumentError } from '@hourglass/common';

/** One MySQL database, as named by a DSN. */
export interface MysqlDsn {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Milliseconds to wait for a connection to be established. */
  connectTimeoutMs: number;
  /** TLS with the server certificate verified against the system CAs. */
  tls: boolean;
}

const DEFAULT_PORT = 3306;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/**
 * Database names are interpolated into `CREATE DATABASE` (identifiers cannot be bound), so only
 * the characters MySQL accepts unquoted are allowed; 64 is MySQL's identifier limit.
 */
const DATABASE_NAME = /^[A-Za-z0-9_$]{1,64}$/;

/**
 * Parses `mysql://user[:password]@host[:port]/database[?connectTimeout=ms&tls=true]`
 * (`mariadb://` is accepted too). User and password are percent-decoded.
 *
 * @example
 * parseMysqlDsn('mysql://hourglass:s3cret@db-1.internal:3306/hourglass_shard_0');
 * // → { host: 'db-1.internal', port: 3306, user: 'hourglass', password: 's3cret', database: 'hourglass_shard_0', ... }
 */
export function parseMysqlDsn(dsn: string): MysqlDsn {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`invalid MySQL DSN ${JSON.stringify(redactDsn(dsn))}: ${why}`);
  };
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    return fail('expected mysql://user:password@host:port/database');
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') fail(`scheme must be mysql://, got ${url.protocol}//`);
  // WHATWG URL keeps IPv6 literals bracketed; the socket layer wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') fail('it names no host');
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  const user = decodeURIComponent(url.username);
  if (user === '') fail('it names no user (mysql://USER@host/database)');
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '') fail('it names no database (mysql://user@host/DATABASE)');
  if (!DATABASE_NAME.test(database)) fail(`database name ${JSON.stringify(database)} must be 1-64 characters of A-Z, a-z, 0-9, _ and $`);

  let connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
  let tls = false;
  for (const [name, value] of url.searchParams) {
    if (name === 'connectTimeout') {
      connectTimeoutMs = Number(value);
      if (!Number.isSafeInteger(connectTimeoutMs) || connectTimeoutMs < 1) fail(`connectTimeout must be a positive number of milliseconds, got ${JSON.stringify(value)}`);
    } else if (name === 'tls') {
      if (value !== 'true' && value !== 'false') fail(`tls must be true or false, got ${JSON.stringify(value)}`);
      tls = value === 'true';
    } else {
      fail(`unknown parameter ${JSON.stringify(name)} (supported: connectTimeout, tls)`);
    }
  }
  return { host, port, user, password: decodeURIComponent(url.password), database, connectTimeoutMs, tls };
}

/** host:port, with IPv6 literals bracketed. */
export function mysqlAddress(dsn: Pick<MysqlDsn, 'host' | 'port'>): string {
  return dsn.host.includes(':') ? `[${dsn.host}]:${dsn.port}` : `${dsn.host}:${dsn.port}`;
}

/** The DSN without its password, for messages and logs. */
export function describeMysqlDsn(dsn: MysqlDsn): string {
  return `mysql://${encodeURIComponent(dsn.user)}@${mysqlAddress(dsn)}/${dsn.database}`;
}

/** Identity of a database for pooling: two DSNs that differ only in spelling share a pool. */
export function mysqlDsnKey(dsn: MysqlDsn): string {
  return JSON.stringify([dsn.host.toLowerCase(), dsn.port, dsn.user, dsn.password, dsn.database, dsn.connectTimeoutMs, dsn.tls]);
}

/** Best effort for a string that may not even parse: blank out anything between ':' and '@' of the authority. */
function redactDsn(dsn: string): string {
  return dsn.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/**
 * The DSN as the cluster database records it: everything needed to connect again except the
 * password, which is never stored. Parses back to the same database with `parseMysqlDsn`.
 */
export function recordableMysqlDsn(dsn: MysqlDsn): string {
  const params = new URLSearchParams();
  if (dsn.connectTimeoutMs !== DEFAULT_CONNECT_TIMEOUT_MS) params.set('connectTimeout', String(dsn.connectTimeoutMs));
  if (dsn.tls) params.set('tls', 'true');
  const query = params.toString();
  return `${describeMysqlDsn(dsn)}${query ? `?${query}` : ''}`;
}
