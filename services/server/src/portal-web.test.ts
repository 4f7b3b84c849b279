import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '@hourglass/common';
import { portalWeb, portalWebSecret, webBuildExists } from './portal-web';

describe('portal web', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hourglass-portal-web-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the next-auth secret in a 0600 file and reuses it; a fresh one without a file', () => {
    const file = path.join(dir, 'state', 'portal-web-secret');
    const first = portalWebSecret(file);
    assert.ok(first.length >= 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(portalWebSecret(file), first, 'read back on the next start');
    writeFileSync(file, 'short\n');
    const replaced = portalWebSecret(file);
    assert.notEqual(replaced, 'short', 'a file too short to be a secret is replaced');
    assert.notEqual(portalWebSecret(undefined), portalWebSecret(undefined));
  });

  it('serves nothing without a web build', () => {
    assert.equal(webBuildExists(dir), false);
    const web = portalWeb({ logger: silentLogger(), secretFile: undefined, graphqlUrl: () => 'http://127.0.0.1:1/graphql', grpcAddress: '127.0.0.1:7233', tlsAddress: undefined, dir });
    assert.equal(web, undefined);
  });
});
