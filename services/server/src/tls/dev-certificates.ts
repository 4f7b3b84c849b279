/**
 * The development TLS credentials of `hourglass start-dev`: a local CA and a server certificate for
 * `localhost`, `127.0.0.1` and `::1` signed by it, so that an official SDK given an API key (which
 * turns TLS on) reaches a local server by trusting one file, the CA's:
 *
 * ```ts
 * const dev = await ensureDevCertificates('.hourglass/tls');
 * // dev.caFile: .hourglass/tls/ca.pem → Connection.connect({ address, tls: { serverRootCACertificate: readFileSync(dev.caFile) } })
 * ```
 *
 * The files live in one folder (`ca.pem`, `ca-key.pem`, `server.pem`, `server-key.pem`; the keys
 * readable by their owner only). A later start reuses them, so a client that trusts the CA keeps
 * working across restarts; the server certificate is issued anew when it would expire within
 * RENEW_WITHIN_MS, no longer matches its key or names, or was not signed by the CA in the folder
 * (the CA was replaced). The CA itself is replaced only when it is missing, unreadable or about to
 * expire.
 *
 * The certificates are built by @peculiar/x509 with Node's WebCrypto (ECDSA P-256, which every
 * TLS stack the SDKs use accepts, rustls included) and read back with Node's own X509Certificate;
 * no ASN.1 is written here.
 */
import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 serializers through tsyringe, which needs it first
import * as x509 from '@peculiar/x509';
import { X509Certificate, createPrivateKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** File names inside the folder; a client needs `ca` alone. */
export const DEV_TLS_FILES = { ca: 'ca.pem', caKey: 'ca-key.pem', cert: 'server.pem', key: 'server-key.pem' } as const;

/** The names every generated server certificate covers: what a local client dials. */
export const DEV_TLS_HOSTS = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] } as const;

const DAY_MS = 86_400_000;
/** A server certificate expiring sooner than this is issued anew at start. */
export const RENEW_WITHIN_MS = 30 * DAY_MS;
/** A year: well past any development session, short enough that renewal is exercised. */
const SERVER_VALIDITY_MS = 365 * DAY_MS;
/** Ten years: clients trust the CA once and keep trusting it. */
const CA_VALIDITY_MS = 10 * 365 * DAY_MS;
/** Certificates start an hour early, so a client whose clock runs a little behind still accepts them. */
const BACKDATE_MS = 3600_000;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const crypto = webcrypto;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export interface DevCertificates {
  /** The folder holding the four files. */
  dir: string;
  /** PEM of the CA certificate: what clients trust. */
  caFile: string;
  /** PEM of the server certificate. */
  certFile: string;
  /** PEM (PKCS#8) of the server certificate's key. */
  keyFile: string;
  ca: string;
  cert: string;
  key: string;
  /** What this call did with the CA and with the server certificate, and why (for the log). */
  outcome: { ca: Outcome; server: Outcome };
}

/** `reused`, or why a new one was made: `created: missing`, `created: expires 2027-01-02…`. */
export type Outcome = 'reused' | `created: ${string}`;

export interface DevCertificateOptions {
  /** The current time (tests move it). */
  now?: () => Date;
}

/** Reuses the credentials in `dir`, or makes what is missing or unusable; see the file comment. */
export async function ensureDevCertificates(dir: string, options: DevCertificateOptions = {}): Promise<DevCertificates> {
  const now = (options.now ?? (() => new Date()))();
  // The folder and the certificates stay readable (a client running as another user needs ca.pem); the keys do not.
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const files = {
    ca: path.join(dir, DEV_TLS_FILES.ca),
    caKey: path.join(dir, DEV_TLS_FILES.caKey),
    cert: path.join(dir, DEV_TLS_FILES.cert),
    key: path.join(dir, DEV_TLS_FILES.key),
  };

  const found = await readPair(files.ca, files.caKey);
  const caProblem = typeof found === 'string' ? found : problemWithCa(found, now);
  let ca: Pair | CaPair;
  if (typeof found === 'string' || caProblem !== undefined) {
    ca = await createCa(now);
    // Keys first: a crash between the writes leaves a certificate that does not match its key,
    // which the next start notices and replaces.
    await writeAtomically(files.caKey, ca.keyPem, 0o600);
    await writeAtomically(files.ca, ca.certPem, 0o644);
  } else {
    ca = found;
    await keepPrivate(files.caKey);
  }

  const existing = await readPair(files.cert, files.key);
  const serverProblem = typeof existing === 'string' ? existing : problemWithServer(existing, ca.cert, now);
  let server: Pair;
  if (typeof existing === 'string' || serverProblem !== undefined) {
    server = await createServer(ca, now);
    await writeAtomically(files.key, server.keyPem, 0o600);
    await writeAtomically(files.cert, server.certPem, 0o644);
  } else {
    server = existing;
    await keepPrivate(files.key);
  }

  return {
    dir,
    caFile: files.ca,
    certFile: files.cert,
    keyFile: files.key,
    ca: ca.certPem,
    cert: server.certPem,
    key: server.keyPem,
    outcome: { ca: caProblem === undefined ? 'reused' : `created: ${caProblem}`, server: serverProblem === undefined ? 'reused' : `created: ${serverProblem}` },
  };
}

/** A certificate with its private key, as PEM and parsed. */
interface Pair {
  certPem: string;
  keyPem: string;
  cert: X509Certificate;
  key: KeyObject;
}

/** The pair in two files, or why there is none: `missing`, `unreadable server.pem`. */
async function readPair(certFile: string, keyFile: string): Promise<Pair | string> {
  let certPem: string;
  let keyPem: string;
  try {
    [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message;
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return `unreadable ${path.basename(certFile)}`;
  }
  try {
    return { certPem, keyPem, cert, key: createPrivateKey(keyPem) };
  } catch {
    return `unreadable ${path.basename(keyFile)}`;
  }
}

function expiresSoon(cert: X509Certificate, now: Date): boolean {
  return new Date(cert.validTo).getTime() - now.getTime() < RENEW_WITHIN_MS;
}

function problemWithCa({ cert, key }: Pair, now: Date): string | undefined {
  if (!cert.checkPrivateKey(key)) return 'the certificate does not match its key';
  if (!cert.ca) return 'not a CA certificate';
  if (expiresSoon(cert, now)) return `expires ${new Date(cert.validTo).toISOString()}`;
  return undefined;
}

function problemWithServer({ cert, key }: Pair, ca: X509Certificate, now: Date): string | undefined {
  if (!cert.checkPrivateKey(key)) return 'the certificate does not match its key';
  // The CA in the folder was replaced: clients now trust the new one only.
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'issued by another CA';
  if (expiresSoon(cert, now)) return `expires ${new Date(cert.validTo).toISOString()}`;
  const uncovered = [...DEV_TLS_HOSTS.dns.filter((host) => !cert.checkHost(host)), ...DEV_TLS_HOSTS.ip.filter((ip) => !cert.checkIP(ip))];
  if (uncovered.length > 0) return `does not cover ${uncovered.join(', ')}`;
  return undefined;
}

/** A positive serial of 16 random bytes (RFC 5280: positive, at most 20 octets). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

async function keyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

interface CaPair extends Pair {
  signingKey: CryptoKey;
}

async function createCa(now: Date): Promise<CaPair> {
  const keys = await keyPair();
  const generated = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      // Unique: a client that trusts two of them (two machines, a replaced CA) must never take one
      // for the other, as name-based chain building would with equal names.
      name: `CN=Hourglass development CA ${randomBytes(6).toString('hex')}, O=Hourglass`,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + CA_VALIDITY_MS),
      keys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        // pathLength 0: it signs server certificates only, never another CA.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const certPem = generated.toString('pem');
  const keyPem = await privateKeyPem(keys.privateKey);
  return { certPem, keyPem, cert: new X509Certificate(certPem), key: createPrivateKey(keyPem), signingKey: keys.privateKey };
}

/** The CA's key as WebCrypto wants it for signing; a reused CA's comes from its PEM file. */
async function signingKey(ca: Pair | CaPair): Promise<CryptoKey> {
  if ('signingKey' in ca) return ca.signingKey;
  const der = ca.key.export({ type: 'pkcs8', format: 'der' });
  return crypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
}

async function createServer(ca: Pair | CaPair, now: Date): Promise<Pair> {
  const keys = await keyPair();
  const caCert = new x509.X509Certificate(ca.certPem);
  const generated = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: 'CN=localhost, O=Hourglass',
      // The CA's own encoded name: chain building compares issuer and subject byte for byte.
      issuer: caCert.subjectName,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + SERVER_VALIDITY_MS),
      publicKey: keys.publicKey,
      signingKey: await signingKey(ca),
      signingAlgorithm: ALGORITHM,
      extensions: [
        // rustls (the worker's TLS) refuses a CA certificate used as a server's.
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension([
          ...DEV_TLS_HOSTS.dns.map((value) => ({ type: 'dns' as const, value })),
          ...DEV_TLS_HOSTS.ip.map((value) => ({ type: 'ip' as const, value })),
        ]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false, crypto),
      ],
    },
    crypto,
  );
  const certPem = generated.toString('pem');
  const keyPem = await privateKeyPem(keys.privateKey);
  return { certPem, keyPem, cert: new X509Certificate(certPem), key: createPrivateKey(keyPem) };
}

/** Write-then-rename, so a reader (or a crash) never sees half a file. */
async function writeAtomically(file: string, content: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode });
  await chmod(temporary, mode); // the umask may have narrowed it; never widened, but be exact
  await rename(temporary, file);
}

/** A reused key file that someone made readable to others goes back to its owner only. */
async function keepPrivate(file: string): Promise<void> {
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) await chmod(file, 0o600);
}
