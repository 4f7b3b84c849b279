import {
  createConnection,
  createPool,
  TypedParameter,
  type Connection,
  type ConnectionOptions,
  type ExecuteValues,
  type Pool,
  type PoolConnection,
  type ResultSetHeader,
} from 'mysql2/promise';
import { escape as escapeString } from 'mysql2';
import {
  InvalidArgumentError,
  InvariantViolationError,
  UnavailableError,
  isHourglassError,
  type HourglassError,
} from '@hourglass/common';
import { ConditionFailedError } from '../errors';
import { mysqlAddress, type MysqlDsn } from './dsn';
import { DuplicateKeyError, MysqlConnectionError } from './errors';

/** A bind value. Numbers must be safe integers: they are sent as BIGINT (see `bind`). */
export type SqlParam = string | number | Buffer | null;

/** Runs prepared statements; a pool (autocommit) or one connection inside a transaction. */
export interface SqlExecutor {
  rows<T>(sql: string, params: readonly SqlParam[]): Promise<T[]>;
  run(sql: string, params: readonly SqlParam[]): Promise<ResultSetHeader>;
}

/** What this process sent to MySQL (every database, every pool), for benchmarks and the metrics endpoint. */
export interface MysqlTraffic {
  /** Requests that waited for the server's answer: one per statement, or one per multi-statement packet. */
  roundTrips: number;
  /** Statements in them (what the server's `Questions` counter counts). */
  statements: number;
}

const traffic: MysqlTraffic = { roundTrips: 0, statements: 0 };

/** A copy of this process's counts so far. */
export function mysqlTraffic(): MysqlTraffic {
  return { ...traffic };
}

function sent(statements: number): void {
  traffic.roundTrips += 1;
  traffic.statements += statements;
}

/**
 * Statements every pooled connection runs once, before any other.
 *
 * STRICT_ALL_TABLES: a too-long id fails (ER_DATA_TOO_LONG) instead of being silently truncated
 * into another execution's key.
 *
 * READ COMMITTED: every condition a write depends on is read with a locking read (`FOR UPDATE`
 * or `LOCK IN SHARE MODE`), which sees the latest committed row whatever the isolation level, or
 * is enforced by a unique key. What READ COMMITTED buys over REPEATABLE READ is that locking reads
 * of ABSENT rows (a workflow id's first current pointer, a run that does not exist yet) take no
 * gap locks: under REPEATABLE READ two starts of different workflow ids whose keys fall in the
 * same gap would each hold the gap and then deadlock on their inserts. Uniqueness of those absent
 * rows is enforced by the primary key instead (a racing insert gets ER_DUP_ENTRY).
 */
const SESSION_SETUP: readonly string[] = [
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO'",
  'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
];

/**
 * Cached prepared statements per connection. The server caps prepared statements GLOBALLY
 * (max_prepared_stmt_count, 16382 by default) across every connection of every host, so the
 * cache is kept small; statement shapes are bounded (see `IN_LIST_SIZES`, `MAX_ROWS_PER_INSERT`).
 */
const MAX_PREPARED_STATEMENTS_PER_CONNECTION = 128;

/** Errors that mean the connection, not the statement, failed. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_HOST_IS_BLOCKED',
  'ER_HOST_NOT_PRIVILEGED',
]);
const ACCESS_DENIED_CODES = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR']);
/** The server is alive but cannot take the statement right now (failover, kill). */
const TRANSIENT_CODES = new Set(['ER_QUERY_INTERRUPTED', 'ER_OPTION_PREVENTS_STATEMENT', 'ER_LOCK_WAIT_TIMEOUT', 'ER_QUERY_TIMEOUT']);

interface MysqlDriverError {
  code?: string;
  errno?: number;
  sqlMessage?: string;
  message?: string;
  fatal?: boolean;
}

/** One database (one DSN) behind a connection pool. */
export class MysqlDatabase implements SqlExecutor {
  readonly name: string;
  readonly address: string;
  private readonly pool: Pool;
  private closed = false;

  constructor(readonly dsn: MysqlDsn, poolSize: number) {
    this.name = dsn.database;
    this.address = mysqlAddress(dsn);
    this.pool = createPool({
      ...connectionOptions(dsn),
      database: dsn.database,
      connectionLimit: poolSize,
      maxIdle: poolSize,
      waitForConnections: true,
      maxPreparedStatements: MAX_PREPARED_STATEMENTS_PER_CONNECTION,
      enableKeepAlive: true,
      // Only `pipelined` sends text holding several statements, every value written by `literal`;
      // every other statement is prepared, and a prepared statement is always exactly one.
      multipleStatements: true,
    });
    // 'connection' fires before the new connection is handed to anyone, and a connection runs its
    // commands in order, so the setup statements run before the first real one.
    this.pool.pool.on('connection', (connection) => {
      for (const sql of SESSION_SETUP) {
        sent(1);
        connection.query(sql, (err: unknown, result: unknown) => {
          // The next statement on a destroyed connection fails as a connection error. A session
          // that still escapes without backslashes (the server refused our sql_mode) would read
          // the packets of `pipelined` differently from how they were escaped: never used.
          if (err || ((result as Partial<ResultSetHeader>).serverStatus ?? 0) & SERVER_STATUS_NO_BACKSLASH_ESCAPES) connection.destroy();
        });
      }
    });
  }

  async rows<T>(sql: string, params: readonly SqlParam[]): Promise<T[]> {
    try {
      return (await executeOn(this.pool.pool as unknown as CallbackExecutor, sql, params)) as T[];
    } catch (err) {
      throw translateMysqlError(err, this.dsn);
    }
  }

  async run(sql: string, params: readonly SqlParam[]): Promise<ResultSetHeader> {
    try {
      return (await executeOn(this.pool.pool as unknown as CallbackExecutor, sql, params)) as ResultSetHeader;
    } catch (err) {
      throw translateMysqlError(err, this.dsn);
    }
  }

  /**
   * Runs `body` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when
   * anything throws (the error is rethrown translated). A connection whose ROLLBACK fails is
   * destroyed rather than returned to the pool mid-transaction.
   */
  async transaction<T>(body: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let connection;
    try {
      connection = await this.pool.getConnection();
    } catch (err) {
      throw translateMysqlError(err, this.dsn);
    }
    let healthy = true;
    let committing = false;
    try {
      sent(1);
      await connection.beginTransaction();
      const result = await body(new ConnectionExecutor(connection, this.dsn));
      committing = true;
      sent(1);
      await connection.commit();
      return result;
    } catch (err) {
      try {
        sent(1);
        await connection.rollback();
      } catch {
        healthy = false;
      }
      throw translateMysqlError(err, this.dsn, { committing });
    } finally {
      if (healthy) connection.release();
      else connection.destroy();
    }
  }

  /**
   * Runs `body` in one transaction whose statements travel in multi-statement packets, one round
   * trip each (`PipelinedTransaction`): typically the locking reads with START TRANSACTION in
   * one, checks in JS, then every write with COMMIT in the other. When `body` throws, or a
   * statement fails (the server skips the rest of its packet, COMMIT included), the transaction is
   * rolled back, so nothing of it is written; a connection whose ROLLBACK fails is destroyed. When
   * `body` resolves without committing, an empty commit ends the transaction.
   */
  async pipelined<T>(body: (tx: PipelinedTransaction) => Promise<T>): Promise<T> {
    let connection: PoolConnection;
    try {
      connection = await this.pool.getConnection();
    } catch (err) {
      throw translateMysqlError(err, this.dsn);
    }
    const tx = new PipelinedTransaction((connection as unknown as { connection: TextExecutor }).connection, this.dsn);
    let healthy = true;
    try {
      const result = await body(tx);
      if (tx.open) await tx.commit([]);
      return result;
    } catch (err) {
      if (tx.open) {
        try {
          await tx.rollback();
        } catch {
          healthy = false;
        }
      }
      throw translateMysqlError(err instanceof StatementFailedError ? err.error : err, this.dsn, { committing: tx.committing });
    } finally {
      if (healthy) connection.release();
      else connection.destroy();
    }
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/**
 * The callback side of mysql2 (its core pool or connection). Statements go through it rather than
 * the promise wrapper, which captures a stack trace (`Error.captureStackTrace`) on every statement:
 * 6 % of a MySQL server's busy CPU in a profile of `make bench` (BENCHMARKS.md).
 */
interface CallbackExecutor {
  execute(sql: string, values: ExecuteValues[], callback: (err: Error | null, result: unknown) => void): void;
}

/** Executes a prepared statement on `target`; what the driver answers, or its error (a throw of `bind` too). */
function executeOn(target: CallbackExecutor, sql: string, params: readonly SqlParam[]): Promise<unknown> {
  sent(1);
  return new Promise((resolve, reject) => {
    target.execute(sql, bind(params), (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** A statement of a multi-statement packet: `?` placeholders, filled in client-side by `literal`. */
export interface Statement {
  sql: string;
  params?: readonly SqlParam[];
}

/**
 * A statement of a packet failed; the server ran none of the statements after it. `index` counts
 * the statements the caller passed to that call; `error` is the driver's error translated, `code`
 * the driver's code (ER_DUP_ENTRY...).
 */
export class StatementFailedError extends Error {
  constructor(
    readonly index: number,
    readonly error: HourglassError,
    readonly code: string,
  ) {
    super(error.message, { cause: error });
    this.name = 'StatementFailedError';
  }
}

/** The text-protocol side of mysql2's core connection. */
interface TextExecutor {
  query(sql: string, callback: (err: Error | null, result: unknown) => void): { on(event: 'fields', listener: () => void): unknown };
}

/** MariaDB and MySQL report this session state in the status flags of every OK packet. */
const SERVER_STATUS_NO_BACKSLASH_ESCAPES = 0x200;

/**
 * Packets of text statements (several per packet, over mysql2's text protocol) are split at this
 * size: well under max_allowed_packet (16 MiB by default on MariaDB), a statement larger than it
 * going alone. Bytes of binary values count twice (they travel as hex).
 */
const MAX_PACKET_BYTES = 4 * 1024 * 1024;

/**
 * One transaction on one connection, its statements sent as multi-statement packets (one round
 * trip per packet) with every value written into the text by `literal`. Lock order is the order
 * of the statements. Made by `MysqlDatabase.pipelined`, which rolls back on any failure.
 */
export class PipelinedTransaction {
  /** The transaction has begun and neither COMMIT nor ROLLBACK was sent yet. */
  open = false;
  /** The packet holding COMMIT was sent and did not fail before it: a lost connection leaves the outcome unknown. */
  committing = false;
  /** START TRANSACTION goes at the head of the next packet. */
  private beginPending = false;

  constructor(
    private readonly core: TextExecutor,
    private readonly dsn: MysqlDsn,
  ) {}

  /**
   * Begins the transaction with `statements`, in one round trip: their results in order (rows of
   * a SELECT, a ResultSetHeader otherwise). Without statements nothing is sent yet: START
   * TRANSACTION travels at the head of the next packet.
   */
  async begin(statements: readonly Statement[]): Promise<unknown[]> {
    if (this.open) throw new InvariantViolationError('the transaction has already begun');
    this.open = true;
    this.beginPending = true;
    return statements.length === 0 ? [] : this.sendText(statements.map(formatStatement));
  }

  /** More statements inside the transaction, one round trip. */
  async query(statements: readonly Statement[]): Promise<unknown[]> {
    if (!this.open) throw new InvariantViolationError('query outside a transaction');
    return this.sendText(statements.map(formatStatement));
  }

  /**
   * `statements` then COMMIT: one round trip, or more when they exceed MAX_PACKET_BYTES (only the
   * last packet holds COMMIT). Results of `statements` in order. A failing statement is reported
   * by its index in `statements`, COMMIT itself as `statements.length`.
   */
  async commit(statements: readonly Statement[]): Promise<unknown[]> {
    if (!this.open) throw new InvariantViolationError('commit outside a transaction');
    const texts = statements.map(formatStatement);
    const packets: number[][] = [[]];
    let bytes = 0;
    texts.forEach((text, i) => {
      const size = Buffer.byteLength(text);
      if (packets[packets.length - 1]!.length > 0 && bytes + size > MAX_PACKET_BYTES) {
        packets.push([]);
        bytes = 0;
      }
      packets[packets.length - 1]!.push(i);
      bytes += size;
    });
    const results: unknown[] = [];
    for (let p = 0; p < packets.length; p++) {
      const indexes = packets[p]!;
      const packet = indexes.map((i) => texts[i]!);
      if (p === packets.length - 1) {
        packet.push('COMMIT');
        this.committing = true;
      }
      try {
        results.push(...(await this.sendText(packet)).slice(0, indexes.length));
      } catch (err) {
        if (!(err instanceof StatementFailedError)) throw err;
        // A write failed and the server skipped the rest, COMMIT included: nothing is committed.
        if (err.index < indexes.length) {
          this.committing = false;
          throw new StatementFailedError(indexes[err.index]!, err.error, err.code);
        }
        throw new StatementFailedError(statements.length, err.error, err.code);
      }
    }
    this.open = false;
    return results;
  }

  async rollback(): Promise<void> {
    this.open = false;
    this.committing = false;
    if (this.beginPending) return; // nothing was sent
    await this.sendText(['ROLLBACK']);
  }

  /**
   * One round trip (START TRANSACTION ahead of `texts` when pending): the results of `texts`. A
   * failing statement is reported by its index in `texts`; a lost connection as itself.
   */
  private sendText(texts: readonly string[]): Promise<unknown[]> {
    const skip = this.beginPending ? 1 : 0;
    const all = skip ? ['START TRANSACTION', ...texts] : texts;
    this.beginPending = false;
    sent(all.length);
    const committing = this.committing;
    return new Promise((resolve, reject) => {
      // The driver reports 'fields' once per statement that answered (an OK packet or a result
      // set), so their count when an error arrives is the failing statement's index.
      let answered = 0;
      this.core
        .query(all.join(';\n'), (err, result) => {
          if (!err) {
            resolve((all.length === 1 ? [result] : (result as unknown[])).slice(skip));
            return;
          }
          const driver = err as MysqlDriverError;
          const lost = driver.fatal === true || CONNECTION_CODES.has(driver.code ?? '');
          // The outcome is unknown when the packet holding COMMIT lost its connection (the server
          // may have committed and the answer been lost), or when COMMIT itself failed.
          const unknown = committing && (lost || answered === all.length - 1);
          const translated = translateMysqlError(err, this.dsn, { committing: unknown });
          // START TRANSACTION failing is the transaction's failure, not a statement's.
          if (lost || answered < skip) reject(translated);
          else reject(new StatementFailedError(answered - skip, translated, driver.code ?? 'UNKNOWN'));
        })
        .on('fields', () => {
          answered += 1;
        });
    });
  }
}

/** What the guard statement raises when a condition does not hold. */
export const GUARD_FAILED = 'ER_SUBQUERY_NO_1_ROW';

/**
 * One statement that fails with ER_SUBQUERY_NO_1_ROW unless every condition (an SQL boolean
 * expression) is TRUE: its subquery returns a second row exactly then. (Plain SQL has no portable
 * way to raise an error; SIGNAL needs a stored program on MySQL.) Run after the locking reads of
 * the same rows, it reads what they locked: no other transaction can have changed them since.
 */
export function guardStatement(conditions: readonly Statement[]): Statement {
  return {
    sql: `SELECT 1 FROM DUAL WHERE (SELECT 1 UNION ALL SELECT 1 FROM DUAL WHERE (${conditions.map((c) => `(${c.sql})`).join(' AND ')}) IS NOT TRUE)`,
    params: conditions.flatMap((c) => c.params ?? []),
  };
}

/** `statement` with its values written in: the count of `?` must match. */
export function formatStatement(statement: Statement): string {
  const params = statement.params ?? [];
  const parts = statement.sql.split('?');
  if (parts.length - 1 !== params.length) {
    throw new InvariantViolationError(`statement has ${parts.length - 1} placeholders and ${params.length} values: ${oneLine(statement.sql).slice(0, 80)}`);
  }
  let text = parts[0]!;
  for (let i = 0; i < params.length; i++) text += literal(params[i]!) + parts[i + 1]!;
  return text;
}

/**
 * A value as an SQL literal. Strings are escaped with backslashes, which is right because every
 * pooled session runs without NO_BACKSLASH_ESCAPES (SESSION_SETUP sets its sql_mode, and a
 * session reporting the flag is destroyed); bytes are hex literals (exact, whatever they hold);
 * numbers must be safe integers, as for prepared statements.
 */
export function literal(param: SqlParam): string {
  if (param === null) return 'NULL';
  if (typeof param === 'number') {
    if (!Number.isSafeInteger(param)) throw new InvalidArgumentError(`expected an integer, got ${param}`);
    return String(param);
  }
  if (typeof param === 'string') return escapeString(param);
  if (Buffer.isBuffer(param)) return `X'${param.toString('hex')}'`;
  throw new InvalidArgumentError(`cannot write a ${typeof param} into SQL`);
}

export class ConnectionExecutor implements SqlExecutor {
  /** The pooled connection's core (callback) connection: mysql2 keeps it as `.connection`. */
  private readonly core: CallbackExecutor;

  constructor(connection: Connection, private readonly dsn: MysqlDsn) {
    this.core = (connection as unknown as { connection: CallbackExecutor }).connection;
  }

  async rows<T>(sql: string, params: readonly SqlParam[]): Promise<T[]> {
    try {
      return (await executeOn(this.core, sql, params)) as T[];
    } catch (err) {
      throw translateMysqlError(err, this.dsn);
    }
  }

  async run(sql: string, params: readonly SqlParam[]): Promise<ResultSetHeader> {
    try {
      return (await executeOn(this.core, sql, params)) as ResultSetHeader;
    } catch (err) {
      throw translateMysqlError(err, this.dsn);
    }
  }
}

/** Options shared by pools and the one-off connections of migrations. */
export function connectionOptions(dsn: MysqlDsn): ConnectionOptions {
  return {
    host: dsn.host,
    port: dsn.port,
    user: dsn.user,
    password: dsn.password,
    connectTimeout: dsn.connectTimeoutMs,
    ...(dsn.tls ? { ssl: { rejectUnauthorized: true } } : {}),
    multipleStatements: false,
    // Ids and times are BIGINT. With this pair the driver returns numbers while they are exact
    // and strings beyond 2^53, which `toInt` refuses instead of silently rounding.
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'UTF8MB4_BIN',
  };
}

/** A one-off connection (migrations, probes); `database` undefined connects to none. */
export async function connectMysql(dsn: MysqlDsn, database: string | undefined): Promise<Connection> {
  try {
    return await createConnection({ ...connectionOptions(dsn), ...(database === undefined ? {} : { database }) });
  } catch (err) {
    throw translateMysqlError(err, dsn);
  }
}

/**
 * Numbers go out as BIGINT, not the driver's default DOUBLE: exact for every safe integer, usable
 * by index range scans, and accepted by `LIMIT ?` on MySQL 8 (which rejects a DOUBLE there).
 */
function bind(params: readonly SqlParam[]): ExecuteValues[] {
  return params.map((param) => {
    if (typeof param !== 'number') return param;
    // Doubles come only from visibility queries (a Double search attribute compared with 1.5).
    if (Number.isFinite(param) && !Number.isInteger(param)) return TypedParameter.DOUBLE(param);
    if (!Number.isSafeInteger(param)) throw new InvalidArgumentError(`expected an integer, got ${param}`);
    return TypedParameter.BIGINT(param);
  });
}

/**
 * Turns a mysql2 error into the error taxonomy, one line naming host and database. Errors that
 * already belong to it (thrown by store code inside a transaction) pass through.
 */
export function translateMysqlError(err: unknown, dsn: MysqlDsn, context: { committing?: boolean } = {}): HourglassError {
  if (isHourglassError(err)) return err;
  const driver = (typeof err === 'object' && err !== null ? err : {}) as MysqlDriverError;
  const code = driver.code ?? 'UNKNOWN';
  const reason = oneLine(driver.sqlMessage ?? driver.message ?? String(err));
  const address = mysqlAddress(dsn);
  const where = `MySQL at ${address} (database ${dsn.database}, user ${dsn.user})`;
  const options = { cause: err };
  const unknownOutcome = context.committing ? '; the outcome of the commit is unknown' : '';

  if (code === 'ER_BAD_DB_ERROR') {
    return new MysqlConnectionError(`database ${dsn.database} does not exist on ${address}: run \`hourglass db migrate\``, address, dsn.database, options);
  }
  if (ACCESS_DENIED_CODES.has(code)) {
    return new MysqlConnectionError(`${where} denied access: ${reason}`, address, dsn.database, options);
  }
  if (CONNECTION_CODES.has(code) || driver.fatal === true) {
    return new MysqlConnectionError(`cannot reach ${where}: ${reason} (${code})${unknownOutcome}`, address, dsn.database, options);
  }
  switch (code) {
    case 'ER_DUP_ENTRY':
      return new DuplicateKeyError(`${where}: ${reason}`, duplicateKeyName(reason), options);
    case 'ER_LOCK_DEADLOCK':
      // InnoDB rolled the whole transaction back: nothing was written; a retry from a fresh read may succeed.
      return new ConditionFailedError(`${where}: the transaction lost a deadlock and was rolled back`, undefined, options);
    case 'ER_DATA_TOO_LONG':
      return new InvalidArgumentError(`a value is too long for the MySQL schema: ${reason}`, undefined, options);
    default:
      if (TRANSIENT_CODES.has(code)) return new UnavailableError(`${where}: ${reason} (${code})${unknownOutcome}`, undefined, options);
      return new InvariantViolationError(`${where}: ${reason} (${code})${unknownOutcome}`, undefined, options);
  }
}

/** "Duplicate entry 'x' for key 'name'" (MariaDB) or "... for key 'namespaces.name'" (MySQL 8) → "name". */
function duplicateKeyName(message: string): string {
  const match = /for key '(?:[^'.]*\.)?([^']*)'/.exec(message);
  return match?.[1] ?? 'PRIMARY';
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** BIGINT columns come back as numbers, or as strings past 2^53 (see connectionOptions). */
export function toInt(value: unknown, column: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvariantViolationError(`column ${column} holds ${String(value)}, not a safe integer`);
  return n;
}

/** VARBINARY key columns come back as Buffers; they always hold UTF-8 written by us. */
export function toText(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** A copy: the driver's Buffers may share memory with its network buffers. */
export function toBytes(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvariantViolationError(`expected a binary column, got ${typeof value}`);
  return new Uint8Array(value);
}

/** Binds bytes as BLOB without copying (a plain Uint8Array would be sent as a string). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Mirrors the SQLite backend: a caller bug must not turn into a full scan or an SQL error. */
export function checkLimit(limit: number, what = 'limit'): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`${what} must be a positive integer, got ${limit}`);
  }
}

/**
 * IN lists are padded (by repeating the last value) to one of these sizes, so a connection
 * prepares a handful of shapes instead of one statement per list length.
 */
const IN_LIST_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const MAX_IN_LIST = IN_LIST_SIZES[IN_LIST_SIZES.length - 1]!;

/** Splits `values` into padded chunks for `IN (...)` lists. */
export function inListChunks<T>(values: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < values.length; start += MAX_IN_LIST) {
    const chunk = values.slice(start, start + MAX_IN_LIST);
    const size = IN_LIST_SIZES.find((s) => s >= chunk.length)!;
    const last = chunk[chunk.length - 1]!;
    while (chunk.length < size) chunk.push(last);
    chunks.push(chunk);
  }
  return chunks;
}

/** `?, ?, ?` */
export function placeholders(count: number, group = '?'): string {
  return Array.from({ length: count }, () => group).join(', ');
}

const MAX_ROWS_PER_INSERT = 64;
/** Well under max_allowed_packet (16 MiB by default on MariaDB, 64 MiB on MySQL 8). */
const MAX_BYTES_PER_INSERT = 4 * 1024 * 1024;

/**
 * Groups rows for multi-row INSERTs: at most MAX_ROWS_PER_INSERT rows (bounded statement
 * shapes) and about MAX_BYTES_PER_INSERT bytes per statement. A single larger row gets its own.
 */
export function insertBatches<T>(rows: readonly T[], size: (row: T) => number): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    const rowBytes = size(row);
    if (batch.length > 0 && (batch.length >= MAX_ROWS_PER_INSERT || bytes + rowBytes > MAX_BYTES_PER_INSERT)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(row);
    bytes += rowBytes;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** A list of ids for a message, shortened when long. */
export function describeIds(ids: readonly number[]): string {
  const shown = ids.slice(0, 10).join(', ');
  return ids.length > 10 ? `[${shown}, … ${ids.length} in all]` : `[${shown}]`;
}
