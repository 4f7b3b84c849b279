/**
 * The frontend with the development credentials: one chain serves both listeners, and every call
 * knows which one it came in on (what authentication keys on), as the authenticator sees it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { silentLogger, temporal } from '@hourglass/common';
import { DEFAULT_FRONTEND_CONFIG, NOOP_AUTHORIZER, OPEN_NAMESPACE_POLICY, WORKFLOW_SERVICE, createFrontend, type FrontendDeps, type FrontendIdentity, type FrontendServer, type Transport } from '@hourglass/frontend';
import { ensureDevCertificates, type DevCertificates } from './dev-certificates';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hourglass-transport-'));
let dev: DevCertificates;
let frontend: FrontendServer;
const seen: Transport[] = [];

before(async () => {
  dev = await ensureDevCertificates(path.join(dir, 'tls'));
  frontend = createFrontend({
    config: { ...DEFAULT_FRONTEND_CONFIG, port: 0, tls: { port: 0, certChain: Buffer.from(dev.cert), privateKey: Buffer.from(dev.key) } },
    logger: silentLogger(),
    // GetSystemInfo is cluster-scoped: nothing behind the frontend is asked.
    history: {} as FrontendDeps['history'],
    matching: {} as FrontendDeps['matching'],
    namespaces: {} as FrontendDeps['namespaces'],
    // Authentication sees each call's transport first: record it, authenticate no one.
    identity: {
      authenticator: {
        authenticate: async (context) => {
          seen.push(context.transport);
          return undefined;
        },
      },
      authorizer: NOOP_AUTHORIZER,
      namespacePolicy: OPEN_NAMESPACE_POLICY,
      service: {} as FrontendIdentity['service'],
      devAccountId: () => undefined,
      grpcAddress: () => '',
      effectiveLimits: () => ({ rps: 1, aps: 1, maxConcurrentPolls: 1 }),
    },
  });
  await frontend.start();
});

after(async () => {
  await frontend.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** GetSystemInfo with a fresh client; resolves with the server version or rejects with the status. */
async function getSystemInfo(port: number, creds: ChannelCredentials, options: Record<string, string> = {}): Promise<string> {
  const client = new Client(`127.0.0.1:${port}`, creds, options);
  try {
    const body = await new Promise<Buffer>((resolve, reject) => {
      client.makeUnaryRequest(`/${WORKFLOW_SERVICE}/GetSystemInfo`, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), { deadline: Date.now() + 5_000 }, (err: ServiceError | null, response?: Buffer) =>
        err ? reject(err) : resolve(response as Buffer),
      );
    });
    return temporal.api.workflowservice.v1.GetSystemInfoResponse.decode(body).serverVersion;
  } finally {
    client.close();
  }
}

const trustingDevCa = (): ChannelCredentials => credentials.createSsl(Buffer.from(dev.ca));

describe('the TLS listener', () => {
  it('serves the same services through the same chain, each call knowing its transport', async () => {
    const tlsPort = frontend.tlsPort;
    assert.ok(tlsPort !== undefined && tlsPort > 0 && tlsPort !== frontend.port);
    seen.length = 0;
    assert.equal(await getSystemInfo(frontend.port, credentials.createInsecure()), DEFAULT_FRONTEND_CONFIG.serverVersion);
    assert.equal(await getSystemInfo(tlsPort, trustingDevCa()), DEFAULT_FRONTEND_CONFIG.serverVersion);
    // By name too: the certificate covers localhost.
    assert.equal(await getSystemInfo(tlsPort, trustingDevCa(), { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' }), DEFAULT_FRONTEND_CONFIG.serverVersion);
    assert.deepEqual(seen, ['plaintext', 'tls', 'tls']);
  });

  it('refuses plaintext on the TLS port and TLS on the plaintext port, before the chain', async () => {
    seen.length = 0;
    const plaintextToTls = await getSystemInfo(frontend.tlsPort!, credentials.createInsecure()).then(() => undefined, (err: ServiceError) => err);
    assert.equal(plaintextToTls?.code, status.UNAVAILABLE);
    const tlsToPlaintext = await getSystemInfo(frontend.port, trustingDevCa()).then(() => undefined, (err: ServiceError) => err);
    assert.equal(tlsToPlaintext?.code, status.UNAVAILABLE);
    // A client that does not trust the development CA does not get through either.
    const untrusting = await getSystemInfo(frontend.tlsPort!, credentials.createSsl()).then(() => undefined, (err: ServiceError) => err);
    assert.equal(untrusting?.code, status.UNAVAILABLE);
    assert.deepEqual(seen, [], 'no call reached the chain');
  });
});
