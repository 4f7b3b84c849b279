/**
 * The TLS credentials `start-dev` serves with: the operator's PEM files (`--tls-cert-file`,
 * `--tls-key-file`, optionally `--tls-ca-file` to name to clients), else the generated development
 * credentials: in `tls/` beside the SQLite file (`.hourglass/tls/` by default), reused across
 * starts; with `--in-memory` in a temp dir removed at stop, so tests never write into the tree.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Logger } from '@hourglass/common';
import { optionName, type DevServerConfig, type OptionKey } from '../config';

export interface ServerTls {
  certChain: Buffer;
  privateKey: Buffer;
  /** Absolute path of the certificate served. */
  certFile: string;
  /** Absolute path of the CA clients should trust: the generated one, or `--tls-ca-file`; undefined when neither. */
  caFile: string | undefined;
  /** Whether these are generated development credentials. */
  generated: boolean;
  /** Removes what only this process needed (the temp dir of an in-memory server). */
  dispose(): Promise<void>;
}

/** Where generated credentials live for a server on this store: `tls/` beside the SQLite file. */
export function devTlsDir(config: DevServerConfig): string {
  return path.resolve(path.dirname(config.dbFilename), 'tls');
}

/** The credentials of the TLS listener; undefined when TLS is off. Errors name the option at fault. */
export async function resolveServerTls(config: DevServerConfig, logger: Logger): Promise<ServerTls | undefined> {
  if (!config.tls) return undefined;
  if (config.tlsCertFile) return operatorTls(config);
  const temporary = config.inMemory ? await mkdtemp(path.join(os.tmpdir(), 'hourglass-tls-')) : undefined;
  const dispose = async (): Promise<void> => {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  };
  try {
    // Loaded only here: @peculiar/x509 installs the reflect-metadata polyfill, which a process that
    // generates nothing (--no-tls, the embedded TestEnvironment, your own certificate) need not carry.
    const { ensureDevCertificates } = await import('./dev-certificates.js');
    const dev = await ensureDevCertificates(temporary ?? devTlsDir(config));
    logger.info({ dir: dev.dir, ca: dev.outcome.ca, serverCertificate: dev.outcome.server }, 'development TLS credentials');
    return { certChain: Buffer.from(dev.cert), privateKey: Buffer.from(dev.key), certFile: dev.certFile, caFile: dev.caFile, generated: true, dispose };
  } catch (err) {
    await dispose();
    throw new Error(`cannot prepare the development TLS credentials in ${temporary ?? devTlsDir(config)}: ${(err as Error).message}`);
  }
}

async function operatorTls(config: DevServerConfig): Promise<ServerTls> {
  const read = async (key: OptionKey, file: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InvalidArgumentError(`cannot read ${optionName(key)} ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  };
  const [certChain, privateKey] = await Promise.all([read('tlsCertFile', config.tlsCertFile), read('tlsKeyFile', config.tlsKeyFile)]);
  // Checked here, where the option can be named: grpc-js would only say that the handshake failed.
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certChain);
  } catch {
    throw new InvalidArgumentError(`${optionName('tlsCertFile')} ${config.tlsCertFile}: not a PEM certificate`);
  }
  let key;
  try {
    key = createPrivateKey(privateKey);
  } catch {
    throw new InvalidArgumentError(`${optionName('tlsKeyFile')} ${config.tlsKeyFile}: not a PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new InvalidArgumentError(`${optionName('tlsKeyFile')} ${config.tlsKeyFile} is not the key of ${optionName('tlsCertFile')} ${config.tlsCertFile}`);
  }
  if (config.tlsCaFile) {
    try {
      new X509Certificate(await read('tlsCaFile', config.tlsCaFile));
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw err;
      throw new InvalidArgumentError(`${optionName('tlsCaFile')} ${config.tlsCaFile}: not a PEM certificate`);
    }
  }
  return {
    certChain,
    privateKey,
    certFile: path.resolve(config.tlsCertFile),
    caFile: config.tlsCaFile ? path.resolve(config.tlsCaFile) : undefined,
    generated: false,
    dispose: async () => undefined,
  };
}
