import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import tls from 'node:tls';
import { DEV_TLS_FILES, RENEW_WITHIN_MS, ensureDevCertificates } from './dev-certificates';

const root = mkdtempSync(path.join(os.tmpdir(), 'hourglass-dev-tls-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => path.join(root, `case-${++dirs}`, 'tls');

/**
 * Serves `cert`/`key` with Node's TLS and connects trusting `ca` only, as `servername` (an IP
 * address is checked against the certificate's IP names, a host name against its DNS names).
 * Resolves with the client's verdict: undefined when it accepted the server, else the error code.
 */
async function handshake(credentials: { cert: string; key: string }, ca: string, servername: string): Promise<string | undefined> {
  const server = tls.createServer({ cert: credentials.cert, key: credentials.key }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<string | undefined>((resolve) => {
      const isIp = /^[\d.]+$/.test(servername);
      const socket = tls.connect({ host: '127.0.0.1', port, ca, ...(isIp ? {} : { servername }), checkServerIdentity: (_host, cert) => tls.checkServerIdentity(servername, cert) });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
  } finally {
    server.close();
  }
}

describe('development TLS credentials', () => {
  it('creates a CA and a server certificate that Node verifies for localhost and 127.0.0.1, trusting the CA alone', async () => {
    const dir = freshDir();
    const dev = await ensureDevCertificates(dir);
    assert.deepEqual(dev.outcome, { ca: 'created: missing', server: 'created: missing' });
    assert.equal(dev.caFile, path.join(dir, DEV_TLS_FILES.ca));
    assert.equal(readFileSync(dev.caFile, 'utf8'), dev.ca);
    assert.equal(readFileSync(dev.certFile, 'utf8'), dev.cert);
    assert.equal(readFileSync(dev.keyFile, 'utf8'), dev.key);

    assert.equal(await handshake(dev, dev.ca, 'localhost'), undefined, 'localhost');
    assert.equal(await handshake(dev, dev.ca, '127.0.0.1'), undefined, '127.0.0.1');
    assert.ok(new X509Certificate(dev.cert).checkIP('::1'), '::1 is among its names');
    // The checks are real: another name, or a client that does not trust this CA, is refused.
    assert.equal(await handshake(dev, dev.ca, 'example.com'), 'ERR_TLS_CERT_ALTNAME_INVALID');
    const other = await ensureDevCertificates(freshDir());
    assert.equal(await handshake(dev, other.ca, 'localhost'), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');

    const ca = new X509Certificate(dev.ca);
    assert.ok(ca.ca, 'the CA certificate is a CA');
    assert.ok(!new X509Certificate(dev.cert).ca, 'the server certificate is not a CA (rustls refuses one)');
    for (const key of [DEV_TLS_FILES.caKey, DEV_TLS_FILES.key]) assert.equal(statSync(path.join(dir, key)).mode & 0o777, 0o600, `${key} is private`);
  });

  it('reuses the files on a later start, and makes a key private again', async () => {
    const dir = freshDir();
    const first = await ensureDevCertificates(dir);
    chmodSync(first.keyFile, 0o644);
    const second = await ensureDevCertificates(dir);
    assert.deepEqual(second.outcome, { ca: 'reused', server: 'reused' });
    assert.deepEqual([second.ca, second.cert, second.key], [first.ca, first.cert, first.key]);
    assert.equal(statSync(first.keyFile).mode & 0o777, 0o600);
  });

  it('issues the server certificate anew when it expires within 30 days, keeping the CA', async () => {
    const dir = freshDir();
    const first = await ensureDevCertificates(dir);
    const expiry = new Date(new X509Certificate(first.cert).validTo).getTime();

    const before = await ensureDevCertificates(dir, { now: () => new Date(expiry - RENEW_WITHIN_MS - 3600_000) });
    assert.deepEqual(before.outcome, { ca: 'reused', server: 'reused' }, 'a day more than 30 days ahead: kept');

    const later = new Date(expiry - RENEW_WITHIN_MS + 3600_000);
    const renewed = await ensureDevCertificates(dir, { now: () => later });
    assert.equal(renewed.outcome.ca, 'reused');
    assert.match(renewed.outcome.server, /^created: expires \d{4}-/);
    assert.equal(renewed.ca, first.ca);
    assert.notEqual(renewed.cert, first.cert);
    assert.notEqual(renewed.key, first.key, 'a new key too');
    const cert = new X509Certificate(renewed.cert);
    assert.ok(new Date(cert.validTo).getTime() - later.getTime() > 300 * 86_400_000, 'valid for about a year from then');
    assert.ok(cert.verify(new X509Certificate(first.ca).publicKey), 'signed by the same CA');
    assert.equal(readFileSync(renewed.certFile, 'utf8'), renewed.cert, 'written');
  });

  it('issues the server certificate anew when the CA changed, and replaces a broken pair', async () => {
    const dir = freshDir();
    const first = await ensureDevCertificates(dir);
    // Another CA in the folder (copied from elsewhere): the old server certificate is not its.
    const other = await ensureDevCertificates(freshDir());
    writeFileSync(path.join(dir, DEV_TLS_FILES.ca), other.ca);
    writeFileSync(path.join(dir, DEV_TLS_FILES.caKey), readFileSync(path.join(other.dir, DEV_TLS_FILES.caKey)));
    const moved = await ensureDevCertificates(dir);
    assert.deepEqual(moved.outcome, { ca: 'reused', server: 'created: issued by another CA' });
    assert.equal(await handshake(moved, other.ca, 'localhost'), undefined);

    // A server key that is not the certificate's (a crash between two writes, a hand edit).
    writeFileSync(path.join(dir, DEV_TLS_FILES.key), first.key);
    assert.deepEqual((await ensureDevCertificates(dir)).outcome, { ca: 'reused', server: 'created: the certificate does not match its key' });

    // An unreadable CA: a new CA, and so a new server certificate.
    writeFileSync(path.join(dir, DEV_TLS_FILES.ca), 'not a certificate');
    const fresh = await ensureDevCertificates(dir);
    assert.deepEqual(fresh.outcome, { ca: 'created: unreadable ca.pem', server: 'created: issued by another CA' });
    assert.equal(await handshake(fresh, fresh.ca, '127.0.0.1'), undefined);
  });
});
