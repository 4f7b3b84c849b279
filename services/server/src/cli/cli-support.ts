/**
 * What every `hourglass workflow` and `hourglass operator` command shares: the connection options
 * of the temporal CLI (flags, and the TEMPORAL_* variables), the client built on the official
 * @temporalio/client, output as a table for people or JSON for scripts, and failures as one line on
 * stderr with an exit code: 2 for a command line that cannot run (a missing flag, input that is not
 * JSON), 1 for a call the server refused or a server that cannot be reached.
 */
import { readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { InvalidArgumentError, Option, type Command } from 'commander';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure the command reports in one line, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export type OutputFormat = 'table' | 'json';

export interface ConnectionFlags {
  address: string;
  namespace: string;
  apiKey?: string;
  /** true: --tls, false: --no-tls, undefined: TLS when a key or a TLS file is given. */
  tls?: boolean;
  tlsCaFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsServerName?: string;
  output: OutputFormat;
}

/** `--tls` alone, or a true/false value (TEMPORAL_TLS=false must mean off, as in the temporal CLI). */
function parseBoolean(value: string | undefined): boolean {
  if (value === undefined) return true;
  const text = value.toLowerCase();
  if (['true', '1', 'yes'].includes(text)) return true;
  if (['false', '0', 'no'].includes(text)) return false;
  throw new InvalidArgumentError(`expected true or false, got ${JSON.stringify(value.slice(0, 40))} (an argument after --tls? put it before)`);
}

/** Adds the connection and output options (temporal CLI spelling and variables) to a command. */
export function withConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--address <host:port>', 'the Hourglass (Temporal) gRPC endpoint').env('TEMPORAL_ADDRESS').default('127.0.0.1:7233'))
    .addOption(new Option('-n, --namespace <name>', 'the namespace').env('TEMPORAL_NAMESPACE').default('default'))
    .addOption(new Option('--api-key <key>', 'API key, sent as "authorization: Bearer <key>" (turns TLS on unless --no-tls)').env('TEMPORAL_API_KEY'))
    .addOption(new Option('--tls [enabled]', 'connect with TLS (the system CAs unless --tls-ca-file); TEMPORAL_TLS=false turns it off').env('TEMPORAL_TLS').argParser(parseBoolean))
    .addOption(new Option('--no-tls', 'connect in plaintext even with an API key (start-dev accepts keys on its plaintext port)'))
    .addOption(new Option('--tls-ca-file <pem>', 'trust this CA (start-dev: .hourglass/tls/ca.pem); implies --tls').env('TEMPORAL_TLS_CA_PATH'))
    .addOption(new Option('--tls-cert-file <pem>', 'client certificate for mutual TLS; implies --tls').env('TEMPORAL_TLS_CLIENT_CERT_PATH'))
    .addOption(new Option('--tls-key-file <pem>', 'private key of --tls-cert-file').env('TEMPORAL_TLS_CLIENT_KEY_PATH'))
    .addOption(new Option('--tls-server-name <name>', 'the name the server certificate must have (default: the host of --address)').env('TEMPORAL_TLS_SERVER_NAME'))
    .addOption(new Option('-o, --output <format>', 'table for people, json for scripts').choices(['table', 'json']).default('table'));
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT_USAGE);
  }
}

/** The SDK's TLS option from the flags; undefined for plaintext. */
export function tlsConfig(flags: ConnectionFlags): TLSConfig | undefined {
  if (Boolean(flags.tlsCertFile) !== Boolean(flags.tlsKeyFile)) throw new CliError('--tls-cert-file and --tls-key-file go together', EXIT_USAGE);
  const files = Boolean(flags.tlsCaFile || flags.tlsCertFile);
  const on = flags.tls ?? (files || Boolean(flags.apiKey));
  if (!on) {
    if (files) throw new CliError('--no-tls cannot go with --tls-ca-file or --tls-cert-file', EXIT_USAGE);
    return undefined;
  }
  return {
    ...(flags.tlsCaFile ? { serverRootCACertificate: readPem(flags.tlsCaFile, '--tls-ca-file') } : {}),
    ...(flags.tlsCertFile && flags.tlsKeyFile ? { clientCertPair: { crt: readPem(flags.tlsCertFile, '--tls-cert-file'), key: readPem(flags.tlsKeyFile, '--tls-key-file') } } : {}),
    ...(flags.tlsServerName ? { serverNameOverride: flags.tlsServerName } : {}),
  };
}

export interface Session {
  connection: Connection;
  client: Client;
  namespace: string;
}

/** Connects (failing within 5 s when nothing answers), runs `fn`, closes. */
export async function withClient<T>(flags: ConnectionFlags, fn: (session: Session) => Promise<T>): Promise<T> {
  const tls = tlsConfig(flags);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: flags.address, connectTimeout: '5s', ...(tls ? { tls } : { tls: false }), ...(flags.apiKey ? { apiKey: flags.apiKey } : {}) });
  } catch (err) {
    throw new CliError(`cannot connect to ${flags.address}${tls ? ' (TLS)' : ''}: ${failureText(err)}`);
  }
  try {
    return await fn({ connection, client: new Client({ connection, namespace: flags.namespace }), namespace: flags.namespace });
  } finally {
    await connection.close();
  }
}

/** The gRPC status of a failed call, from the error or its cause (the SDK wraps them). */
export function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** What went wrong, in one line: the server's message and its status name. */
export function failureText(err: unknown): string {
  const code = grpcCode(err);
  let message = (err as Error)?.message ?? String(err);
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const details = (e as { details?: unknown }).details;
    if (typeof details === 'string' && details) message = details;
  }
  // grpc-js prefixes "<code> <NAME>: "; the name is said once, at the end.
  message = message.replace(/^\d+ [A-Z_]+: /, '');
  return code === undefined ? message : `${message} (${status[code] ?? code})`;
}

/** Parses one --input value as JSON (the temporal CLI's convention), naming the flag when it is not. */
export function parseJsonInput(values: string[] | undefined, flag = '--input'): unknown[] {
  return (values ?? []).map((value, i) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
      throw new CliError(`${flag} #${i + 1} is not JSON: ${JSON.stringify(shown)} (a string needs quotes: --input '"text"')`, EXIT_USAGE);
    }
  });
}

/** `[...previous, value]`: a repeatable option. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

// --- Output ----------------------------------------------------------------------------------------

/** A value as one table cell. */
function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Rows as aligned columns under a header. */
export function formatTable(columns: string[], rows: unknown[][]): string {
  const cells = rows.map((row) => row.map(cell));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/** One object as `key  value` lines. */
export function formatRecord(record: Record<string, unknown>): string {
  const entries = Object.entries(record).filter(([, v]) => v !== undefined);
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n');
}

/** Prints a result: `json` as indented JSON, `table` by the command's own layout. */
export function print(format: OutputFormat, json: unknown, table: () => string): void {
  process.stdout.write(`${format === 'json' ? JSON.stringify(json, null, 2) : table()}\n`);
}
